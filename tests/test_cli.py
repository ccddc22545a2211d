"""Every command documents its options with their defaults."""

import re

import pytest

from conftest import python

COMMANDS = ["realtime.run", "realtime.bench", "realtime.evaluate", "training.train", "training.evaluate",
            "training.explore", "training.predict", "training.bench", "training.pseudolabel", "export",
            "export.bench", "realtime.teach", "realtime.reference", "export.features", "training.shards"]


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
