"""The import rules of docs/architecture.md, as a check that fails: every import statement of the
project's packages (module level and inside functions) is read from the source with ``ast``."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

#: realtime's rooms, by floor: a room imports only rooms on lower floors (and itself)
FLOORS = {"core": 0, "hands": 1, "classifier": 1, "events": 1, "desktop": 1, "teaching": 2, "actions": 2, "live": 3,
          "evaluation": 4}
#: rooms on a higher floor that still must not import a lower one
FORBIDDEN_ROOMS = {("live", "actions")}
#: what training/ and export/ may take from realtime
TRAINING_MAY_USE = {"core", "classifier", "evaluation", "teaching"}
#: imported nowhere in realtime (it installs and runs without them)
NOT_IN_REALTIME = {"tensorflow", "keras", "tf2onnx", "training", "export", "handsign"}
PACKAGES = ("realtime", "training", "export", "handsign")


def imports_of(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, dotted module) of every import in a file; relative imports resolved against ``package``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            found += [(node.lineno, f"{base}.{a.name}" if a.name != "*" else base) for a in node.names]
    return found


def where(module: str, commands: set[str]) -> tuple[str, str | None]:
    """(top package, realtime room or 'command' or None) of a dotted module name."""
    parts = module.split(".")
    if parts[0] != "realtime" or len(parts) == 1:
        return parts[0], None
    if parts[1] in commands:
        return "realtime", "command"
    return "realtime", parts[1] if parts[1] in FLOORS else None


def broken_rules(root: Path) -> list[str]:
    """Every import under ``root`` that breaks a rule, as 'file:line: what'."""
    commands = {p.stem for p in (root / "realtime").glob("*.py") if p.stem != "__init__"}
    problems = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root)
            dotted = ".".join(rel.with_suffix("").parts)
            own_top, own_room = where(dotted, commands)
            if own_room is None and own_top == "realtime" and path.parent != root / "realtime":
                continue  # realtime.models / realtime.web hold no code
            for line, module in imports_of(path, ".".join(rel.parent.parts)):
                top, room = where(module, commands)
                here = f"{rel}:{line}: imports {module}"
                if own_top == "realtime":
                    if top in NOT_IN_REALTIME:
                        problems.append(f"{here} (realtime never imports {top})")
                    elif room == "command" and own_room != "command" or room == "command" and module != dotted \
                            and own_room == "command":
                        problems.append(f"{here} (no module imports a command module)")
                    elif own_room in FLOORS and room in FLOORS and room != own_room and (
                            FLOORS[room] >= FLOORS[own_room] or (own_room, room) in FORBIDDEN_ROOMS):
                        problems.append(f"{here} ({own_room}/ is on floor {FLOORS[own_room]}, {room}/ on "
                                        f"floor {FLOORS[room]}: imports only go down)")
                elif own_top in ("training", "export") and top == "realtime":
                    if room not in TRAINING_MAY_USE:
                        problems.append(f"{here} ({own_top}/ may use realtime's "
                                        f"{', '.join(sorted(TRAINING_MAY_USE))} only)")
                elif own_top in ("training", "export") and top == "handsign":
                    problems.append(f"{here} ({own_top}/ does not import {top})")
    return problems


def test_the_import_rules_hold_on_the_project():
    assert broken_rules(ROOT) == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name in ("realtime/__init__.py", "realtime/core/__init__.py", "realtime/events/__init__.py",
                 "realtime/live/__init__.py", "realtime/actions/__init__.py", "realtime/run.py",
                 "training/__init__.py", "export/__init__.py", "handsign/__init__.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def test_the_check_fails_on_wrong_imports(tmp_path):
    root = _tree(tmp_path, {
        "realtime/core/a.py": "from realtime.events import x\n",           # up a floor
        "realtime/live/b.py": "def f():\n    import realtime.actions.y\n",  # live -> actions, inside a function
        "realtime/events/c.py": "from ..run import main\n",                 # a command, relative
        "realtime/actions/d.py": "import tensorflow as tf\n",               # TensorFlow in realtime
        "training/e.py": "from realtime.live import LiveLoop\n",            # training into live
        "realtime/live/ok.py": "from realtime.events import x\nfrom . import sinks\n",  # allowed
    })
    problems = broken_rules(root)
    assert [p.split(":")[0] for p in problems] == ["realtime/actions/d.py", "realtime/core/a.py",
                                                    "realtime/events/c.py", "realtime/live/b.py", "training/e.py"]
    assert "imports only go down" in problems[1] and "command module" in problems[2]
    assert ":2: imports realtime.actions.y" in problems[3]


#: the modules that declare option groups shared by commands, and so read a parsed Namespace
OPTION_GROUP_MODULES = {"realtime/core/cli.py", "realtime/live/options.py"}


def namespaces_below_commands(root: Path) -> list[str]:
    """Library modules (in a room, not a command) that name ``argparse.Namespace``: none may take one."""
    found = []
    for package in ("realtime", "training"):
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root)
            if len(rel.parts) < 3 or rel.as_posix() in OPTION_GROUP_MODULES:
                continue  # commands sit at the top of their package
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Attribute) and node.attr == "Namespace":
                    found.append(f"{rel}:{node.lineno}")
    return found


def test_no_library_function_takes_an_argparse_namespace(tmp_path):
    assert namespaces_below_commands(ROOT) == []
    root = _tree(tmp_path, {"realtime/events/x.py": "import argparse\n\ndef f(a: argparse.Namespace): ...\n",
                            "realtime/run.py": "import argparse\n\ndef g(a: argparse.Namespace): ...\n"})
    assert namespaces_below_commands(root) == ["realtime/events/x.py:3"]


def test_every_package_of_the_tree_is_in_the_wheel():
    """pyproject's explicit package list names every folder with an ``__init__.py`` (a new room left out
    installs fine with -e and breaks the wheel)."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for top in PACKAGES for p in (ROOT / top).rglob("__init__.py")}
    assert found - listed == set()
