"""Events scored on clips: what the live path fires on video, per clip and per minute, and against
labelled clips, recall and precision per kind of event.

Every clip goes through the very path ``realtime.run`` uses (:func:`realtime.live.recognition.open_pipeline`,
:class:`realtime.live.LiveLoop`); only the events that can fire a binding count: a gesture's ``start``
and every other event kind except ``hold`` and ``end`` (swipes, and later clicks, drags, zooms).

Labels are a JSON file: ``{"clip.mp4": [{"gesture": "swipe_left"}, {"gesture": "swipe_right",
"t_ms": 2400}], "other.mp4": []}``. An expected event with ``t_ms`` matches a fired event of the
same gesture within ``tolerance_ms`` (default 1000) of it; without, any fired event of that gesture
in the clip. Each fired event matches at most one expected one. A clip listed with no events is a
clip where every event is a false trigger.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from realtime.classifier.model import GestureClassifier
from realtime.core.errors import HandSignError
from realtime.evaluation.replay import recorded
from realtime.events.gestures import GestureEvent
from realtime.live.options import LiveOptions
from realtime.live.recognition import RecognitionOptions
from realtime.live.sources import open_video

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".gif")
DEFAULT_TOLERANCE_MS = 1000


@dataclass
class ClipEvents:
    """One clip's run: how long it is and the bindable events it gave."""

    clip: Path
    frames: int
    seconds: float
    events: list[GestureEvent] = field(default_factory=list)

    @property
    def per_minute(self) -> float:
        """Events a minute of clip time."""
        return len(self.events) / (self.seconds / 60) if self.seconds else 0.0


def find_clips(folder: Path) -> list[Path]:
    """The videos in ``folder`` (sorted), or ``folder`` itself if it is one."""
    if folder.is_file():
        return [folder]
    if not folder.is_dir():
        raise HandSignError(f"clips not found: {folder}")
    clips = sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
    if not clips:
        raise HandSignError(f"no video clips ({', '.join(VIDEO_SUFFIXES)}) in {folder}")
    return clips


def events_of_clip(clip: Path, classifier: GestureClassifier | None, recognition: RecognitionOptions,
                   options: LiveOptions, cache: Path | None = None) -> ClipEvents:
    """Play ``clip`` once through the live path, or replay its recording from ``cache`` through the
    event logic with ``options.events``."""
    recording = recorded(clip, classifier, recognition, options, cache)
    events = recording.events(options.events) if cache else recording.live_events
    return ClipEvents(clip, len(recording.frames), recording.seconds, events)


#: MediaPipe's canned gestures that name something (its "None" is no gesture)
PEER_NONE = "None"


def peer_starts(clip: Path, recognizer: Any, min_hold_ms: int) -> ClipEvents:
    """MediaPipe's Gesture Recognizer on the same clip, by the same rule as HandSign's starts: a gesture
    starts once it has been the top class of a hand for ``min_hold_ms`` (hands are told apart by their
    order in the recognizer's answer, left to right as it lists them)."""
    events, held = [], {}  # hand slot -> (gesture, since_ms, started)
    frames = 0
    with open_video(clip) as source:
        fps = source.fps or 30.0
        for frame in source:
            frames += 1
            seen = recognizer.recognize(frame.image, frame.timestamp_ms)
            for slot, (gesture, score) in enumerate(seen):
                last = held.get(slot)
                if gesture == PEER_NONE:
                    held.pop(slot, None)
                    continue
                if last is None or last[0] != gesture:
                    held[slot] = (gesture, frame.timestamp_ms, False)
                    last = held[slot]
                if not last[2] and frame.timestamp_ms - last[1] >= min_hold_ms:
                    held[slot] = (gesture, last[1], True)
                    events.append(GestureEvent("start", gesture, f"hand {slot}", slot, float(score), 0.0, 0.0,
                                               frame.timestamp_ms, frame.timestamp_ms - last[1], frame.index))
            for slot in [k for k in held if k >= len(seen)]:
                del held[slot]
    return ClipEvents(clip, frames, frames / fps, events)


def read_labels(path: Path) -> dict[str, list[dict]]:
    """The labels file: clip name -> expected events (each with a ``gesture``)."""
    try:
        labels = json.loads(Path(path).read_text())
        if not isinstance(labels, dict) or not all(isinstance(v, list) and all(isinstance(e, dict) and "gesture" in e
                                                                                for e in v) for v in labels.values()):
            raise ValueError('expected {"clip.mp4": [{"gesture": ...}, ...], ...}')
    except (OSError, ValueError) as exc:
        raise HandSignError(f"{path} is not an events labels file: {exc}") from None
    return labels


def match(expected: Sequence[dict], fired: Sequence[GestureEvent]) -> list[tuple[dict, GestureEvent | None]]:
    """Each expected event with the fired event it matched (None if none); timed ones first."""
    free = list(fired)
    pairs = []
    for e in sorted(expected, key=lambda e: "t_ms" not in e):
        tolerance = e.get("tolerance_ms", DEFAULT_TOLERANCE_MS)
        candidates = [f for f in free if f.gesture == e["gesture"]
                      and ("t_ms" not in e or abs(f.t_ms - e["t_ms"]) <= tolerance)]
        if "t_ms" in e:
            candidates.sort(key=lambda f: abs(f.t_ms - e["t_ms"]))
        hit = candidates[0] if candidates else None
        if hit is not None:
            free.remove(hit)
        pairs.append((e, hit))
    return pairs


@dataclass
class KindScore:
    """Expected, fired and matched events of one kind."""

    expected: int = 0
    fired: int = 0
    matched: int = 0

    @property
    def recall(self) -> float | None:
        """Matched over expected (None with nothing expected)."""
        return self.matched / self.expected if self.expected else None

    @property
    def precision(self) -> float | None:
        """Matched over fired (None with nothing fired)."""
        return self.matched / self.fired if self.fired else None


def score(runs: Sequence[ClipEvents], labels: dict[str, list[dict]]) -> tuple[dict[str, KindScore], dict[str, bool]]:
    """Per kind (gesture name): expected, fired, matched; per labelled clip: whether it gave exactly its events."""
    kinds: dict[str, KindScore] = {}
    clips = {}
    for run in runs:
        if run.clip.name not in labels:
            continue
        expected = labels[run.clip.name]
        pairs = match(expected, run.events)
        for e, hit in pairs:
            k = kinds.setdefault(e["gesture"], KindScore())
            k.expected += 1
            k.matched += hit is not None
        for f in run.events:
            kinds.setdefault(f.gesture, KindScore()).fired += 1
        clips[run.clip.name] = all(hit is not None for _, hit in pairs) and len(run.events) == len(expected)
    return dict(sorted(kinds.items())), clips


def report(runs: Sequence[ClipEvents], labels: dict[str, list[dict]] | None = None) -> str:
    """The table ``realtime.evaluate_events`` prints."""
    width = max([len(r.clip.name) for r in runs] + [5])
    lines = [f"{'clip':<{width}}  {'seconds':>7}  {'events':>6}  {'per min':>7}  kinds"]
    for r in runs:
        kinds = ", ".join(f"{k} {n}" for k, n in Counter(e.gesture for e in r.events).most_common())
        lines.append(f"{r.clip.name:<{width}}  {r.seconds:7.1f}  {len(r.events):6d}  {r.per_minute:7.1f}  {kinds}")
    seconds, count = sum(r.seconds for r in runs), sum(len(r.events) for r in runs)
    lines.append(f"{'total':<{width}}  {seconds:7.1f}  {count:6d}  {count / (seconds / 60) if seconds else 0:7.1f}  "
                 f"({len(runs)} clips, {seconds / 60:.2f} minutes)")
    if labels:
        kinds, clips = score(runs, labels)
        lines += ["", f"{'kind':<16}  {'expected':>8}  {'fired':>5}  {'matched':>7}  {'recall':>6}  {'precision':>9}"]

        def fmt(v: float | None) -> str:
            return "-" if v is None else f"{v:.2f}"

        for name, k in kinds.items():
            lines.append(f"{name:<16}  {k.expected:8d}  {k.fired:5d}  {k.matched:7d}  {fmt(k.recall):>6}  "
                         f"{fmt(k.precision):>9}")
        lines.append(f"labelled clips giving exactly their events: {sum(clips.values())} of {len(clips)}"
                     + "".join(f"\n  {'ok  ' if ok else 'FAIL'} {name}" for name, ok in clips.items()))
    return "\n".join(lines)
