"""Teach mode of the live window: name a gesture, hold `r` to record the hand, `enter` to train.

Recorded crops go to ``TEACH_DIR/<gesture>/`` exactly as the classifier would see them cut (the
model's crop framing and margin), so they stay usable: `python -m realtime.teach --data TEACH_DIR`
re-trains from them later. Training writes ``TEACH_DIR/taught.onnx`` and the window switches to it.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from realtime.classifier.model import GestureClassifier
from realtime.core.errors import HandSignError
from realtime.core.images import IMAGE_SUFFIXES
from realtime.core.outputs import write_image_atomic
from realtime.live.pipeline import FrameResult, GesturePipeline
from realtime.teaching import MIN_IMAGES, ReferenceFileError, TeachResult, teach

log = logging.getLogger(__name__)

#: How long one `r` key event keeps recording. Holding the key repeats it (X: every ~30 ms after a
#: ~0.5 s delay), so recording runs while the key is held and stops soon after it is let go.
HOLD_SECONDS = 0.6
TAUGHT_MODEL = "taught.onnx"
NAME_CHARS = re.compile(r"[a-z0-9_\-]")
ENTER, ESC, BACKSPACE, DELETE = (10, 13), 27, 8, 127


@dataclass
class TeachState:
    """Teach mode's state: on, naming, the name typed, the gesture recorded and until when."""

    active: bool = False
    naming: bool = False
    name: str = ""  # being typed
    gesture: str | None = None  # recording into this one
    recording_until: float = 0.0


class TeachMode:
    """Key handling, recording and training of the window's teach mode (no drawing, no window)."""

    def __init__(self, teach_dir: Path, base: Path | None, keep_base: bool = True, threads: int = 2) -> None:
        self.dir, self.base, self.keep_base, self.threads = Path(teach_dir), base, keep_base, threads
        self.state = TeachState()
        self.counts: dict[str, int] = {}  # crops per gesture (the numbered slots), kept up to date by record

    # ------------------------------------------------------------------ gestures on disk
    def gestures(self) -> dict[str, int]:
        """Re-read the gesture folders under the teach folder and their crop counts (not per frame)."""
        if not self.dir.is_dir():
            self.counts = {}
        else:
            self.counts = {d.name: sum(1 for f in d.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
                           for d in sorted(self.dir.iterdir()) if d.is_dir() and not d.name.startswith(".")}
        return self.counts

    @property
    def recording(self) -> bool:
        """Whether the hand's crops are being recorded now."""
        s = self.state
        return s.active and s.gesture is not None and not s.naming and time.monotonic() < s.recording_until

    # ------------------------------------------------------------------ keys
    def enter(self) -> None:
        """Enter teach mode, naming a gesture first."""
        self.state = TeachState(active=True, naming=True)
        self.gestures()

    def handle_key(self, key: int) -> str | None:
        """Apply a key in teach mode; returns "train", "leave", "quit" or None."""
        s = self.state
        if s.naming:
            if key in ENTER and s.name:
                s.gesture, s.naming, s.name = s.name, False, ""
            elif key == ESC:
                s.naming, s.name = False, ""
                if s.gesture is None:
                    return self.leave()
            elif key in (BACKSPACE, DELETE):
                s.name = s.name[:-1]
            elif 0 < key < 128 and NAME_CHARS.fullmatch(chr(key).lower()) and len(s.name) < 32:
                s.name += chr(key).lower()
            return None
        if key == ord("r"):
            s.recording_until = time.monotonic() + HOLD_SECONDS
        elif key == ord("n"):
            s.naming, s.name = True, ""
        elif ord("1") <= key <= ord("9"):
            names = list(self.gestures())
            if key - ord("1") < len(names):
                s.gesture = names[key - ord("1")]
        elif key in ENTER:
            return "train"
        elif key == ESC:
            return self.leave()
        elif key == ord("q"):
            return "quit"
        return None

    def leave(self) -> str:
        """Leave teach mode."""
        self.state = TeachState()
        return "leave"

    # ------------------------------------------------------------------ recording and training
    def record(self, result: FrameResult) -> Path | None:
        """While recording, save the crop of the largest tracked hand; returns the file written."""
        if not self.recording or not result.hands:
            return None
        hand = max(result.hands, key=lambda h: (h.box[2] - h.box[0]) * (h.box[3] - h.box[1]))
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        name = self.state.gesture
        folder = self.dir / name
        folder.mkdir(parents=True, exist_ok=True)
        path = write_image_atomic(folder / f"{stamp}.png", hand.crop)
        self.counts = dict(sorted({**self.counts, name: self.counts.get(name, 0) + 1}.items()))
        return path

    def train(self) -> TeachResult:
        """Fit on every gesture recorded so far; raises HandSignError (shown in the window) if not ready."""
        if self.base is None:
            raise HandSignError("teach mode needs a base model (run with a gesture model, not --model none)")
        counts = self.gestures()
        few = [n for n, c in counts.items() if c < MIN_IMAGES]
        if few:
            raise HandSignError(f"record at least {MIN_IMAGES} crops of {', '.join(few)} (hold r)")
        need = 1 if self.keep_base else 2
        if len(counts) < need:
            raise HandSignError(f"record at least {need} gesture{'s' if need > 1 else ''} first (n names one)")
        try:
            result = teach(self.dir, self.dir / TAUGHT_MODEL, self.base, self.keep_base, hands="none",
                           threads=self.threads)
        except ReferenceFileError as exc:  # a custom base without BASE.reference.npz
            raise HandSignError(f"{exc}; or run with --no-teach-keep-base to teach only new gestures") from None
        log.info("%s", result.report())
        return result

    def train_and_switch(self, pipeline: GesturePipeline, spinning: bool = False) -> str:
        """Train, then classify with the taught model from the next frame on; returns what to tell the
        user (why it could not, or the cross-validated result)."""
        try:
            taught = self.train()
            pipeline.use_classifier(GestureClassifier(taught.out, threads=self.threads, spinning=spinning))
        except HandSignError as exc:
            return f"teach: {exc}"
        v = taught.validation  # always cross-validated in the window
        weakest = min(v.per_class, key=v.per_class.get)
        return (f"now using {taught.out} ({len(taught.labels)} gestures; cross-validated {v.accuracy:.0%}, "
                f"weakest {weakest} {v.per_class[weakest]:.0%}) in {taught.seconds:.1f} s")

    # ------------------------------------------------------------------ what the overlay shows
    def lines(self) -> list[str]:
        """The lines the window shows in teach mode."""
        s, counts = self.state, self.counts
        if s.naming:
            lines = [f"TEACH  name the gesture: {s.name}_", "type a-z 0-9 _ -   enter: ok   esc: back"]
        else:
            rec = "REC " if self.recording else ""
            lines = [f"TEACH  {rec}{s.gesture}: {counts.get(s.gesture, 0)} crops",
                     "hold r: record   n: new gesture   1-9: pick   enter: train   esc: leave   q: quit"]
        if counts:
            lines.append("  ".join(f"{i}:{n} ({c})" for i, (n, c) in enumerate(counts.items(), 1)))
        return lines
