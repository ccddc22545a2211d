"""Hand landmarks of folder-per-class crops, cached: what the landmark head is trained on; and the
hands the live path finds in photos, for choosing its fusion weights.

A tight HaGRID crop gives the palm detector no context, so each crop is centred on grey twice its
size (as teach mode does) and MediaPipe runs in IMAGE mode on it. Crops where no hand is found are
counted and left out. The cache (``.npz``) is keyed by the file list and the hand model, so a rerun
with the same sample costs nothing; an interrupted run resumes from its partial file.
"""

from __future__ import annotations

import hashlib
import logging
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from realtime.classifier.model import GestureClassifier
from realtime.core.datasets import discover
from realtime.core.hand_shape import batch_features, image_flip
from realtime.core.images import ImageReadError, read_bgr
from realtime.evaluation.live_path import Photos, check_classes, run_images
from realtime.hands.tracker import HandTracker
from realtime.live.recognition import RecognitionOptions, open_pipeline

log = logging.getLogger(__name__)
PAD_VALUE = 114
CHECKPOINT_EVERY = 500


@dataclass(frozen=True)
class LandmarkSet:
    """Landmarks of the crops where a hand was found."""

    labels: tuple[str, ...]  # class names, the targets' order
    files: np.ndarray  # (N,) paths relative to the root
    targets: np.ndarray  # (N,) int
    landmarks: np.ndarray  # (N, 21, 2) pixels of the padded crop
    flips: np.ndarray  # (N,) bool: flip to look like a right hand
    tried: int  # crops read
    unreadable: int


def sample_files(root: Path, per_class: int, seed: int = 0) -> tuple[tuple[str, ...], list[str], list[int]]:
    """Up to ``per_class`` files of each class, a seeded random choice, in a stable order."""
    dataset = discover(root, min_classes=2)
    rng = np.random.default_rng(seed)
    files, targets = [], []
    for k in range(len(dataset.labels)):
        mine = sorted(f for f, t in zip(dataset.files, dataset.targets) if t == k)
        if len(mine) > per_class:
            mine = sorted(rng.choice(mine, per_class, replace=False).tolist())
        files += [str(f) for f in mine]
        targets += [k] * len(mine)
    return tuple(dataset.labels), files, targets


def padded(image: np.ndarray) -> np.ndarray:
    """The crop centred on grey twice its size, so the palm detector sees the hand whole."""
    pad = max(image.shape[:2]) // 2
    return np.pad(image, ((pad, pad), (pad, pad), (0, 0)), constant_values=PAD_VALUE)


def extract(root: Path, cache: Path, hand_model: Path, per_class: int = 600, seed: int = 0) -> LandmarkSet:
    """Landmarks of a per-class sample of ``root``'s crops; read from ``cache`` when it matches."""

    labels, files, targets = sample_files(root, per_class, seed)
    key = hashlib.sha256(("\n".join(files) + f"|{Path(hand_model).name}").encode()).hexdigest()[:16]
    done: dict[str, tuple[np.ndarray, bool] | None] = {}
    partial = cache.with_suffix(".partial.npz")
    for source in (cache, partial):
        if source.is_file():
            z = np.load(source, allow_pickle=False)
            if str(z["key"]) == key:
                if source == cache:
                    return _from_npz(z, labels)
                done = {f: (l, bool(fl)) if ok else None
                        for f, l, fl, ok in zip(z["all_files"], z["all_landmarks"], z["all_flips"], z["all_found"])}
                log.info("resuming: %d of %d crops done", len(done), len(files))
    unreadable = 0
    with HandTracker(hand_model, max_hands=1, video=False, min_detection=0.3, tiles=False) as tracker:
        for i, f in enumerate(tqdm(files, desc="landmarks", unit="crop", initial=0)):
            if f in done:
                continue
            try:
                image = read_bgr(root / f)
            except ImageReadError as exc:
                log.warning("skipped: %s", exc)
                unreadable += 1
                done[f] = None
                continue
            hands = tracker.detect(padded(image))
            done[f] = (hands[0].landmarks, image_flip(hands[0].handedness, False)) if hands else None
            if (i + 1) % CHECKPOINT_EVERY == 0:
                _save(partial, key, done)
    _save(cache, key, done, files, targets, labels, unreadable)
    partial.unlink(missing_ok=True)
    return _from_npz(np.load(cache, allow_pickle=False), labels)


def _save(path: Path, key: str, done: dict, files=None, targets=None, labels=None, unreadable: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(done) if files is None else files
    found = np.array([done.get(f) is not None for f in names])
    marks = np.stack([done[f][0] if done.get(f) is not None else np.zeros((21, 2), np.float32) for f in names])
    flips = np.array([bool(done[f][1]) if done.get(f) is not None else False for f in names])
    extra = {} if files is None else {"targets": np.array(targets), "labels": np.array(labels),
                                      "unreadable": unreadable}
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, key=key, all_files=np.array(names), all_landmarks=marks.astype(np.float32), all_flips=flips,
             all_found=found, **extra)
    tmp.replace(path)


def _from_npz(z, labels: tuple[str, ...]) -> LandmarkSet:
    found = z["all_found"]
    return LandmarkSet(labels, z["all_files"][found], z["targets"][found], z["all_landmarks"][found],
                       z["all_flips"][found], int(len(found)), int(z["unreadable"]))


def live_inputs(classifier: GestureClassifier, data: Path, hand_model: Path
                ) -> tuple[list[str], list[list[tuple[np.ndarray, np.ndarray]]]]:
    """Per photo of ``data``: its class and, per hand found by the live path, (crop probabilities, features)."""
    dataset = discover(data, min_classes=1)
    check_classes(dataset.labels, classifier.labels, data)
    items = [(dataset.root / f, dataset.labels[t]) for f, t in zip(dataset.files, dataset.targets)]
    with ExitStack() as stack:
        pipeline = open_pipeline(stack, Photos(), classifier,
                                 RecognitionOptions(hand_model=hand_model, threshold=0.0, smooth=1))
        (outcomes,), _ = run_images([pipeline], items)
    truths, hands = [], []
    for o in outcomes:
        truths.append(o.true)
        shapes = batch_features([h.landmarks for h in o.hands], [image_flip(h.handedness, False) for h in o.hands])
        hands.append([(h.probabilities, s) for h, s in zip(o.hands, shapes)])
    return truths, hands
