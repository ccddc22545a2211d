"""Every command line in README.md and docs/*.md still works: each ``python -m MODULE`` and ``handsign
SUBCOMMAND`` names a command of this project, and each ``--option`` on that line is one of its options
(read from the command's own ``--help``)."""

from __future__ import annotations

import contextlib
import importlib
import io
import re
from functools import cache
from pathlib import Path

from handsign.cli import COMMANDS

from conftest import ROOT

OURS = ("realtime.", "training.", "export")
#: `python -m MODULE rest` or `handsign SUBCOMMAND rest`; the rest ends at a pipe, a redirect, `&&`,
#: `;`, a closing backtick or the end of the line
COMMAND = re.compile(r"(?:python3? -m ([a-z_.]+)|(?<![\w/.-])handsign ([a-z][a-z-]*))([^`|;>&\n]*)")
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")
#: commands that pass the options after ` -- ` on to another command
PASSES_ON = {"realtime.autostart": "realtime.run"}


def doc_pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def command_lines() -> list[tuple[str, str, list[str]]]:
    """(where, module, options) of every command line of ours in the docs."""
    found = []
    for page in doc_pages():
        for number, line in enumerate(page.read_text().splitlines(), 1):
            for module, sub, rest in COMMAND.findall(line):
                if sub:
                    module = COMMANDS[sub][0] if sub in COMMANDS else f"handsign {sub}"
                if not sub and not module.startswith(OURS):
                    continue  # python -m pip, pytest, venv ...
                where = f"{page.relative_to(ROOT)}:{number}"
                if module in PASSES_ON and " -- " in f"{rest} ":
                    rest, passed = f"{rest} ".split(" -- ", 1)
                    found.append((where, PASSES_ON[module], OPTION.findall(passed)))
                found.append((where, module, OPTION.findall(rest)))
    return found


@cache
def help_text(module: str) -> str | None:
    """The command's --help, or None if the module has no command."""
    try:
        target = importlib.import_module("export.__main__" if module == "export" else module)
    except ModuleNotFoundError:
        return None
    if not hasattr(target, "main"):
        return None
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        target.main(["--help"])
    return out.getvalue()


def test_the_docs_name_commands_at_all():
    modules = {m for _, m, _ in command_lines()}
    assert {"realtime.run", "realtime.bench", "training.train", "export"} <= modules


def test_every_documented_command_and_option_exists():
    missing = []
    for where, module, options in command_lines():
        text = help_text(module)
        if text is None:
            missing.append(f"{where}: no command {module}")
            continue
        missing += [f"{where}: {module} has no option {o}" for o in options
                    if not re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", text)]
    assert missing == []


def test_the_check_sees_a_wrong_option_and_a_wrong_command(tmp_path, monkeypatch):
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text("`python -m realtime.run --camera 0 --no-such-option`\n")
    (tmp_path / "docs" / "x.md").write_text("    handsign frobnicate --fast\n    python -m realtime.nothing\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    lines = command_lines()
    assert [(w, m, o) for w, m, o in lines] == [
        ("README.md:1", "realtime.run", ["--camera", "--no-such-option"]),
        ("docs/x.md:1", "handsign frobnicate", ["--fast"]), ("docs/x.md:2", "realtime.nothing", [])]
    assert "--camera" in help_text("realtime.run") and "--no-such-option" not in help_text("realtime.run")
    assert help_text("realtime.nothing") is None
