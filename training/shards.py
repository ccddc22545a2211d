"""Write a folder-per-class data set as TFRecord shards, already cut by the contract, per split.

    python -m training.shards --data data/hagrid --out shards/hagrid_160 --image-size 160

Each image goes through the contract's `prepare_image` (grey-padded to square, resized, RGB) once,
here, and is stored as raw pixels (or lossless PNG with --encoding png), with its label and
relative path. `training.train --data SHARD_DIR` then reads the shards with interleaved parallel
reads; under multi-worker training each worker reads its own files, and nothing holds the whole
set in RAM. Finished shards are kept when a run is interrupted and skipped when it is restarted
with the same settings. The manifest (`manifest.json`, written last) lists every shard with its
image count; `split.json` is the split, as `training.train` writes it for folder data.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from realtime.core.cli import ArgumentParser, HelpFormatter, run_main, setup_logging
from realtime.core.contract import DEFAULT_IMAGE_SIZE
from training.data import Split
from training.data.shards import MANIFEST, write_shards
from training.engine.options import ENCODINGS


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m training.shards", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="folder-per-class data root (Kaggle layout accepted)")
    p.add_argument("--out", type=Path, required=True, help="shard folder to write (or to finish)")
    p.add_argument("--image-size", type=int, default=DEFAULT_IMAGE_SIZE, help="square size the images are stored at")
    p.add_argument("--shard-size", type=int, default=1024, help="images per shard")
    p.add_argument("--encoding", choices=ENCODINGS, default="raw",
                   help="raw pixels (fastest to read) or lossless PNG (about half the disk, more CPU to read)")
    p.add_argument("--split-file", type=Path, default=None, help="reuse this split.json instead of making one")
    p.add_argument("--split", type=float, nargs=3, default=(0.8, 0.1, 0.1), metavar=("TRAIN", "VAL", "TEST"),
                   help="split fractions")
    p.add_argument("--seed", type=int, default=42, help="seed of the split")
    p.add_argument("--workers", type=int, default=0, help="shards written at once (0: one per CPU core)")
    p.add_argument("--verbose", action="store_true", help="debug logging")
    args = p.parse_args(argv)
    if args.image_size < 32 or args.shard_size < 1 or args.workers < 0:
        p.error("--image-size must be >= 32, --shard-size >= 1 and --workers >= 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.verbose)
    split = Split.load(args.split_file) if args.split_file else None
    m = write_shards(args.data, args.out, args.image_size, args.shard_size, args.encoding, split,
                     args.split, args.seed, args.workers)
    shards = sum(len(s["shards"]) for s in m["splits"].values())
    print(f"wrote {args.out / MANIFEST}: {shards} shards ({m['reused_shards']} already done), "
          + ", ".join(f"{k} {v['count']}" for k, v in m["splits"].items())
          + (f"; {m['unreadable']} unreadable images skipped" if m["unreadable"] else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
