"""ruff, with the configuration in pyproject.toml ([tool.ruff]), over the whole project."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_ruff_finds_nothing_in_the_project():
    result = ruff(".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_with_this_configuration_catches_what_it_is_there_for(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nimport sys\n\n\ndef f(xs=[]):\n    return xs\n")
    result = ruff("--config", str(ROOT / "pyproject.toml"), str(bad))
    assert result.returncode == 1
    found = {line.split()[1] for line in result.stdout.splitlines() if line.startswith(str(bad))}
    assert {"F401", "B006"} <= found, result.stdout


def undocumented(root) -> list[str]:
    """Public classes, functions and methods of the rooms of realtime/ and training/ without a docstring."""
    import ast
    missing = []
    for path in sorted([*(root / "realtime").rglob("*.py"), *(root / "training").rglob("*.py")]):
        rel = path.relative_to(root)
        if len(rel.parts) < 3:
            continue  # the commands: their docstring is the module's, shown by --help

        def walk(body, prefix="", rel=rel):
            for node in body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                        and not node.name.startswith("_"):
                    if not ast.get_docstring(node):
                        missing.append(f"{rel}:{node.lineno}: {prefix}{node.name}")
                    if isinstance(node, ast.ClassDef):
                        walk(node.body, f"{node.name}.", rel)

        walk(ast.parse(path.read_text()).body)
    return missing


def test_every_public_class_and_function_of_the_rooms_says_what_it_is(tmp_path):
    assert undocumented(ROOT) == []
    (tmp_path / "realtime" / "events").mkdir(parents=True)
    (tmp_path / "realtime" / "events" / "x.py").write_text(
        'class A:\n    """Documented."""\n\n    def f(self):\n        return 1\n\n    def _g(self):\n        pass\n')
    assert undocumented(tmp_path) == ["realtime/events/x.py:4: A.f"]
