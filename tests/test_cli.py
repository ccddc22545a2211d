"""Every command documents its options with their defaults, and `handsign SUBCOMMAND` is each of them.

The parsers are checked in one process (one import of TensorFlow for all the training commands): each
command's own ``main(["--help"])``, once as ``python -m MODULE`` and once as ``handsign NAME``."""

import json
import re

import pytest

from conftest import python

COMMANDS = ["realtime.run", "realtime.bench", "realtime.evaluate", "training.train", "training.evaluate",
            "training.explore", "training.predict", "training.bench", "training.pseudolabel", "export",
            "export.bench", "realtime.teach", "realtime.reference", "export.features", "training.shards",
            "training.probe", "realtime.evaluate_events", "training.landmark_head",
            "realtime.evaluate_pointer", "realtime.scorecard", "realtime.autostart", "realtime.pointer_test"]

HELP_TEXTS = r'''
import contextlib, importlib, io, json, sys
import realtime.core.cli as cli
from handsign.cli import COMMANDS as SUBCOMMANDS

def help_of(module, name=None):
    mod = importlib.import_module("export.__main__" if module == "export" else module)
    cli.COMMAND_NAME = name
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            mod.main(["--help"])
            code = None
        except SystemExit as exc:
            code = exc.code
    return {"code": code, "text": out.getvalue()}

modules = json.loads(sys.argv[1])
result = {"direct": {m: help_of(m) for m in modules},
          "handsign": {n: dict(help_of(m, f"handsign {n}"), module=m) for n, (m, _, _) in SUBCOMMANDS.items()}}
print("HELP " + json.dumps(result))
'''


@pytest.fixture(scope="module")
def help_texts() -> dict:
    result = python("-c", HELP_TEXTS, json.dumps(COMMANDS))
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(l for l in result.stdout.splitlines() if l.startswith("HELP "))
    return json.loads(line[5:])


def options_of(help_text: str) -> set[str]:
    return set(re.findall(r"^\s+(--[a-z][a-z0-9-]*)", help_text, re.M))


@pytest.mark.parametrize("module", COMMANDS)
def test_help_lists_every_option_with_its_default(help_texts, module):
    got = help_texts["direct"][module]
    assert got["code"] in (0, None), got
    text = got["text"]
    assert text.startswith("usage: python -m " + module)
    options = options_of(text) - {"--help"}
    assert options
    # argparse's ArgumentDefaultsHelpFormatter appends "(default: ...)" to every option with help text
    blocks = re.split(r"\n(?=\s{2}-)", text)
    for block in blocks:
        names = re.findall(r"^\s+(--[a-z][a-z0-9-]*)", block, re.M)
        if names and names[0] != "--help":
            assert "(default:" in " ".join(block.split()), block


def test_handsign_subcommands_are_the_modules_commands(help_texts):
    subcommands = help_texts["handsign"]
    # every `python -m` command is a subcommand, and nothing else is
    assert {s["module"] for s in subcommands.values()} == set(COMMANDS)
    for name, got in subcommands.items():
        assert got["code"] in (0, None), (name, got)
        direct = help_texts["direct"][got["module"]]["text"]
        # the same options, under the command's own name
        assert got["text"].startswith(f"usage: handsign {name} "), name
        assert options_of(got["text"]) == options_of(direct) and options_of(direct), name
    bad = python("-m", "handsign", "run", "--no-such-option")
    assert bad.returncode == 2 and "see handsign run --help" in bad.stderr
    listing = python("-m", "handsign", "--help")
    assert listing.returncode == 0 and all(f"  {name} " in listing.stdout for name in subcommands)


@pytest.mark.parametrize("command, old, new, field", [("realtime.run", "--cam", "--activation-map", "activation_map"),
                                                       ("realtime.bench", "--cam", "--activation-map",
                                                        "activation_map")])
def test_a_renamed_option_keeps_its_old_name_with_a_warning(capsys, command, old, new, field):
    import importlib
    parse_args = importlib.import_module(command).parse_args
    extra = ["--source", "clip.mp4"] if command == "realtime.bench" else ["--headless"]
    assert getattr(parse_args(extra + [new]), field) is True
    assert "old name" not in capsys.readouterr().err
    assert getattr(parse_args(extra + [old]), field) is True
    assert f"warning: {old} is an old name of {new}" in capsys.readouterr().err
    assert getattr(parse_args(extra), field) is False
