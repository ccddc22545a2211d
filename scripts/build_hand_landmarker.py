"""Rebuild models/hand_landmarker.task from the tflite files inside the mediapipe 0.10.21 wheel.

mediapipe >= 0.10.30 ships no hand model, and the Tasks HandLandmarker needs a
``hand_landmarker.task`` bundle. Google publishes one on its storage bucket; to work offline and
reproducibly we bundle the same two networks from the last wheel that carried them:

    palm_detection_full.tflite -> hand_detector.tflite
    hand_landmark_full.tflite  -> hand_landmarks_detector.tflite

(the lite palm model lacks the metadata the Tasks graph needs). ``--variant lite`` bundles
``hand_landmark_lite.tflite`` instead of the full landmark model, with the same palm detector:
``models/hand_landmarker_lite.task``, the faster `--hand-model lite`. Licence: Apache-2.0 (MediaPipe).

    python scripts/build_hand_landmarker.py            # downloads the wheel with pip
    python scripts/build_hand_landmarker.py --variant lite
    python scripts/build_hand_landmarker.py --wheel mediapipe-0.10.21-...whl
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WHEEL_VERSION = "0.10.21"
MEMBERS = {
    "hand_detector.tflite": "mediapipe/modules/palm_detection/palm_detection_full.tflite",
    "hand_landmarks_detector.tflite": "mediapipe/modules/hand_landmark/hand_landmark_full.tflite",
}


def download_wheel(folder: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", f"mediapipe=={WHEEL_VERSION}", "--no-deps",
           "--only-binary=:all:", "--python-version", "3.11", "--platform", "manylinux_2_28_x86_64",
           "-d", str(folder), "-q"]
    subprocess.run(cmd, check=True)
    return next(folder.glob(f"mediapipe-{WHEEL_VERSION}-*.whl"))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--wheel", type=Path, help=f"a local mediapipe=={WHEEL_VERSION} wheel (default: pip download)")
    p.add_argument("--variant", choices=("full", "lite"), default="full",
                   help="landmark model: full, or lite (faster) (default: %(default)s)")
    p.add_argument("--out", type=Path, default=None,
                   help="bundle to write (default: models/hand_landmarker.task, or models/hand_landmarker_lite.task)")
    args = p.parse_args()
    if args.out is None:
        args.out = ROOT / "models" / ("hand_landmarker.task" if args.variant == "full" else "hand_landmarker_lite.task")
    members = dict(MEMBERS)
    if args.variant == "lite":
        members["hand_landmarks_detector.tflite"] = "mediapipe/modules/hand_landmark/hand_landmark_lite.tflite"
    from mediapipe.tasks.python.metadata.metadata_writers import model_asset_bundle_utils as bundle
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(Path(tmp))
        with zipfile.ZipFile(wheel) as zf:
            models = {name: zf.read(member) for name, member in members.items()}
    # create_model_asset_bundle() stamps the current time into the zip; a fixed date makes the
    # bundle byte-for-byte reproducible, with the same aligned, uncompressed layout.
    with bundle.AlignZipFile(args.out, mode="w", alignment=bundle._ALIGNMENT) as zf:
        for name, data in models.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(2025, 1, 31, 0, 0, 0)), data)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    for name, data in models.items():
        print(f"{name}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes, sha256 {digest})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
