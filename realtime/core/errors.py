"""The one base class for problems a user can fix: CLIs print them as one line and exit 2."""


class HandSignError(Exception):
    """A bad input, file or environment, reported to the user without a traceback."""
