"""Pointer mode measured on clips: jitter while the hand is still, and the smoothing filter's lag.

    python -m realtime.evaluate_pointer --clips ../shared/fixtures/clips

Each clip goes once through the live path (options as `realtime.run`), and its hands are replayed
through pointer mode with the One Euro filter as set (--min-cutoff, --beta) and without it, onto a
1920x1080 screen. No display is needed and the real pointer is not touched (docs/pointer.md).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from realtime.classifier import load_classifier
from realtime.core.cli import ArgumentParser, check_shared_options, run_main, setup_logging
from realtime.evaluation.events import find_clips
from realtime.evaluation.pointer import STILL_FRAMES, figures, record
from realtime.events.cursor import DEFAULT_BETA, DEFAULT_MIN_CUTOFF
from realtime.live.options import (
    add_event_options,
    add_recognition_options,
    check_live_options,
    recognition_options,
    replay_options,
)

log = logging.getLogger("realtime.evaluate_pointer")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m realtime.evaluate_pointer", description=__doc__)
    p.add_argument("--clips", required=True, type=Path, help="a video clip, or a folder of them")
    p.add_argument("--min-cutoff", type=float, default=DEFAULT_MIN_CUTOFF,
                   help="One Euro filter: cutoff (Hz) of a still hand; lower is smoother and laggier")
    p.add_argument("--beta", type=float, default=DEFAULT_BETA,
                   help="One Euro filter: how fast the cutoff rises with speed; higher lags less")
    add_recognition_options(p.add_argument_group("models (as realtime.run)"))
    add_event_options(p.add_argument_group("events (as realtime.run)"))
    p.add_argument("--verbose", action="store_true", help="debug logging")
    args = p.parse_args(argv)
    check_shared_options(p, args)
    check_live_options(p, args)
    if not 0 < args.min_cutoff <= 100 or not 0 <= args.beta <= 10:
        p.error("--min-cutoff must be within 0..100 Hz and --beta within 0..10")
    return args


def _spread(values: list[float]) -> str:
    """median / max, px."""
    return f"{np.median(values):.1f} / {max(values):.1f}"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.verbose)
    clips = find_clips(args.clips)
    classifier = load_classifier(args.model, args.threads, args.spinning, args.heads)
    options, recognition = replay_options(args), recognition_options(args, pointer=True)
    rows = [figures(c.name, record(c, classifier, recognition, options), args.min_cutoff, args.beta) for c in clips]
    width = max(len(r.clip) for r in rows)

    def num(v, unit=""):
        return "-" if v is None else f"{v:.1f}{unit}"

    print(f"{'clip':<{width}}  frames  still  jitter raw  jitter filtered  filter lag")
    for r in rows:
        print(f"{r.clip:<{width}}  {r.frames:>6}  {r.still_frames:>5}  {num(r.jitter_raw, ' px'):>10}  "
              f"{num(r.jitter_filtered, ' px'):>15}  {num(r.lag_ms, ' ms'):>10}")
    print(f"(jitter: pointer RMS over stretches of {STILL_FRAMES}+ frames where the palm stays still; "
          f"One Euro min_cutoff {args.min_cutoff:g} Hz, beta {args.beta:g}; screen 1920x1080)")
    clicked = [r for r in rows if r.clicks_shipped]
    if clicked:
        print("\nclicks and presses: px from where the pointer rested before the hand began the gesture")
        print(f"{'clip':<{width}}  count  landing in place  as shipped")
        for r in clicked:
            print(f"{r.clip:<{width}}  {len(r.clicks_shipped):>5}  {_spread(r.clicks_in_place):>16}  "
                  f"{_spread(r.clicks_shipped):>10}")
        print("(landing in place: the click where the pointer is when it fires, click_settle_ms 0; as shipped: "
              "where it was 100 ms before the gesture began, and after a click still for 300 ms; median / max px)")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
