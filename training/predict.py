"""Top-3 gestures for image files with a trained model (.keras run model or exported .onnx).

    python -m training.predict --model models/handsign.onnx crop1.jpg crop2.jpg
    python -m training.predict --model models/handsign.onnx --photos photo.jpg

Images are classified whole (hand crops, like the training images), or with --photos, as the live
tool sees them: hands found by the tracker (small ones too, in overlapping tiles, unless
--no-tiles), each cut by the model's crop contract and classified.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from realtime.classifier.activation import ActivationMaps, overlay_map
from realtime.core.cli import ArgumentParser, HelpFormatter, positive_int, renamed, run_main, setup_logging
from realtime.core.contract import prepare_image
from realtime.core.errors import HandSignError
from realtime.core.images import ImageReadError, read_bgr
from realtime.core.outputs import prepare_out_dir, write_bytes_atomic
from training.models.inference import Predictor


def top_k(probs: np.ndarray, labels: Sequence[str], k: int = 3) -> list[tuple[str, float]]:
    order = np.argsort(probs)[::-1][:k]
    return [(labels[i], float(probs[i])) for i in order]


def main(argv: Sequence[str] | None = None) -> int:
    p = ArgumentParser(prog="python -m training.predict", description=__doc__,
                                formatter_class=HelpFormatter)
    p.add_argument("--model", required=True, type=Path, help=".keras run model or exported .onnx")
    p.add_argument("--top", type=positive_int, default=3, help="classes listed per image")
    p.add_argument("--photos", action="store_true",
                   help="the images are photos: find the hands first and classify each hand's crop")
    p.add_argument("--max-hands", type=positive_int, default=2, help="with --photos: hands looked for per photo")
    p.add_argument("--no-tiles", action="store_true",
                   help="with --photos: do not search overlapping tiles for small hands")
    p.add_argument("--activation-maps", "--cam", type=Path, default=None, metavar="DIR", action=renamed("--cam"),
                   help="also write, per crop, DIR/<image>[_<hand>]_cam.png: the crop the model saw beside where it "
                        "looked for its top class (class activation map; occlusion for models without one; .onnx "
                        "only); --cam is its old name")
    p.add_argument("images", nargs="+", type=Path, help="image files")
    args = p.parse_args(argv)
    setup_logging()
    predictor = Predictor(args.model)
    maps = None
    if args.activation_maps is not None:
        if predictor.onnx is None:
            raise HandSignError(f"--activation-maps needs an exported .onnx model (python -m export), not {args.model}")
        maps = ActivationMaps(predictor.onnx)
        prepare_out_dir(args.activation_maps)
    tracker = None
    if args.photos:
        from realtime.evaluation.live_path import photo_hands
        tracker = photo_hands(args.max_hands, tiles=not args.no_tiles)
    failures = 0
    try:
        for path in args.images:
            try:
                image = read_bgr(path)
            except ImageReadError as exc:
                print(f"error: {exc}", file=sys.stderr)
                failures += 1
                continue
            if tracker is None:
                print(f"{path}: {ranked(predictor.predict([image])[0], predictor.labels, args.top)}")
                if maps is not None:
                    out = args.activation_maps / f"{path.stem}_cam.png"
                    print(f"  where it looked: {write_cam(maps, image, out)}")
                continue
            c = predictor.contract
            hands = tracker.detect(image)
            crops = [h.crop(image, c.crop_margin, c.crop_framing)[0] for h in hands]
            if not crops:
                print(f"{path}: no hand found")
            for i, (hand, probs) in enumerate(zip(hands, predictor.predict(crops))):
                print(f"{path} {hand.handedness.lower()} hand at {list(hand.box(c.crop_margin, c.crop_framing))}: "
                      f"{ranked(probs, predictor.labels, args.top)}")
                if maps is not None:
                    out = args.activation_maps / f"{path.stem}_{i}_cam.png"
                    print(f"  where it looked: {write_cam(maps, crops[i], out)}")
    finally:
        if tracker is not None:
            tracker.close()
    return 1 if failures else 0


def write_cam(maps: ActivationMaps, crop_bgr: np.ndarray, out: Path) -> Path:
    """The crop as the model saw it beside its activation map for the top class, as one PNG."""
    c = maps.classifier.contract
    _, (heat,) = maps.maps([crop_bgr])
    view = prepare_image(crop_bgr, c.image_size, "BGR", c.resize_method)
    ok, png = cv2.imencode(".png", np.hstack([view, overlay_map(view, heat)]))
    write_bytes_atomic(out, png.tobytes())
    return out


def ranked(probs: np.ndarray, labels: Sequence[str], k: int) -> str:
    return ", ".join(f"{name} {score:.3f}" for name, score in top_k(probs, labels, k))


if __name__ == "__main__":
    raise SystemExit(run_main(main))
