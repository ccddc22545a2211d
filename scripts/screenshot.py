"""docs/screenshot.png: the live window on a real HaGRID photo with the crop view on, under Xvfb.

    python scripts/screenshot.py docs/screenshot.png

Needs Xvfb, xdotool and ImageMagick's `import` (Debian: xvfb xdotool imagemagick). The window is the
real one (`python -m realtime.run --source PHOTO --loop --crop-view`), captured once it is drawn.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT.parent / "shared" / "fixtures" / "photos" / "hand_3.jpg"


def main(out: Path) -> int:
    display = ":87"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            stderr=subprocess.DEVNULL)
    env = {**os.environ, "DISPLAY": display}
    app = None
    try:
        time.sleep(1)
        app = subprocess.Popen([sys.executable, "-m", "realtime.run", "--source", str(PHOTO), "--loop",
                                "--crop-view"], cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
        window = subprocess.run(["timeout", "60", "xdotool", "search", "--sync", "--name", "^HandSign$"], env=env,
                                capture_output=True, text=True, check=True).stdout.split()[0]
        time.sleep(4)  # a few frames: the smoothed label and the fps settle
        subprocess.run(["import", "-window", window, str(out)], env=env, check=True)
        print(f"wrote {out}")
        return 0
    finally:
        if app is not None:
            app.terminate()
            app.wait(timeout=30)
        xvfb.terminate()


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshot.png"))
