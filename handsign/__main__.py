"""``python -m handsign``: the same as the ``handsign`` command."""

from handsign.cli import main

raise SystemExit(main())
