"""Scoring the live path on labelled photos (the library behind ``python -m realtime.evaluate``).

Each image goes through :class:`GesturePipeline` as in the live tool; its answer is the hand whose best
gesture probability is highest, and an image with no hand found counts as wrong. The report files:
metrics.json, predictions.jsonl, confusion_matrix.png (with a "no hand" column) and errors.png (each
wrong image beside the crop the model saw, its top 3 and the activation map of the class it named)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from realtime.classifier.activation import ActivationMaps, overlay_map
from realtime.classifier.model import GestureClassifier
from realtime.core.contract import NO_GESTURE, ModelContract
from realtime.core.datasets import discover
from realtime.core.errors import HandSignError
from realtime.core.images import ImageReadError, read_bgr
from realtime.core.outputs import prepare_out_dir, write_text_atomic
from realtime.core.paths import HAND_MODEL
from realtime.evaluation import figures
from realtime.evaluation.metrics import compute_metrics
from realtime.hands.tracker import HandTracker
from realtime.live.pipeline import GesturePipeline, HandResult
from realtime.live.recognition import RecognitionOptions, open_pipeline
from realtime.live.sources import Source

log = logging.getLogger(__name__)
NO_HAND = "no hand"


@dataclass
class Outcome:
    """One image's result: the hands found, the one chosen, and the answer."""

    path: Path
    true: str
    hands: list[HandResult]
    chosen: HandResult | None

    @property
    def predicted(self) -> str:
        """The chosen hand's label, or ``no hand``."""
        if self.chosen is None:
            return NO_HAND
        return self.chosen.top3[0][0]

    def to_json(self) -> dict:
        """The outcome as a JSON-ready dict."""
        return {"path": str(self.path), "true": self.true, "predicted": self.predicted,
                "hands": len(self.hands), "top3": [] if self.chosen is None else
                [[l, round(p, 4)] for l, p in self.chosen.top3]}


class Photos(Source):
    """Labelled photos, to the live path: unrelated stills (IMAGE mode, no tracking from one to the next).
    ``run_images`` reads them."""

    still = True


def photo_hands(max_hands: int = 2, tiles: bool = True, hand_model: Path | str = "auto") -> HandTracker:
    """MediaPipe for unrelated photos, as the live path runs it on still images (IMAGE mode); close it."""
    return HandTracker(hand_model, max_hands, video=False, tiles=tiles)


def choose_hand(hands: Sequence[HandResult], contract: ModelContract) -> HandResult | None:
    """The hand whose best gesture probability (``no_gesture`` left out) is highest."""
    gestures = contract.gesture_indices
    if not hands:
        return None
    return max(hands, key=lambda h: float(np.max(h.probabilities[gestures])))


def check_classes(data_labels: Sequence[str], model_labels: Sequence[str], data: Path) -> None:
    """Refuse class folders the model has no label for."""
    unknown = [c for c in data_labels if c not in model_labels]
    if unknown:
        raise HandSignError(f"class folder(s) {', '.join(unknown)} under {data} are not labels of the "
                            f"model (it knows {', '.join(model_labels)})")


def run_images(pipelines: Sequence[GesturePipeline], items: Sequence[tuple[Path, str]]
               ) -> tuple[list[list[Outcome]], int]:
    """Each image through the live path: hands found once (the pipelines share the tracker), then
    cropped and classified by each pipeline. Returns outcomes per pipeline and the unreadable count.

    Only the first pipeline's outcomes keep their crops (for errors.png); the others keep scores.
    """
    from tqdm import tqdm

    outcomes: list[list[Outcome]] = [[] for _ in pipelines]
    unreadable = 0
    tracker = pipelines[0].tracker
    for path, true in tqdm(items, desc="live path", unit="img"):
        try:
            image = read_bgr(path)
        except ImageReadError as exc:
            log.warning("skipped %s", exc)
            unreadable += 1
            continue
        hands = tracker.detect(image)  # what GesturePipeline.process does, once for every setting
        for k, pipeline in enumerate(pipelines):
            pipeline.smoother.reset()  # photos are unrelated: no smoothing across them
            results = pipeline.classify_hands(image, hands)
            if k:
                for r in results:
                    r.crop = r.model_view = None
            outcomes[k].append(Outcome(path, true, results, choose_hand(results, pipeline.classifier.contract)))
    return outcomes, unreadable


def summarise(outcomes: Sequence[Outcome], data_labels: Sequence[str], model_labels: Sequence[str],
              unreadable: int) -> tuple[dict, np.ndarray, list[str]]:
    """metrics.json's content, the confusion matrix and its column names."""
    others = [l for l in model_labels if l not in data_labels
              and any(o.predicted == l for o in outcomes)]
    columns = list(data_labels) + others + [NO_HAND]
    y_true = np.array([data_labels.index(o.true) for o in outcomes])
    y_pred = np.array([columns.index(o.predicted) for o in outcomes])
    found = np.array([o.chosen is not None for o in outcomes])
    metrics = compute_metrics(y_true, y_pred, data_labels)
    correct = y_true == y_pred
    gesture_rows = np.array([o.true != NO_GESTURE for o in outcomes])
    metrics.update({
        "hand_found_rate": float(found.mean()),
        "accuracy_given_hand": float(correct[found].mean()) if found.any() else 0.0,
        "gesture_accuracy": float(correct[gesture_rows].mean()) if gesture_rows.any() else None,
        "gesture_count": int(gesture_rows.sum()),
        "unreadable": unreadable,
    })
    for name, row in metrics["per_class"].items():
        rows = y_true == data_labels.index(name)
        row["hand_found_rate"] = float(found[rows].mean()) if rows.any() else 0.0
    from sklearn.metrics import confusion_matrix
    cm = confusion_matrix(y_true, y_pred, labels=np.arange(len(columns)))[: len(data_labels)]
    metrics["confusion_matrix"] = {"rows": list(data_labels), "columns": columns, "counts": cm.tolist()}
    return metrics, cm, columns


def errors_figure(outcomes: Sequence[Outcome], limit: int, maps: ActivationMaps | None = None):
    """Wrong images (hand box drawn) beside the crop the model saw, with its top 3, and (with
    ``maps``) where the model looked for the class it named."""
    wrong = [o for o in outcomes if o.predicted != o.true][:limit]
    images, titles = [], []
    per_row = 3 if maps is not None else 2
    for o in wrong:
        image = read_bgr(o.path)
        if o.chosen is not None:
            x0, y0, x1, y1 = o.chosen.box
            cv2.rectangle(image, (x0, y0), (x1 - 1, y1 - 1), (0, 0, 255), max(2, image.shape[1] // 150))
        images.append(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        titles.append(f"true {o.true}\n{NO_HAND if o.chosen is None else f'{len(o.hands)} hand(s)'}")
        if o.chosen is not None:
            images.append(o.chosen.model_view)
            titles.append("\n".join(f"{l} {p:.2f}" for l, p in o.chosen.top3))
            if maps is not None:
                named = maps.classifier.labels.index(o.chosen.top3[0][0])
                _, (heat,) = maps.maps([o.chosen.crop], [named])
                view = cv2.cvtColor(o.chosen.model_view, cv2.COLOR_RGB2BGR)
                images.append(cv2.cvtColor(overlay_map(view, heat), cv2.COLOR_BGR2RGB))
                titles.append(f"where it saw\n{o.chosen.top3[0][0]} ({maps.method})")
        else:
            images.extend([np.full((8, 8, 3), 255, np.uint8)] * (per_row - 1))
            titles.extend([""] * (per_row - 1))
    total = sum(o.predicted != o.true for o in outcomes)
    parts = "image | crop the model saw" + (" | where it looked" if maps is not None else "")
    title = f"{total} wrong of {len(outcomes)} ({parts})" if wrong else "no wrong images"
    return figures.image_grid(images, titles, cols=2 * per_row, title=title)


def evaluate_live(model: Path, data: Path, out: Path, max_hands: int = 2, crop_margin: float | None = None,
                  framing: str | None = None, min_detection: float = 0.5, hand_model: Path = HAND_MODEL,
                  threads: int = 2, max_errors: int = 24, tiles: bool = True,
                  sweep: Sequence[tuple[str, float]] = (), heads: str = "fused") -> dict:
    """The whole evaluation; writes the report files into ``out`` and returns the metrics."""
    classifier = GestureClassifier(model, threads=threads, heads=heads)
    dataset = discover(data, min_classes=1)
    check_classes(dataset.labels, classifier.labels, data)
    out = prepare_out_dir(out)
    items = [(dataset.root / f, dataset.labels[t]) for f, t in zip(dataset.files, dataset.targets)]
    recognition = RecognitionOptions(hand_model=hand_model, max_hands=max_hands, min_detection=min_detection,
                                     tiles=tiles, threshold=0.0, smooth=1, crop_margin=crop_margin, framing=framing)
    with ExitStack() as stack:
        main = open_pipeline(stack, Photos(), classifier, recognition)  # the live path realtime.run builds
        # the sweep's framings share its hand tracker: MediaPipe runs once per photo
        pipelines = [main] + [GesturePipeline(main.tracker, classifier, threshold=0.0, smoothing=1, crop_margin=m,
                                              framing=f) for f, m in sweep]
        outcomes, unreadable = run_images(pipelines, items)
    main_pipe = pipelines[0]
    settings = {"max_hands": max_hands, "min_detection": min_detection, "tiles": tiles, "heads": classifier.heads,
                "crop_margin": main_pipe.crop_margin, "framing": main_pipe.framing}
    unread = sorted(set(dataset.labels) - {o.true for o in outcomes[0]})
    if unread:
        raise HandSignError(f"no readable image in class folder(s) {', '.join(unread)} under {dataset.root}")
    if sweep:
        rows = []
        for pipe, result in zip(pipelines[1:], outcomes[1:]):
            m = summarise(result, dataset.labels, list(classifier.labels), unreadable)[0]
            rows.append({"framing": pipe.framing, "crop_margin": pipe.crop_margin,
                         **{k: m[k] for k in ("accuracy", "gesture_accuracy", "accuracy_given_hand",
                                              "macro_f1", "hand_found_rate", "count")}})
            print(f"{pipe.framing:8s} margin {pipe.crop_margin:<5g} accuracy {m['accuracy']:.4f}  gestures "
                  f"{m['gesture_accuracy'] or 0:.4f}  given a hand {m['accuracy_given_hand']:.4f}  "
                  f"macro F1 {m['macro_f1']:.4f}")
        write_text_atomic(out / "sweep.json", json.dumps(rows, indent=1))
    outcomes = outcomes[0]
    metrics, cm, columns = summarise(outcomes, dataset.labels, list(classifier.labels), unreadable)
    metrics = {"model": str(model), "data": str(data), **settings, **metrics}
    write_text_atomic(out / "metrics.json", json.dumps(metrics, indent=1))
    write_text_atomic(out / "predictions.jsonl", "".join(json.dumps(o.to_json()) + "\n" for o in outcomes))
    figures.save(figures.confusion_matrix(cm, dataset.labels, columns=columns), out / "confusion_matrix.png")
    figures.save(errors_figure(outcomes, max_errors, ActivationMaps(classifier)), out / "errors.png")
    log.info("%s on %d images of %s: accuracy %.4f, hands found %.4f, accuracy given a hand %.4f; "
             "report in %s", model.name, len(outcomes), data, metrics["accuracy"],
             metrics["hand_found_rate"], metrics["accuracy_given_hand"], out)
    return metrics
