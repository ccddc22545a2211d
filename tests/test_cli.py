"""Every command documents its options with their defaults."""

import re

import pytest

from conftest import python

COMMANDS = ["realtime.run", "realtime.bench", "realtime.evaluate", "training.train", "training.evaluate",
            "training.explore", "training.predict", "training.bench", "training.pseudolabel", "export",
            "export.bench", "realtime.teach", "realtime.reference", "export.features", "training.shards",
            "training.probe"]


def options_of(help_text: str) -> set[str]:
    return set(re.findall(r"^\s+(--[a-z][a-z0-9-]*)", help_text, re.M))


@pytest.mark.parametrize("module", COMMANDS)
def test_help_lists_every_option_with_its_default(module):
    result = python("-m", module, "--help")
    assert result.returncode == 0, result.stderr[-2000:]
    text = result.stdout
    assert text.startswith("usage: python -m " + module)
    options = set(re.findall(r"^\s+(--[a-z][a-z0-9-]*)", text, re.M)) - {"--help"}
    assert options
    # argparse's ArgumentDefaultsHelpFormatter appends "(default: ...)" to every option with help text
    blocks = re.split(r"\n(?=\s{2}-)", text)
    for block in blocks:
        names = re.findall(r"^\s+(--[a-z][a-z0-9-]*)", block, re.M)
        if names and names[0] != "--help":
            assert "(default:" in " ".join(block.split()), block


def test_handsign_subcommands_are_the_modules_commands():
    from handsign.cli import COMMANDS as SUBCOMMANDS
    assert {m for m, _, _ in SUBCOMMANDS.values()} <= set(COMMANDS)
    for name, (module, _, _) in SUBCOMMANDS.items():
        result = python("-m", "handsign", name, "--help")
        assert result.returncode == 0, (name, result.stderr[-2000:])
        direct = python("-m", module, "--help").stdout
        # the same options, under the command's own name
        assert result.stdout.startswith(f"usage: handsign {name} "), name
        assert options_of(result.stdout) == options_of(direct) and options_of(direct), name
    bad = python("-m", "handsign", "run", "--no-such-option")
    assert bad.returncode == 2 and "see handsign run --help" in bad.stderr
