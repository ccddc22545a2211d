"""Benchmark the live loop over a clip: what a user feels (throughput and latency), per stage.


Frames are resized to --size (default 640x480, the webcam case) and run through the same
pipeline, events and overlay as `realtime.run`, without a window, in the pipelined loop (hands
of the next frame tracked on a second thread while this one is classified; the default) and in
the serial loop. `--peer-task` also times MediaPipe's Gesture Recognizer on the same frames, in
the same run, and prints the ratio of the frame rates.

    python -m realtime.bench --source clip.mp4
    python -m realtime.bench --source clip.mp4 --peer-task ../shared/peers/mediapipe_gesture_recognizer.task

Latency is from the moment a frame is taken from the source ("captured") to its result being
ready (gestures classified); throughput is frames per second of wall time over the whole pass.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from realtime.classifier import load_classifier
from realtime.core.cli import (
    ArgumentParser,
    add_hand_options,
    add_heads_option,
    add_threads_option,
    check_shared_options,
    renamed,
    run_main,
    setup_logging,
)
from realtime.evaluation.benchmark import LOOPS, BenchOptions, read_clip, report, wake_report
from realtime.hands.peer import PeerRecognizer
from realtime.live.options import add_cost_options, check_cost_options
from realtime.live.recognition import RecognitionOptions


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
        if w < 1 or h < 1:
            raise ValueError
        return w, h
    except ValueError:
        raise argparse.ArgumentTypeError(f"size {text!r} is not WIDTHxHEIGHT") from None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m realtime.bench", description=__doc__)
    p.add_argument("--source", required=True, type=Path, help="video clip")
    p.add_argument("--size", type=parse_size, default=(640, 480), help="frame size WIDTHxHEIGHT fed to the loop")
    p.add_argument("--model", type=Path, default=None,
                   help="gesture model (.onnx); default models/handsign.onnx if present")
    add_hand_options(p, no_tiles_help="without the background search for distant hands (to compare its cost)",
                     min_detection=False)
    add_heads_option(p)
    add_threads_option(p, spinning=True)
    p.add_argument("--loop", choices=LOOPS + ("both",), default="both", help="which live loop(s) to time")
    p.add_argument("--peer-task", type=Path, default=None,
                   help="also time MediaPipe's Gesture Recognizer (.task) on the same frames, and print the ratio")
    p.add_argument("--loops", type=int, default=3, help="times the clip is played per loop (more samples)")
    p.add_argument("--seconds", type=float, default=None,
                   help="soak: replay the clip for this long (pipelined loop) instead of --loops, and report "
                        "memory growth")
    p.add_argument("--crop-view", action="store_true", help="also draw the crop view")
    p.add_argument("--activation-map", "--cam", action=renamed("--cam", flag=True),
                   help="also compute and draw the activation map of each hand (the window's 'x'); its cost is "
                        "the cam stage (--cam is its old name)")
    p.add_argument("--serve-clients", type=int, default=0,
                   help="also stream events and frames (as --serve --serve-frames) to this many connected "
                        "WebSocket clients on loopback, and time it (the serve stage)")
    add_cost_options(p)
    p.add_argument("--wake", action="store_true",
                   help="instead of timing: play the clip with idle mode on and off, and print how much later "
                        "idle mode tracks the first hand that appears after a stretch without one")
    p.add_argument("--verbose", action="store_true", help="debug logging")
    args = p.parse_args(argv)
    check_shared_options(p, args)
    if args.loops < 1 or (args.seconds is not None and not args.seconds > 0):
        p.error("--loops must be >= 1, --seconds > 0")
    check_cost_options(p, args)
    if args.wake and not args.idle_after:
        p.error("--wake needs idle mode: --idle-after above 0")
    return args


def bench_options(args: argparse.Namespace) -> BenchOptions:
    """What to time, from the parsed options."""
    recognition = RecognitionOptions(hand_model=args.hand_model, max_hands=args.max_hands, tiles=not args.no_tiles,
                                     idle_after_ms=args.idle_after, still_frames=args.still_frames,
                                     second_hand_ms=args.second_hand_ms)
    return BenchOptions(source=args.source, recognition=recognition, size=args.size, threads=args.threads,
                        spinning=args.spinning, loop=args.loop, peer_task=args.peer_task, loops=args.loops,
                        seconds=args.seconds, crop_view=args.crop_view, activation_map=args.activation_map,
                        serve_clients=args.serve_clients)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.verbose)
    options = bench_options(args)
    images = read_clip(options.source, options.size)
    classifier = load_classifier(args.model, args.threads, args.spinning, args.heads)
    if args.wake:
        return wake_report(options, images, classifier)
    recognizer = PeerRecognizer(args.peer_task, args.max_hands) if args.peer_task else None
    try:
        return report(options, images, classifier, recognizer)
    finally:
        if recognizer is not None:
            recognizer.close()


if __name__ == "__main__":
    raise SystemExit(run_main(main))
