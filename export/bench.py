"""Classifier latency: our ONNX gesture model next to the peer HaGRID crop classifier, same run.

Prints median and p95 latency for batch 1 and 2 at 1 and 2 threads, and the ratio to the peer.

    python -m export.bench --model models/handsign.onnx
    python -m export.bench --untrained efficientnet_b0 --image-size 160   # no trained model needed
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort

from realtime.classifier.model import GestureClassifier, session_options
from realtime.core.cli import ArgumentParser, HelpFormatter, positive_int, run_main, setup_logging
from realtime.core.contract import DEFAULT_IMAGE_SIZE
from realtime.core.errors import HandSignError
from realtime.core.paths import PEER_CLASSIFIER
from realtime.core.timing import time_calls

log = logging.getLogger("export.bench")


def untrained_model(arch: str, image_size: int, labels: int, folder: Path) -> Path:
    """Export an untrained model of the shipped architecture: same graph, same latency."""
    import onnx

    import export  # noqa: F401
    from export.convert import attach_contract, to_onnx
    from realtime.core.contract import ModelContract
    from training.models.builder import build_model

    model = build_model(arch, labels, image_size, weights="none")
    names = tuple(f"class{i}" for i in range(labels))
    proto = attach_contract(to_onnx(model), ModelContract(labels=names, image_size=image_size,
                                                          extra={"arch": arch, "untrained": "true"}))
    path = folder / f"untrained_{arch}_{image_size}.onnx"
    onnx.save(proto, str(path))
    return path


def peer_runner(path: Path, threads: int):
    """The peer's session and a batch maker from its JSON contract (NCHW, 128px, normalised)."""
    info = json.loads(path.with_suffix(".json").read_text()) if path.with_suffix(".json").is_file() else {}
    sess = ort.InferenceSession(str(path), sess_options=session_options(threads),
                                providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    size = int(inp.shape[2]) if isinstance(inp.shape[2], int) else 128
    rng = np.random.default_rng(0)

    def batch(n: int) -> np.ndarray:
        return ((rng.uniform(0, 255, (n, 3, size, size)) - 127) / 128).astype(np.float32)

    return sess, inp.name, batch, info.get("input", f"NCHW {size}x{size}")


def main(argv: Sequence[str] | None = None) -> int:
    p = ArgumentParser(prog="python -m export.bench", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--model", type=Path, default=None, help="HandSign ONNX model to time")
    p.add_argument("--untrained", choices=("efficientnet_b0", "efficientnet_lite0", "baseline"), default=None,
                   help="time an untrained export of this architecture instead of --model (needs the train extra)")
    p.add_argument("--image-size", type=positive_int, default=DEFAULT_IMAGE_SIZE, help="input size for --untrained")
    p.add_argument("--peer", type=Path, default=PEER_CLASSIFIER, help="peer ONNX classifier (skipped if missing)")
    p.add_argument("--repeats", type=positive_int, default=100, help="timed runs per setting")
    p.add_argument("--verbose", action="store_true", help="debug logging")
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    logging.getLogger("tf2onnx").setLevel(logging.WARNING)
    if (args.model is None) == (args.untrained is None):
        raise HandSignError("pass either --model FILE.onnx or --untrained ARCH")
    with tempfile.TemporaryDirectory() as tmp:
        path = args.model or untrained_model(args.untrained, args.image_size, 18, Path(tmp))
        ours = {t: GestureClassifier(path, threads=t) for t in (1, 2)}
        c = ours[1].contract
        peer = {t: peer_runner(args.peer, t) for t in (1, 2)} if args.peer and args.peer.is_file() else None
        print(f"ours: {path.name} ({c.image_size}x{c.image_size} NHWC, {len(c.labels)} labels, "
              f"{path.stat().st_size / 1e6:.1f} MB)")
        if peer:
            print(f"peer: {args.peer.name} ({peer[1][3]}, {args.peer.stat().st_size / 1e6:.1f} MB)")
        else:
            print("peer: not found, skipped")
        print(f"{'batch':>5} {'threads':>7} | {'ours median':>11} {'p95':>7} | {'peer median':>11} {'p95':>7} | ratio")
        rng = np.random.default_rng(0)
        for n in (1, 2):
            x = rng.uniform(0, 255, (n, c.image_size, c.image_size, 3)).astype(np.float32)
            for t in (1, 2):
                med, p95 = time_calls(lambda t=t, x=x: ours[t].predict_batch(x), args.repeats)
                line = f"{n:>5} {t:>7} | {med:>8.2f} ms {p95:>7.2f} |"
                if peer:
                    sess, name, make, _ = peer[t]
                    xb = make(n)
                    pmed, pp95 = time_calls(lambda s=sess, k=name, v=xb: s.run(None, {k: v}), args.repeats)
                    line += f" {pmed:>8.2f} ms {pp95:>7.2f} | {med / pmed:5.2f}x"
                print(line)
        crop = rng.integers(0, 255, (240, 240, 3), dtype=np.uint8)
        med, p95 = time_calls(lambda: ours[2].predict([crop]), args.repeats)
        print(f"ours end to end (240px BGR crop -> preprocess -> probabilities, 2 threads): "
              f"median {med:.2f} ms, p95 {p95:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
