"""HandSign live: webcam (or video/images) -> MediaPipe hands -> ONNX gestures -> overlay.

    python -m realtime.run --camera 0
    python -m realtime.run --source clip.mp4 --headless --max-frames 100 > frames.jsonl

Keys in the window: s snapshot, c crop view, m mirror, t teach mode, a actions on/off, space pause,
h help, q/Esc quit. With --bindings FILE, gestures and swipes press keys or run commands (README:
Control your desktop); nothing fires without it, and --dry-run only logs what would.
In teach mode: type a gesture name + enter, hold r to record the hand, n another gesture, 1-9 pick
one, enter trains and switches to the taught model, esc leaves.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import tempfile
import time
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from realtime.actions import ActionRunner
from realtime.bindings import BindingEngine, load_bindings
from realtime.classifier import GestureClassifier
from realtime.cli import ArgumentParser, HelpFormatter, run_main, setup_logging
from realtime.contract import FRAMINGS
from realtime.errors import HandSignError
from realtime.event_detector import EventDetector
from realtime.events import DEFAULT_HOLD_EVERY_MS, DEFAULT_MIN_HOLD_MS, GestureEvents
from realtime.hands import HandTracker
from realtime.search import DistantHandSearch
from realtime.outputs import write_image_atomic, write_text_atomic
from realtime.overlay import Annotator
from realtime.paths import GESTURE_MODEL, hand_model_path
from realtime.pipeline import FrameResult, GesturePipeline
from realtime.pipelined import detections
from realtime.sources import Frame, Source, open_source
from realtime.stream import OscSender, StreamServer, event_message, frame_message, parse_address
from realtime.swipes import DEFAULT_MIN_DISTANCE, SWIPES, SwipeDetector
from realtime.teach_mode import TeachMode

log = logging.getLogger("realtime.run")
WINDOW = "HandSign"
NO_MODEL_BANNER = ("No gesture model (--model none, or models/handsign.onnx missing): hands are tracked, "
                   "not labelled. Pass --model FILE.onnx (README: Train)")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m realtime.run", description=__doc__, formatter_class=HelpFormatter)
    src = p.add_argument_group("source")
    src.add_argument("--camera", type=int, default=None, help="camera index (used when no --source; default 0)")
    src.add_argument("--source", type=Path, default=None, help="video file, image file or folder of images")
    src.add_argument("--loop", action="store_true", help="replay a file source until quit")
    src.add_argument("--reconnect-seconds", type=float, default=10.0,
                     help="a camera that stops delivering frames is re-opened for this long, then the run ends")
    src.add_argument("--width", type=int, default=640, help="width requested from the camera")
    src.add_argument("--height", type=int, default=480, help="height requested from the camera")
    src.add_argument("--mirror", action=argparse.BooleanOptionalAction, default=None,
                     help="mirror the view (default: on for cameras, off for files)")
    mdl = p.add_argument_group("models")
    mdl.add_argument("--model", type=Path, default=None,
                     help=f"gesture model (.onnx); default {GESTURE_MODEL.relative_to(GESTURE_MODEL.parents[1])} "
                          "(shipped); 'none' tracks hands without labels")
    mdl.add_argument("--hand-model", type=hand_model_path, default="auto",
                     help="MediaPipe hand model: auto (lite for video and cameras, full for single images), full, "
                          "lite (faster landmarks, the same palm detector) or a .task path")
    mdl.add_argument("--max-hands", type=int, default=2, help="hands tracked at once")
    mdl.add_argument("--min-detection", type=float, default=0.5, help="MediaPipe palm detection confidence")
    mdl.add_argument("--no-tiles", action="store_true",
                     help="do not search overlapping tiles for small, distant hands the whole-frame pass misses "
                          "(images: in the same step; video and camera: in the background, then followed)")
    mdl.add_argument("--threshold", type=float, default=0.6, help="below this smoothed confidence a hand is 'unsure'")
    mdl.add_argument("--smooth", type=int, default=5, help="frames averaged per hand (1 = off)")
    mdl.add_argument("--crop-margin", type=float, default=None,
                     help="margin around the hand, fraction of its size (default: the model's own)")
    mdl.add_argument("--framing", choices=FRAMINGS, default=None,
                     help="crop framing: hand (grown landmark box, grey-padded) or context (square with "
                          "surroundings); default: the model's own")
    mdl.add_argument("--threads", type=int, default=2, help="onnxruntime threads for the classifier")
    mdl.add_argument("--spinning", action=argparse.BooleanOptionalAction, default=False,
                     help="let onnxruntime's idle threads spin-wait (they then compete with the hand tracker)")
    mdl.add_argument("--serial", action="store_true",
                     help="find the hands and classify them one after the other, instead of tracking the "
                          "next frame on a second thread while this one is classified")
    act = p.add_argument_group("events and actions")
    act.add_argument("--bindings", type=Path, default=None,
                     help="TOML file binding gestures and swipes to keys, commands or printed events "
                          "(examples/bindings/); nothing fires without it")
    act.add_argument("--dry-run", action="store_true", help="with --bindings: log what would fire, do nothing")
    act.add_argument("--events-only", action="store_true",
                     help="headless, printing only the gesture events on stdout, one JSON line each "
                          "(instead of frame lines)")
    act.add_argument("--min-hold", type=int, default=DEFAULT_MIN_HOLD_MS,
                     help="ms a gesture must be shown before its start event (a passing shape fires nothing)")
    act.add_argument("--hold-every", type=int, default=DEFAULT_HOLD_EVERY_MS,
                     help="ms between hold events while a gesture stays (0: no hold events)")
    act.add_argument("--swipe-distance", type=float, default=DEFAULT_MIN_DISTANCE,
                     help="how far a swipe must move, in hand sizes, within 0.8 s")
    net = p.add_argument_group("stream to other programs")
    net.add_argument("--serve", type=address_type, default=None, metavar="[HOST:]PORT",
                     help="WebSocket server broadcasting every gesture event as JSON (docs/stream.schema.json), "
                          "and the example page at http://HOST:PORT/; HOST defaults to 127.0.0.1 (this machine "
                          "only)")
    net.add_argument("--serve-frames", action="store_true", help="with --serve: also every frame's hands")
    net.add_argument("--osc", type=address_type, default=None, metavar="[HOST:]PORT",
                     help="send every gesture event as an OSC message over UDP (/handsign/gesture/start ...); "
                          "HOST defaults to 127.0.0.1")
    out = p.add_argument_group("output")
    out.add_argument("--headless", action="store_true", help="no window: one JSON line per frame on stdout")
    out.add_argument("--max-frames", type=int, default=None, help="stop after this many frames")
    out.add_argument("--snapshot-dir", type=Path, default=Path("snapshots"), help="where 's' saves snapshots")
    out.add_argument("--record", type=Path, default=None, help="write the annotated video to this .mp4")
    out.add_argument("--teach-dir", type=Path, default=Path("teach"),
                     help="where teach mode ('t') records crops, one folder per gesture, and writes taught.onnx")
    out.add_argument("--teach-keep-base", action=argparse.BooleanOptionalAction, default=True,
                     help="taught models keep the base model's gestures and add the new ones")
    out.add_argument("--crop-view", action="store_true", help="start with the crop view on ('c' toggles)")
    out.add_argument("--cam", action="store_true",
                     help="start with the activation map over the crop view on ('x' toggles): where the model "
                          "looked for the shown label (class activation map, or occlusion for other models)")
    out.add_argument("--verbose", action="store_true", help="debug logging")
    args = p.parse_args(argv)
    if args.max_hands < 1 or args.smooth < 1 or not 0 <= args.threshold <= 1:
        p.error("--max-hands and --smooth must be >= 1 and --threshold within 0..1")
    if args.crop_margin is not None and not 0 <= args.crop_margin <= 2:
        p.error("--crop-margin must be within 0..2")
    if not 0 <= args.reconnect_seconds <= 3600:
        p.error("--reconnect-seconds must be within 0..3600")
    if args.max_frames is not None and args.max_frames < 1:
        p.error("--max-frames must be >= 1")
    if not 0 <= args.min_hold <= 10000 or not 0 <= args.hold_every <= 60000 or not 0.2 <= args.swipe_distance <= 20:
        p.error("--min-hold must be within 0..10000 ms, --hold-every within 0..60000 ms, "
                "--swipe-distance within 0.2..20")
    args.headless = args.headless or args.events_only
    if args.serve_frames and args.serve is None:
        p.error("--serve-frames goes with --serve [HOST:]PORT")
    if args.dry_run and args.bindings is None:
        p.error("--dry-run goes with --bindings FILE")
    if not 0 <= args.min_detection <= 1 or args.threads < 0 or args.width < 1 or args.height < 1:
        p.error("--min-detection must be within 0..1, --threads >= 0, --width and --height >= 1")
    return args


def address_type(text: str) -> tuple[str, int]:
    """argparse type for [HOST:]PORT."""
    try:
        return parse_address(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def check_display() -> None:
    """cv2.imshow without a display aborts the whole process, uncatchably: check first."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise HandSignError("no display for a window (DISPLAY is not set): run with --headless "
                            "for JSON output, or start an X server")


def check_writable(folder: Path, what: str) -> None:
    """Fail early if ``folder`` could not be written; creates nothing that stays."""
    probe = folder.resolve()
    while not probe.exists():
        probe = probe.parent
    try:
        if not probe.is_dir():
            raise NotADirectoryError(f"{probe} is a file")
        tempfile.TemporaryFile(dir=probe).close()
    except OSError as exc:
        raise HandSignError(f"{what} {folder} is not writable ({exc.strerror or exc}); "
                            "pass another folder") from None


def load_classifier(path: Path | None, threads: int, spinning: bool = False) -> GestureClassifier | None:
    """The gesture model: ``path``, else the shipped one; ``none`` tracks hands without labels."""
    if path is not None and str(path).lower() == "none":
        return None
    if path is None:
        if not GESTURE_MODEL.is_file():
            log.warning("no gesture model at %s: tracking hands without labels", GESTURE_MODEL)
            return None
        path = GESTURE_MODEL
    classifier = GestureClassifier(path, threads=threads, spinning=spinning)
    log.info("%r", classifier)
    return classifier


def save_snapshot(folder: Path, canvas: np.ndarray, result: FrameResult) -> Path:
    """The annotated frame, each raw crop and the predictions as JSON, under one timestamp."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    for i, hand in enumerate(result.hands):
        write_image_atomic(folder / f"{stem}_crop{i}.png", hand.crop)
    write_text_atomic(folder / f"{stem}_predictions.json", json.dumps(result.to_json(), indent=1))
    return write_image_atomic(folder / f"{stem}_frame.png", canvas)


class Recorder:
    """Writes annotated frames to a video; opens lazily so the first frame sets the size."""

    def __init__(self, path: Path | None, fps: float) -> None:
        self.path, self.fps, self._writer = path, fps, None

    def write(self, canvas: np.ndarray) -> None:
        if self.path is None:
            return
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            h, w = canvas.shape[:2]
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (w, h))
            if not self._writer.isOpened():
                raise HandSignError(f"cannot write video {self.path}")
        self._writer.write(canvas)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()


class LiveApp:
    """The loop: frames through the pipeline, then a window with keys, or JSON lines."""

    def __init__(self, args: argparse.Namespace, source: Source, pipeline: GesturePipeline,
                 engine: BindingEngine | None = None, actions: ActionRunner | None = None,
                 stream: StreamServer | None = None, osc: OscSender | None = None) -> None:
        self.args, self.source, self.pipeline = args, source, pipeline
        self.events = EventDetector(GestureEvents(args.min_hold, hold_every_ms=args.hold_every),
                                    SwipeDetector(args.swipe_distance))
        self.engine, self.actions = engine, actions
        self.stream, self.osc = stream, osc
        self.actions_paused = False
        self.mirror = source.live if args.mirror is None else args.mirror
        self.show_crops, self.show_help, self.paused = args.crop_view, True, False
        pipeline.keep_feature_maps = args.cam  # the activation map is on ('x')
        self.message, self.message_until = "", 0.0
        self.annotator = Annotator(args.threshold)
        self.recorder = Recorder(args.record, source.fps or 30.0)
        self.frames, self.hands_seen, self.fps = 0, 0, 0.0
        base = pipeline.classifier.path if pipeline.classifier else None
        self.teach = TeachMode(args.teach_dir, base, args.teach_keep_base, args.threads)

    def annotate(self, result: FrameResult) -> np.ndarray:
        if self.show_crops or self.teach.state.active:
            self.pipeline.model_views(result.hands)
            if self.pipeline.keep_feature_maps and not self.teach.state.active:
                self.pipeline.activation_maps(result.hands)
        banner = None
        if self.paused:
            banner = "paused (space resumes)"
        elif time.monotonic() < self.message_until:
            banner = self.message
        elif getattr(self.source, "status", None):
            banner = self.source.status
        elif self.pipeline.classifier is None:
            banner = NO_MODEL_BANNER
        teach = self.teach.lines() if self.teach.state.active else None
        return self.annotator.draw(result, self.fps, self.show_crops or bool(teach), self.show_help and not teach, banner,
                                   teach, self.teach.recording, self.actions_status())

    def actions_status(self) -> str | None:
        if self.engine is None:
            return None
        if self.actions_paused:
            return "actions PAUSED (a resumes)"
        return "actions: dry run (a pauses)" if self.args.dry_run else "actions on (a pauses)"

    def toggle_actions(self, *_) -> None:
        """The kill switch: pause or resume every binding at once (key a, or SIGUSR1)."""
        if self.engine is None:
            self.say("no --bindings: nothing to pause")
            return
        self.actions_paused = not self.actions_paused
        self.say("actions paused: nothing fires (a resumes)" if self.actions_paused else "actions resumed")

    def handle_key(self, key: int, canvas: np.ndarray, result: FrameResult) -> bool:
        """Apply a key; returns False to quit."""
        if self.teach.state.active:
            action = self.teach.handle_key(key)
            if action == "train":
                self.train_taught(result)
            elif action == "leave":
                self.say("left teach mode")
            return action != "quit"
        if key == ord("t"):
            self.teach.enter()
            return True
        if key in (ord("q"), 27):
            return False
        if key == ord("s"):
            try:
                self.say(f"snapshot saved: {save_snapshot(self.args.snapshot_dir, canvas, result)}")
            except OSError as exc:  # e.g. the disk filled up since start-up: report, keep running
                self.say(f"snapshot failed: {exc.strerror or exc}")
        elif key == ord("c"):
            self.show_crops = not self.show_crops
        elif key == ord("x"):  # where the model looked: the activation map over the crop view
            self.pipeline.keep_feature_maps = not self.pipeline.keep_feature_maps
            self.show_crops = self.show_crops or self.pipeline.keep_feature_maps
        elif key == ord("m"):
            self.mirror = not self.mirror
            self.pipeline.smoother.reset()
            self.events.reset()
        elif key == ord("h"):
            self.show_help = not self.show_help
        elif key == ord("a"):
            self.toggle_actions()
        elif key == ord(" "):
            self.paused = not self.paused
        return True

    def train_taught(self, result: FrameResult) -> None:
        """Fit on the recorded gestures and switch to the taught model; problems show as a banner."""
        self.say("training on the recorded gestures...")
        cv2.imshow(WINDOW, self.annotate(result))  # teach mode only exists in the window
        cv2.waitKey(1)
        try:
            taught = self.teach.train()
            self.pipeline.use_classifier(GestureClassifier(taught.out, threads=self.args.threads,
                                                                spinning=self.args.spinning))
        except HandSignError as exc:
            self.say(f"teach: {exc}")
            return
        v = taught.validation  # always cross-validated in the window
        weakest = min(v.per_class, key=v.per_class.get)
        self.say(f"now using {taught.out} ({len(taught.labels)} gestures; cross-validated {v.accuracy:.0%}, "
                 f"weakest {weakest} {v.per_class[weakest]:.0%}) in {taught.seconds:.1f} s")

    def say(self, text: str, seconds: float = 3.0, logged: bool = False) -> None:
        """A banner for ``seconds``; logged too unless the caller has logged it already."""
        if not logged:
            log.info(text)
        self.message, self.message_until = text, time.monotonic() + seconds

    def run(self) -> int:
        headless = self.args.headless
        if not headless:
            cv2.namedWindow(WINDOW, cv2.WINDOW_AUTOSIZE)
        if self.engine is not None and hasattr(signal, "SIGUSR1"):
            signal.signal(signal.SIGUSR1, self.toggle_actions)
        started = time.perf_counter()
        code = 0
        try:
            self._loop(headless)
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM: keep what was recorded, still print the summary
            log.warning("interrupted: stopping")
            code = 130
        elapsed = time.perf_counter() - started
        log.info("%d frames in %.1f s (%.1f fps), %d hand detections, source %s",
                 self.frames, elapsed, self.frames / max(elapsed, 1e-6), self.hands_seen, self.source.name)
        return code

    def _loop(self, headless: bool) -> None:
        last = time.perf_counter()
        result = None
        with detections(self.pipeline, self.source, lambda: self.mirror, not self.args.serial) as found:
            for item in found:
                if isinstance(item, Frame):  # the camera is reconnecting: keep the window alive, showing the status
                    if not headless and result is not None and not self.show(self.annotate(result), result):
                        break
                    continue
                if item.mirrored != self.mirror:
                    continue  # tracked before `m` was pressed: the next frame comes the new way round
                result = self.pipeline.finish(item)
                if self.teach.recording and not self.paused:
                    try:
                        self.teach.record(result)
                    except OSError as exc:
                        self.say(f"recording failed: {exc.strerror or exc}")
                events = self.act(result)
                self.frames += 1
                self.hands_seen += len(result.hands)
                now = time.perf_counter()
                rate = 1.0 / max(now - last, 1e-6)
                self.fps = 0.9 * self.fps + 0.1 * rate if self.fps else rate
                last = now
                if self.args.events_only:
                    for event in events:
                        print(json.dumps(event.to_json()), flush=True)
                elif headless:
                    print(json.dumps({**result.to_json(), "events": [e.to_json() for e in events]}), flush=True)
                if headless:
                    if self.args.record:
                        self.recorder.write(self.annotate(result))
                else:
                    canvas = self.annotate(result)
                    self.recorder.write(canvas)
                    if not self.show(canvas, result):
                        break
                if self.args.max_frames and self.frames >= self.args.max_frames:
                    break
        if self.args.events_only and result is not None:  # gestures still shown when the source ended
            for event in self.events.gestures.flush(result.frame.timestamp_ms, result.frame.index):
                print(json.dumps(event.to_json()), flush=True)

    def act(self, result: FrameResult) -> list:
        """This frame's gesture events: streamed, and firing the bindings they trigger (unless paused)."""
        events = self.events.update(result, self.mirror)
        for event in events:
            if self.stream is not None:
                self.stream.publish(event_message(event))
            if self.osc is not None:
                self.osc.send(event)
        if self.stream is not None and self.args.serve_frames:
            self.stream.publish(frame_message({**result.to_json(), "events": [e.to_json() for e in events]}))
        if self.engine is None:
            return events
        for firing in self.engine.update(result.frame.timestamp_ms, events, self.events.gestures.active,
                                         result.frame.index):
            if self.actions_paused:
                log.info("paused: not firing %s", firing.binding.describe())
                continue
            self.say(f"-> {self.actions.fire(firing)}", seconds=1.5, logged=True)
        return events

    def show(self, canvas: np.ndarray, result: FrameResult) -> bool:
        """Show a frame and handle keys (waiting here while paused); False to quit."""
        while True:
            cv2.imshow(WINDOW, canvas)
            key = cv2.waitKey(1 if not self.paused else 30) & 0xFF
            if key != 0xFF:
                if not self.handle_key(key, canvas, result):
                    return False
                canvas = self.annotate(result)
                cv2.imshow(WINDOW, canvas)
            if cv2.getWindowProperty(WINDOW, cv2.WND_PROP_VISIBLE) < 1:
                return False  # the user closed the window
            if not self.paused:
                return True

    def close(self) -> None:
        self.recorder.close()
        if self.actions is not None:
            self.actions.close()
        if not self.args.headless:
            cv2.destroyAllWindows()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.verbose)
    if not args.headless:
        check_display()
    check_writable(args.snapshot_dir, "snapshot folder")
    if args.record:
        check_writable(args.record.parent, "recording folder")
    classifier = load_classifier(args.model, args.threads, args.spinning)
    engine = actions = None
    if args.bindings is not None:
        bindings = load_bindings(args.bindings, classifier.labels if classifier else ())
        actions = ActionRunner(bindings, args.bindings, args.dry_run)
        engine = BindingEngine(bindings)
        log.info("%d bindings from %s%s: %s", len(bindings), args.bindings, " (dry run)" if args.dry_run else "",
                 "; ".join(b.describe() for b in bindings))
    osc = OscSender(*args.osc) if args.osc else None
    labels = list(classifier.labels) if classifier else []
    with (StreamServer(*args.serve, hello={"labels": labels, "swipes": list(SWIPES),
                                           "model": classifier.path.name if classifier else None,
                                           "frames": args.serve_frames})
          if args.serve else nullcontext()) as stream, \
            open_source(args.camera, args.source, args.width, args.height, args.loop,
                     args.reconnect_seconds) as source, \
            HandTracker(args.hand_model, args.max_hands, video=not source.still,
                        min_detection=args.min_detection, tiles=not args.no_tiles) as tracker, \
            (nullcontext() if source.still or args.no_tiles else
             DistantHandSearch(args.hand_model, args.max_hands, args.min_detection, wait=not source.live)) as search:
        pipeline = GesturePipeline(tracker, classifier, args.threshold, args.smooth, args.crop_margin,
                                   args.framing, search)
        app = LiveApp(args, source, pipeline, engine, actions, stream, osc)
        try:
            return app.run()
        finally:
            app.close()


if __name__ == "__main__":
    raise SystemExit(run_main(main))
