"""Benchmark the live loop over a clip: per-stage latency (median, p95) and end-to-end fps.

Frames are resized to --size (default 640x480, the webcam case) and run through the same
pipeline and overlay as `realtime.run`, without a window.

    python -m realtime.bench --source clip.mp4 --model models/handsign.onnx
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np
import onnxruntime as ort

from realtime.cli import ArgumentParser, HelpFormatter, run_main, setup_logging
from realtime.errors import HandSignError
from realtime.event_detector import EventDetector
from realtime.hands import HandTracker
from realtime.overlay import Annotator
from realtime.paths import HAND_MODEL
from realtime.pipeline import GesturePipeline
from realtime.run import load_classifier
from realtime.search import DistantHandSearch
from realtime.sources import Frame, VideoFileSource
from realtime.timing import summarize_ms

STAGES = ("capture", "hands", "search", "classify", "draw")


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
        if w < 1 or h < 1:
            raise ValueError
        return w, h
    except ValueError:
        raise argparse.ArgumentTypeError(f"size {text!r} is not WIDTHxHEIGHT") from None


def main(argv: Sequence[str] | None = None) -> int:
    p = ArgumentParser(prog="python -m realtime.bench", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--source", required=True, type=Path, help="video clip")
    p.add_argument("--size", type=parse_size, default=(640, 480), help="frame size WIDTHxHEIGHT fed to the loop")
    p.add_argument("--model", type=Path, default=None, help="gesture model (.onnx); default models/handsign.onnx if present")
    p.add_argument("--hand-model", type=Path, default=HAND_MODEL, help="MediaPipe hand_landmarker.task")
    p.add_argument("--max-hands", type=int, default=2, help="hands tracked at once")
    p.add_argument("--threads", type=int, default=2, help="onnxruntime threads for the classifier")
    p.add_argument("--loops", type=int, default=3, help="times the clip is played (more samples)")
    p.add_argument("--seconds", type=float, default=None,
                   help="soak: replay the clip for this long instead of --loops, and report memory growth")
    p.add_argument("--crop-view", action="store_true", help="also draw the crop view")
    p.add_argument("--no-tiles", action="store_true",
                   help="without the background search for distant hands (to compare its cost)")
    p.add_argument("--verbose", action="store_true", help="debug logging")
    args = p.parse_args(argv)
    if args.loops < 1 or args.max_hands < 1 or args.threads < 0 or (args.seconds is not None and not args.seconds > 0):
        p.error("--loops and --max-hands must be >= 1, --threads >= 0, --seconds > 0")
    setup_logging(args.verbose)
    if not args.source.is_file():
        raise HandSignError(f"source not found: {args.source}")
    with VideoFileSource(args.source) as src:
        frames = [cv2.resize(f.image, args.size, interpolation=cv2.INTER_AREA) for f in src]
    if not frames:
        raise HandSignError(f"{args.source} has no frames")
    classifier = load_classifier(args.model, args.threads)
    annotator = Annotator(0.6)
    samples: dict[str, list[float]] = {s: [] for s in STAGES}
    totals, hands, background = [], 0, []
    detector, labels_seen, delays = EventDetector(), {}, []
    fps_ms = 1000.0 / 15
    with HandTracker(args.hand_model, args.max_hands, video=True) as tracker, \
            (nullcontext() if args.no_tiles else DistantHandSearch(args.hand_model, args.max_hands)) as search:
        pipeline = GesturePipeline(tracker, classifier, search=search)
        index, loop = 0, 0
        memory_start = None
        soak_end = None if args.seconds is None else time.monotonic() + args.seconds
        while (loop < args.loops) if soak_end is None else (loop < 2 or time.monotonic() < soak_end):
            if loop == 1:
                memory_start = resident_mb()  # after one warm-up pass: models and buffers allocated
            loop += 1
            for image in frames:
                start = time.perf_counter()
                frame = Frame(image.copy(), index, int(index * fps_ms))  # the copy stands in for capture
                capture_ms = (time.perf_counter() - start) * 1000
                result = pipeline.process(frame, mirror=False, capture_ms=capture_ms)
                if args.crop_view:
                    pipeline.model_views(result.hands)
                annotator.draw(result, 0.0, show_crops=args.crop_view)
                for event in detector.update(result, mirrored=False):
                    if event.type == "start":
                        delays.append(event.t_ms - gesture_onset(labels_seen[event.track], event.gesture))
                for h in result.hands:
                    if h.track is not None and h.top3:
                        labels_seen.setdefault(h.track, []).append((frame.timestamp_ms, h.top3[0][0]))
                totals.append(time.perf_counter() - start)
                for s in STAGES:
                    samples[s].append(result.timings_ms.get(s, 0.0) / 1000)
                if search is not None and search.steps > len(background):
                    background.append(search.step_ms / 1000)  # one sample per finished worker step
                hands += len(result.hands)
                index += 1
        settings = tracker.settings
    w, h = args.size
    print(f"clip {args.source.name}: {len(frames)} frames x {loop} loops at {w}x{h}, "
          f"{hands} hands found ({hands / len(totals):.2f} per frame)")
    print(f"hand tracking: MediaPipe HandLandmarker {settings}")
    if classifier:
        c = classifier.contract
        print(f"classifier: {classifier.path.name} {c.image_size}px, {args.threads} threads, "
              f"onnxruntime {ort.__version__}")
    else:
        print("classifier: none (no gesture model): classify stage is empty")
    print(f"{'stage':>9} | {'median ms':>9} | {'p95 ms':>7}")
    for s in STAGES:
        med, p95 = summarize_ms(samples[s])
        print(f"{s:>9} | {med:9.2f} | {p95:7.2f}")
    med, p95 = summarize_ms(totals)
    print(f"{'total':>9} | {med:9.2f} | {p95:7.2f}")
    if background:
        bmed, bp95 = summarize_ms(background)
        print(f"distant-hand search in the background: {search.steps} steps (one tile or the followed "
              f"regions each), {bmed:.2f} ms median / {bp95:.2f} ms p95 per step, beside the loop")
    else:
        print("distant-hand search: off" if args.no_tiles else "distant-hand search: never needed")
    print(f"end to end: {len(totals) / sum(totals):.1f} fps (mean), {1000 / med:.1f} fps at the median frame")
    if delays:
        print(f"gesture events: {len(delays)} starts; from the first frame showing the gesture to its start "
              f"event: median {np.median(delays):.0f} ms, max {max(delays):.0f} ms of clip time "
              f"(--min-hold {detector.gestures.min_hold_ms} ms), plus that frame's own latency (total above)")
    elif classifier:
        print("gesture events: no gesture was held long enough to start one on this clip")
    if memory_start is not None:
        end = resident_mb()
        print(f"memory: start {memory_start:.1f} MB, end {end:.1f} MB, growth {(end / memory_start - 1) * 100:+.1f} % "
              f"(resident, after the first pass; {sum(totals):.0f} s of frames)")
    return 0


def gesture_onset(history: list[tuple[int, str]], gesture: str) -> int:
    """When the track's current run of frames labelled ``gesture`` (top-1, any confidence) began."""
    onset = history[-1][0]
    for t, label in reversed(history):
        if label != gesture:
            break
        onset = t
    return onset


def resident_mb() -> float:
    """This process's resident memory in MB (Linux /proc; elsewhere the peak from getrusage)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 1e6 if sys.platform == "darwin" else peak / 1e3


if __name__ == "__main__":
    raise SystemExit(run_main(main))
