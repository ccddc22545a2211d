"""Expose a HandSign model's backbone features (needed to teach it gestures) and its last feature
map (class activation maps) as extra outputs.

    python -m export.features models/handsign.onnx              # in place
    python -m export.features old.onnx --out old_features.onnx

Models exported by `python -m export` already have them; this upgrades older files. The
probabilities are unchanged: the same graph, more outputs named in the metadata. A model whose
features are not a global average of a feature map gets the features only.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

import onnx

from realtime.classifier.graph import expose_feature_map, expose_features
from realtime.classifier.model import FeaturesUnavailable, GestureClassifier
from realtime.core.cli import ArgumentParser, HelpFormatter, run_main, setup_logging
from realtime.core.errors import HandSignError
from realtime.core.outputs import write_bytes_atomic

log = logging.getLogger("export.features")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m export.features", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("model", type=Path, help="HandSign .onnx model")
    p.add_argument("--out", type=Path, default=None, help="file to write (default: replace MODEL)")
    p.add_argument("--verbose", action="store_true", help="debug logging")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.verbose)
    GestureClassifier(args.model)  # a loadable HandSign model, or a one-line error
    try:
        proto = expose_features(onnx.load(str(args.model)))
        try:
            proto = expose_feature_map(proto)
        except FeaturesUnavailable as exc:
            log.warning("no feature map: %s", exc)
    except onnx.checker.ValidationError as exc:
        raise HandSignError(f"{args.model}: the changed graph does not validate: {exc}") from None
    out = args.out or args.model
    write_bytes_atomic(out, proto.SerializeToString())
    print(f"wrote {out}: {GestureClassifier(out)!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
