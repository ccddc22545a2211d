"""What the desktop features cost: the focused-window lookup per call, and a run's CPU asleep and awake.

    python scripts/measure_desktop.py --source ../shared/fixtures/clips/swipe_left_right.mp4

Needs an X display with a window manager for the lookup (Xvfb and openbox do). The run is
`realtime.run --source CLIP --loop --headless`; its CPU time is read from /proc (Linux) over
--seconds while awake, then again after SIGUSR2 put it to sleep.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from realtime.core.cli import ArgumentParser, run_main
from realtime.core.errors import HandSignError
from realtime.desktop.focus import open_focus_reader


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv=None) -> int:
    p = ArgumentParser(prog="python scripts/measure_desktop.py", description=__doc__)
    p.add_argument("--source", type=Path, required=True, help="a clip to loop as the camera")
    p.add_argument("--seconds", type=float, default=10.0, help="how long to measure each state")
    p.add_argument("--lookups", type=int, default=500, help="focused-window lookups to time")
    args = p.parse_args(argv)
    if not args.source.exists():
        raise HandSignError(f"source not found: {args.source}")
    read = open_focus_reader()
    if read is not None:
        start = time.perf_counter()
        for _ in range(args.lookups):
            window = read()
        per = (time.perf_counter() - start) / args.lookups * 1000
        print(f"focused-window lookup: {per:.3f} ms a call ({args.lookups} calls; last: "
              f"{window.describe() if window else None}); profiles look every 0.25 s")
    proc = subprocess.Popen([sys.executable, "-m", "realtime.run", "--source", str(args.source), "--loop",
                             "--headless"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stderr:
            if "sleep (camera released) and wake" in line:
                break
        time.sleep(3)  # models loaded, the loop running
        c0, t0 = cpu_seconds(proc.pid), time.monotonic()
        time.sleep(args.seconds)
        awake = (cpu_seconds(proc.pid) - c0) / (time.monotonic() - t0)
        proc.send_signal(signal.SIGUSR2)
        time.sleep(1)
        c0, t0 = cpu_seconds(proc.pid), time.monotonic()
        time.sleep(args.seconds)
        asleep = (cpu_seconds(proc.pid) - c0) / (time.monotonic() - t0)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    print(f"CPU of the run, cores busy: awake {awake:.2f}, asleep {asleep:.4f} ({args.seconds:g} s each, "
          f"{args.source.name} looped as fast as it decodes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
