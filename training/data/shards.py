"""TFRecord shards of a folder-per-class data set, already cut by the contract, per split: writing
them (``write_shards``, resumable), the manifest that lists them, and reading one example back
(``parse_fn``). ``python -m training.shards`` is the command; its help says what the shards hold.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

import training  # noqa: F401  (quiets TensorFlow's start-up log)
from realtime.core.contract import COLOR_ORDER, DEFAULT_IMAGE_SIZE, prepare_image
from realtime.core.errors import HandSignError
from realtime.core.images import ImageReadError, read_bgr
from realtime.core.outputs import write_text_atomic
from training.data import SPLITS, DatasetError, Split, discover, make_split

log = logging.getLogger(__name__)
MANIFEST, SPLIT_FILE, PLAN_FILE = "manifest.json", "split.json", ".plan.json"
FORMAT, VERSION = "handsign-shards", 1


# --------------------------------------------------------------------------- records
def encode_image(rgb: np.ndarray, encoding: str) -> bytes:
    """An RGB image as stored in a shard: raw pixels, or lossless PNG."""
    if encoding == "raw":
        return rgb.tobytes()
    ok, data = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("PNG encoding failed")
    return data.tobytes()


def example(rgb: np.ndarray, label: int, path: str, encoding: str) -> bytes:
    """One tf.train.Example: the encoded image, its label index and its relative path."""
    import tensorflow as tf
    feature = {
        "image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[encode_image(rgb, encoding)])),
        "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
        "path": tf.train.Feature(bytes_list=tf.train.BytesList(value=[path.encode()])),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def parse_fn(image_size: int, encoding: str):
    """A tf.data map function: serialized example -> (uint8 image, int32 label, path)."""
    import tensorflow as tf
    spec = {"image": tf.io.FixedLenFeature([], tf.string), "label": tf.io.FixedLenFeature([], tf.int64),
            "path": tf.io.FixedLenFeature([], tf.string)}

    def parse(record):
        f = tf.io.parse_single_example(record, spec)
        if encoding == "raw":
            image = tf.reshape(tf.io.decode_raw(f["image"], tf.uint8), (image_size, image_size, 3))
        else:
            image = tf.io.decode_png(f["image"], channels=3)
            image.set_shape((image_size, image_size, 3))
        return image, tf.cast(f["label"], tf.int32), f["path"]
    return parse


# --------------------------------------------------------------------------- manifest
@dataclass
class Manifest:
    """A shard folder's manifest.json: labels, image size, encoding and every shard with its count."""

    folder: Path
    raw: dict

    @property
    def labels(self) -> list[str]:
        """The class labels, in target order."""
        return list(self.raw["labels"])

    @property
    def image_size(self) -> int:
        """The square size the images are stored at."""
        return int(self.raw["image_size"])

    @property
    def encoding(self) -> str:
        """raw or png."""
        return self.raw["encoding"]

    def files(self, split: str) -> list[str]:
        """The shard files of one subset."""
        return [str(self.folder / s["file"]) for s in self.raw["splits"][split]["shards"]]

    def count(self, split: str) -> int:
        """Images in one subset."""
        return int(self.raw["splits"][split]["count"])

    def targets(self, split: str) -> list[int]:
        """One label per image of ``split`` (from the per-class counts), for class weights."""
        counts = self.raw["splits"][split]["per_class"]
        return [i for i, name in enumerate(self.labels) for _ in range(counts.get(name, 0))]

    def split(self) -> Split:
        """The split the shards were cut by (split.json beside them)."""
        return Split.load(self.folder / SPLIT_FILE)


def is_shard_folder(folder: Path) -> bool:
    """A folder of shards (rather than of class folders): it has a manifest or .tfrecord files."""
    return folder.is_dir() and ((folder / MANIFEST).is_file() or any(folder.glob("*.tfrecord")))


def read_manifest(folder: str | Path) -> Manifest:
    """The manifest of a shard folder, with every shard it lists present; one-line errors."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        interrupted = (folder / PLAN_FILE).is_file()
        partial = " (an interrupted `training.shards`? run it again to finish)" if interrupted else ""
        raise DatasetError(f"{folder} holds shards but no {MANIFEST}{partial}: make shards with "
                           "`python -m training.shards --data DIR --out SHARD_DIR`")
    try:
        raw = json.loads(path.read_text())
        if raw.get("format") != FORMAT:
            raise ValueError(f"format {raw.get('format')!r}, expected {FORMAT!r}")
        names = [s["file"] for split in SPLITS for s in raw["splits"][split]["shards"]]
        raw["labels"], raw["image_size"], raw["encoding"]  # noqa: B018  (present)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DatasetError(f"{path} is not a HandSign shard manifest: {exc}") from None
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise DatasetError(f"{path} lists {len(names)} shards and {len(missing)} are missing "
                           f"(e.g. {missing[0]}): copy them, or re-run `python -m training.shards`")
    if not (folder / SPLIT_FILE).is_file():
        raise DatasetError(f"{folder} has no {SPLIT_FILE} beside its manifest")
    return Manifest(folder, raw)


# --------------------------------------------------------------------------- writing
@dataclass
class ShardJob:
    """One shard to write: its subset, file name and (path, label) rows."""

    split: str
    name: str
    rows: list[tuple[str, int]]


def plan(split: Split, shard_size: int) -> list[ShardJob]:
    """Deterministic assignment of images to shards: the split order, cut every ``shard_size``."""
    jobs = []
    for name in SPLITS:
        rows = split.subsets[name]
        n = max(1, -(-len(rows) // shard_size)) if rows else 0
        for i in range(n):
            rows_i = rows[i * shard_size:(i + 1) * shard_size]
            jobs.append(ShardJob(name, f"{name}-{i:05d}-of-{n:05d}.tfrecord", rows_i))
    return jobs


def write_shard(job: ShardJob, root: Path, out: Path, image_size: int, encoding: str) -> dict:
    """Write one shard under a temporary name, then rename; returns its counts (also in a sidecar)."""
    import tensorflow as tf

    final, done = out / job.name, out / f"{job.name}.json"
    if final.is_file() and done.is_file():
        return {**json.loads(done.read_text()), "skipped_shard": True}
    tmp = out / f".{job.name}.{os.getpid()}.tmp"
    count, unreadable, per_class = 0, 0, {}
    try:
        with tf.io.TFRecordWriter(str(tmp)) as writer:
            for rel, label in job.rows:
                try:
                    rgb = prepare_image(read_bgr(root / rel), image_size)
                except (ImageReadError, ValueError) as exc:
                    log.warning("skipped %s", exc)
                    unreadable += 1
                    continue
                writer.write(example(rgb, label, rel, encoding))
                count += 1
                per_class[label] = per_class.get(label, 0) + 1
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()
    info = {"file": job.name, "count": count, "unreadable": unreadable,
            "per_class": {str(k): v for k, v in sorted(per_class.items())}}
    write_text_atomic(done, json.dumps(info))
    return info


def write_shards(data: Path, out: Path, image_size: int = DEFAULT_IMAGE_SIZE, shard_size: int = 1024,
                 encoding: str = "raw", split: Split | None = None, fractions: Sequence[float] = (0.8, 0.1, 0.1),
                 seed: int = 42, workers: int = 0) -> dict:
    """Shard ``data`` into ``out``; resumable. Returns the manifest."""
    dataset = discover(data)
    split = split or make_split(dataset, fractions, seed)
    if split.labels != dataset.labels:
        raise DatasetError(f"the split has labels {split.labels}, {dataset.root} has {dataset.labels}")
    settings = {"image_size": image_size, "shard_size": shard_size, "encoding": encoding,
                "labels": split.labels, "seed": split.seed, "fractions": list(split.fractions),
                "sizes": split.sizes()}
    out.mkdir(parents=True, exist_ok=True)
    plan_path = out / PLAN_FILE
    if plan_path.is_file():
        before = json.loads(plan_path.read_text())
        if before != settings:
            diff = ", ".join(f"{k} {before.get(k)!r} -> {v!r}" for k, v in settings.items() if before.get(k) != v)
            raise HandSignError(f"{out} holds shards made with other settings ({diff[:200]}): "
                                "use another --out, or delete it")
    else:
        write_text_atomic(plan_path, json.dumps(settings))
    split.save(out / SPLIT_FILE)
    jobs = plan(split, shard_size)
    results: dict[str, dict] = {}
    reused = 0
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool, \
            tqdm(total=sum(len(j.rows) for j in jobs), unit="img", desc="shards") as bar:
        futures = {pool.submit(write_shard, j, dataset.root, out, image_size, encoding): j for j in jobs}
        for future in as_completed(futures):
            job = futures[future]
            info = future.result()
            reused += bool(info.pop("skipped_shard", False))
            results[job.name] = info
            bar.update(len(job.rows))
    splits = {}
    for name in SPLITS:
        shards = [results[j.name] for j in jobs if j.split == name]
        per_class: dict[str, int] = {}
        for s in shards:
            for k, v in s["per_class"].items():
                label = split.labels[int(k)]
                per_class[label] = per_class.get(label, 0) + v
        splits[name] = {"count": sum(s["count"] for s in shards), "per_class": per_class,
                        "shards": [{"file": s["file"], "count": s["count"]} for s in shards]}
    manifest = {"format": FORMAT, "version": VERSION, "image_size": image_size, "color_order": COLOR_ORDER,
                "encoding": encoding, "labels": split.labels, "shard_size": shard_size, "splits": splits,
                "unreadable": sum(r["unreadable"] for r in results.values()), "source": str(dataset.root.resolve()),
                "skipped_files": dataset.skipped, "reused_shards": reused,
                "created": datetime.now(UTC).isoformat(timespec="seconds")}
    write_text_atomic(out / MANIFEST, json.dumps(manifest, indent=1))
    return manifest
