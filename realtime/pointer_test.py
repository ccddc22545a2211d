"""The pointing test: ISO 9241-9's multidirectional task, for the hand (HandSign's pointer mode) or a mouse.

    python -m realtime.run --camera 0 --pointer &          # the hand moves the pointer
    python -m realtime.pointer_test --label hand           # click each green target as fast and well as you can
    python -m realtime.pointer_test --label mouse          # the same with the mouse
    python -m realtime.pointer_test --report runs/pointer_test/*.json

A ring of targets, one green at a time, for each distance and width; a click on the first starts a
condition. Printed and saved (JSON and a plot in --out): each condition's effective width and
distance, IDe, movement time, errors and throughput (bits/s), and the mean throughput (docs/pointer.md
says how to read them). --report prints saved results side by side without opening a window.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path

from realtime.core.cli import ArgumentParser, has_display, run_main, setup_logging
from realtime.core.errors import HandSignError
from realtime.core.outputs import write_text_atomic

log = logging.getLogger("realtime.pointer_test")


def int_list(text: str) -> tuple[int, ...]:
    """argparse type: ``256,512`` -> (256, 512), each a positive whole number of pixels."""
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give whole pixel numbers separated by commas") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: every value must be at least 1")
    return values


def size_type(text: str) -> tuple[int, int]:
    """argparse type: ``1280x800``."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give WIDTHxHEIGHT, such as 1280x800") from None
    if w < 200 or h < 200:
        raise argparse.ArgumentTypeError(f"{text!r}: at least 200x200")
    return w, h


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m realtime.pointer_test", description=__doc__)
    p.add_argument("--label", default="hand",
                   help="what moves the pointer this time (hand, mouse, touchpad ...): names the results")
    p.add_argument("--distances", type=int_list, default=(256, 512), metavar="A,A",
                   help="ring diameters in pixels (the task's amplitudes)")
    p.add_argument("--widths", type=int_list, default=(32, 64), metavar="W,W", help="target widths in pixels")
    p.add_argument("--targets", type=int, default=9, help="targets on each ring (odd; each is a start and an end)")
    p.add_argument("--size", type=size_type, default=(1280, 800), metavar="WxH", help="the window's size in pixels")
    p.add_argument("--fullscreen", action="store_true",
                   help="fill the screen with the window (its size is then the screen's, and --size is not used)")
    p.add_argument("--out", type=Path, default=Path("runs/pointer_test"),
                   help="where the results (LABEL-TIME.json) and their plot (.png) are written")
    p.add_argument("--trace", action="store_true",
                   help="print each target shown and each trial as a JSON line (to drive or log the test)")
    p.add_argument("--report", type=Path, nargs="+", default=None, metavar="RESULTS.json",
                   help="print saved results side by side and exit (no window)")
    p.add_argument("--verbose", action="store_true", help="debug logging")
    args = p.parse_args(argv)
    if args.targets < 3 or args.targets % 2 == 0:
        p.error("--targets must be an odd number, at least 3")
    return args


def condition_rows(scores) -> list[str]:
    """The per-condition table."""
    rows = ["   A     W  trials  errors    MT ms     We px    Ae px    ID   IDe   TP bits/s"]
    for s in scores:
        rows.append(f"{s.distance:4.0f}  {s.width:4.0f}  {s.trials:6d}  {s.errors:6d}  {s.movement_ms:7.0f}  "
                    f"{s.effective_width:8.1f}  {s.effective_distance:7.1f}  {s.index_of_difficulty:4.2f}  "
                    f"{s.effective_id:4.2f}  {s.throughput:9.2f}")
    return rows


def plot(scores, label: str, path: Path) -> None:
    """Movement time against IDe per condition, with the least-squares line (Fitts' law)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    ide = np.array([s.effective_id for s in scores])
    mt = np.array([s.movement_ms for s in scores])
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.scatter(ide, mt, color="tab:green")
    for s in scores:
        ax.annotate(f"A{s.distance:.0f} W{s.width:.0f}", (s.effective_id, s.movement_ms), fontsize=7)
    if len(scores) >= 2 and np.ptp(ide) > 0:
        slope, icept = np.polyfit(ide, mt, 1)
        xs = np.linspace(0, ide.max() * 1.1, 10)
        ax.plot(xs, icept + slope * xs, color="grey", linewidth=1,
                label=f"MT = {icept:.0f} + {slope:.0f} x IDe ms")
        ax.legend(fontsize=8)
    ax.set_xlabel("IDe (bits)")
    ax.set_ylabel("movement time (ms)")
    ax.set_title(f"pointing test: {label}")
    fig.tight_layout()
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    tmp.replace(path)


def report(paths: Sequence[Path]) -> int:
    """Saved results side by side."""
    rows = ["label                 date              TP bits/s  errors  MT ms  trials"]
    for path in paths:
        try:
            data = json.loads(path.read_text())
            s = data["summary"]
            rows.append(f"{data['label'][:20]:<20}  {data['date']:<16}  {s['throughput']:9.2f}  "
                        f"{s['error_rate']:6.1%}  {s['movement_ms']:5.0f}  {s['trials']:6d}")
        except FileNotFoundError:
            raise HandSignError(f"results not found: {path}") from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise HandSignError(f"{path} is not a pointing test's results ({exc})") from None
    print("\n".join(rows))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.verbose)
    if args.report:
        return report(args.report)
    from realtime.evaluation.fitts import score
    from realtime.evaluation.pointing import PointingOptions, PointingTask

    size = args.size
    if args.fullscreen:
        from realtime.actions.mouse import screen_size
        size = screen_size() or size
    try:
        options = PointingOptions(args.distances, args.widths, args.targets, size, args.fullscreen, args.trace)
    except ValueError as exc:
        raise HandSignError(str(exc)) from None
    if not has_display():
        raise HandSignError("the pointing test needs a display for its window (DISPLAY is not set)")
    args.out.mkdir(parents=True, exist_ok=True)
    trials = PointingTask(options).run()
    if trials is None:
        print("quit before the end: nothing saved")
        return 130
    scores, summary = score(trials)
    print(f"pointing test, {args.label}: {summary['trials']} trials in {summary['conditions']} conditions")
    print("\n".join(condition_rows(scores)))
    print(f"throughput {summary['throughput']:.2f} bits/s (mean of the conditions), errors "
          f"{summary['error_rate']:.1%}, movement time {summary['movement_ms']:.0f} ms")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = args.out / f"{args.label}-{stamp}"
    data = {"label": args.label, "date": time.strftime("%Y-%m-%d %H:%M"), "options": {
        "distances": list(args.distances), "widths": list(args.widths), "targets": args.targets,
        "size": list(size)}, "summary": summary,
        "conditions": [{**s.__dict__, "error_rate": s.error_rate} for s in scores],
        "trials": [t.to_json() for t in trials]}
    write_text_atomic(base.with_suffix(".json"), json.dumps(data, indent=1))
    plot(scores, args.label, base.with_suffix(".png"))
    print(f"saved {base.with_suffix('.json')} and {base.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
