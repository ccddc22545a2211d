"""HandSign live: webcam (or video/images) -> MediaPipe hands -> ONNX gestures -> overlay.

    python -m realtime.run --camera 0
    python -m realtime.run --source clip.mp4 --headless --max-frames 100 > frames.jsonl

Keys in the window: s snapshot, c crop view, m mirror, t teach mode, a actions on/off, z sleep (camera
off), space pause, h help, q/Esc quit. With --bindings FILE, gestures and swipes press keys or run commands
(docs/bindings.md); nothing fires without it, and --dry-run only logs what would.
In teach mode: type a gesture name + enter, hold r to record the hand, n another gesture, 1-9 pick
one, enter trains and switches to the taught model, esc leaves.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from realtime.actions import BindingsFile, EventDispatcher, OscSender, ProfiledBindings, StreamServer
from realtime.actions.mouse import MouseDriver, PointerMode
from realtime.actions.profiles import DEFAULT_SLEEP_HOTKEY, BindingsConfig
from realtime.actions.stream import parse_address
from realtime.classifier import load_classifier
from realtime.core.cli import ArgumentParser, check_shared_options, has_display, renamed, run_main, setup_logging
from realtime.core.errors import HandSignError
from realtime.desktop import GlobalHotkey, open_focus_reader, start_tray
from realtime.events import POINTER_EVENTS, SWIPES
from realtime.live import HeadlessView, LiveLoop, LiveOptions, Window, open_source
from realtime.live.controls import BackgroundView, LiveControls
from realtime.live.options import (
    add_event_options,
    add_recognition_options,
    check_live_options,
    event_options,
    recognition_options,
)
from realtime.live.recognition import open_pipeline

log = logging.getLogger("realtime.run")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m realtime.run", description=__doc__)
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
    add_recognition_options(p.add_argument_group("models"))
    act = p.add_argument_group("events and actions")
    act.add_argument("--bindings", type=Path, default=None,
                     help="TOML file binding gestures and swipes to keys, commands or printed events "
                          "(examples/bindings/); nothing fires without it")
    act.add_argument("--dry-run", action="store_true",
                     help="with --bindings or --pointer: log what would fire or move, do nothing")
    act.add_argument("--pointer", action="store_true",
                     help="pointer mode: a hand moves the mouse pointer (fingers out move, a fist lifts, two "
                          "fingers scroll on both axes), a pinch or tap clicks, a held pinch drags; settings in "
                          "the bindings file's [pointer] table (docs/pointer.md)")
    act.add_argument("--events-only", action="store_true",
                     help="headless, printing only the gesture events on stdout, one JSON line each "
                          "(instead of frame lines)")
    add_event_options(act)
    net = p.add_argument_group("stream to other programs")
    net.add_argument("--serve", type=address_type, default=None, metavar="[HOST:]PORT",
                     help="WebSocket server broadcasting every gesture event as JSON (docs/stream.schema.json), "
                          "and the example page at http://HOST:PORT/; HOST defaults to 127.0.0.1 (this machine "
                          "only)")
    net.add_argument("--serve-frames", action="store_true", help="with --serve: also every frame's hands")
    net.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                     help="with --serve: also let browser pages from this origin connect (e.g. "
                          "http://localhost:3000; repeatable; '*' lets any page in, with a warning). Pages "
                          "served by HandSign itself and programs that send no Origin are always let in")
    net.add_argument("--serve-token", default=None, metavar="TOKEN",
                     help="with --serve: the token a page from any other origin (or opened as a file) puts in its "
                          "URL (?token=TOKEN); default: a random one, printed at start")
    net.add_argument("--osc", type=address_type, default=None, metavar="[HOST:]PORT",
                     help="send every gesture event as an OSC message over UDP (/handsign/gesture/start ...); "
                          "HOST defaults to 127.0.0.1")
    out = p.add_argument_group("output")
    out.add_argument("--headless", action="store_true", help="no window: one JSON line per frame on stdout")
    out.add_argument("--background", action="store_true",
                     help="no window and no output, with a tray icon showing the state (on, paused, asleep, "
                          "pointer, profile); its menu sleeps and wakes, pauses the actions, turns pointer mode on "
                          "and off, opens the window, reloads the bindings, quits (docs/desktop.md)")
    out.add_argument("--max-frames", type=int, default=None, help="stop after this many frames")
    out.add_argument("--snapshot-dir", type=Path, default=Path("snapshots"), help="where 's' saves snapshots")
    out.add_argument("--record", type=Path, default=None, help="write the annotated video to this .mp4")
    out.add_argument("--teach-dir", type=Path, default=Path("teach"),
                     help="where teach mode ('t') records crops, one folder per gesture, and writes taught.onnx")
    out.add_argument("--teach-keep-base", action=argparse.BooleanOptionalAction, default=True,
                     help="taught models keep the base model's gestures and add the new ones")
    out.add_argument("--crop-view", action="store_true", help="start with the crop view on ('c' toggles)")
    out.add_argument("--activation-map", "--cam", action=renamed("--cam", flag=True),
                     help="start with the activation map over the crop view on ('x' toggles): where the model "
                          "looked for the shown label (class activation map, or occlusion for other models); "
                          "--cam is its old name")
    out.add_argument("--verbose", action="store_true", help="debug logging")
    args = p.parse_args(argv)
    check_shared_options(p, args)
    check_live_options(p, args)
    if not 0 <= args.reconnect_seconds <= 3600:
        p.error("--reconnect-seconds must be within 0..3600")
    if args.max_frames is not None and args.max_frames < 1:
        p.error("--max-frames must be >= 1")
    if args.background and (args.headless or args.events_only):
        p.error("--background has no output of its own: leave out --headless and --events-only")
    args.headless = args.headless or args.events_only
    if (args.serve_frames or args.allow_origin or args.serve_token) and args.serve is None:
        p.error("--serve-frames, --allow-origin and --serve-token go with --serve [HOST:]PORT")
    bad = [o for o in args.allow_origin if o not in ("*", "null") and not re.match(r"^https?://[^/?#]+/?$", o)]
    if bad:
        p.error(f"--allow-origin {bad[0]!r}: give an origin such as http://localhost:3000 (scheme, host and "
                "port, no path), 'null' for pages opened as files, or '*'")
    if args.serve_token is not None and len(args.serve_token) < 8:
        p.error("--serve-token must be at least 8 characters")
    if args.dry_run and args.bindings is None and not args.pointer:
        p.error("--dry-run goes with --bindings FILE or --pointer")
    if args.width < 1 or args.height < 1:
        p.error("--width and --height must be >= 1")
    return args


def address_type(text: str) -> tuple[str, int]:
    """argparse type for [HOST:]PORT."""
    try:
        return parse_address(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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


def live_options(args: argparse.Namespace, right_click: bool = False) -> LiveOptions:
    """The loop's frozen settings, from the parsed options; ``right_click``: the bindings file asks for it."""
    return LiveOptions(headless=args.headless, events_only=args.events_only, serial=args.serial, mirror=args.mirror,
                       max_frames=args.max_frames, threshold=args.threshold,
                       events=event_options(args, right_click=right_click),
                       record=args.record, snapshot_dir=args.snapshot_dir, teach_dir=args.teach_dir,
                       teach_keep_base=args.teach_keep_base, threads=args.threads, spinning=args.spinning,
                       crop_view=args.crop_view, activation_map=args.activation_map)


def build_dispatcher(args: argparse.Namespace, labels: Sequence[str], model_name: str | None,
                     stack: ExitStack) -> tuple[EventDispatcher | None, BindingsConfig | None]:
    """Bindings (with their profiles), pointer, stream and OSC as asked for, and the bindings file read;
    no dispatcher when nothing acts on events (in the background there always is one, for the tray)."""
    bindings = runner = stream = pointer = bindings_file = config = None
    if args.bindings is not None:
        bindings_file = BindingsFile(args.bindings, labels, args.dry_run)
        config, runner = bindings_file.load()
        focus = open_focus_reader() if config.profiles else None
        if focus is not None and hasattr(focus, "close"):
            stack.callback(focus.close)
        bindings = ProfiledBindings(config, focus)
        log.info("%d bindings from %s%s: %s", len(config.default.bindings), args.bindings,
                 " (dry run)" if args.dry_run else "", "; ".join(b.describe() for b in config.default.bindings))
        for profile in config.profiles:
            log.info("profile %s (%s%s): %s", profile.name, profile.match.describe(),
                     ", inherits the default bindings" if profile.inherit else "",
                     "; ".join(b.describe() for b in profile.bindings) or "no bindings: nothing fires")

    def make_pointer(settings: dict) -> PointerMode:
        mode = PointerMode(MouseDriver(args.dry_run), **settings)
        log.info("pointer mode%s: screen %dx%d, %s", " (dry run)" if args.dry_run else "", *mode.driver.screen,
                 ", ".join(f"{k} {v}" for k, v in settings.items()) or "default settings")
        return mode

    if args.pointer:
        pointer = make_pointer(config.default.pointer if config is not None else {})
    osc = OscSender(*args.osc) if args.osc else None
    if args.serve:
        stream = stack.enter_context(StreamServer(*args.serve, hello={"labels": list(labels), "swipes": list(SWIPES),
                                                                      "pointer": list(POINTER_EVENTS),
                                                                      "model": model_name,
                                                                      "frames": args.serve_frames},
                                                      allow_origins=tuple(args.allow_origin), token=args.serve_token))
    if bindings is None and stream is None and osc is None and pointer is None and not args.background:
        if runner is not None:
            runner.close()
        return None, config
    dispatcher = EventDispatcher(bindings, runner if bindings is not None else None, stream, osc, args.serve_frames,
                                 pointer, bindings_file=bindings_file,
                                 make_pointer=make_pointer if has_display() or args.dry_run else None)
    stack.callback(dispatcher.close)
    dispatcher.install_signal()
    return dispatcher, config


def sleep_hotkey(args: argparse.Namespace, config: BindingsConfig | None) -> str | None:
    """The global sleep hotkey to listen to, or None: windows and background runs listen to the
    default one; headless runs only to one the bindings file names; "" in the file turns it off."""
    if config is not None and config.desktop.sleep_hotkey_written:
        return config.desktop.sleep_hotkey or None
    return None if args.headless or not has_display() else DEFAULT_SLEEP_HOTKEY


def install_sleep_controls(loop: LiveLoop, chord: str | None, stack: ExitStack) -> None:
    """SIGUSR2 and the global hotkey put the run to sleep and wake it."""
    if hasattr(signal, "SIGUSR2"):
        signal.signal(signal.SIGUSR2, lambda *_: loop.sleep.toggle("SIGUSR2"))
        log.info("sleep (camera released) and wake: kill -USR2 %d%s", os.getpid(), f", or {chord}" if chord else "")
    if chord:
        hotkey = GlobalHotkey(chord, lambda: loop.sleep.toggle(f"hotkey {chord}"))
        if hotkey.start():
            stack.callback(hotkey.close)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.verbose)
    if not args.headless and not args.background and not has_display():
        # cv2.imshow without a display aborts the whole process, uncatchably: check first
        raise HandSignError("no display for a window (DISPLAY is not set): run with --headless "
                            "for JSON output, or start an X server")
    check_writable(args.snapshot_dir, "snapshot folder")
    if args.record:
        check_writable(args.record.parent, "recording folder")
    classifier = load_classifier(args.model, args.threads, args.spinning, args.heads)
    labels = list(classifier.labels) if classifier else []
    with ExitStack() as stack:
        dispatcher, config = build_dispatcher(args, labels, classifier.path.name if classifier else None, stack)
        source = stack.enter_context(open_source(args.camera, args.source, args.width, args.height, args.loop,
                                                 args.reconnect_seconds))
        pipeline = open_pipeline(stack, source, classifier, recognition_options(args, pointer=args.pointer))
        loop = LiveLoop(live_options(args, right_click=config is not None and config.right_click), source, pipeline,
                        dispatcher)
        chord = sleep_hotkey(args, config)
        install_sleep_controls(loop, chord, stack)
        hint = f"{chord + ', ' if chord else ''}z, the tray or SIGUSR2 wakes it"

        def window() -> Window:
            made = Window(loop)
            made.wake_hint = hint
            return made

        if args.background:
            view = BackgroundView(loop, window if has_display() else None)
            tray = start_tray(LiveControls(loop, dispatcher, view))
            if tray is not None:
                stack.callback(tray.close)
        else:
            view = HeadlessView(loop) if args.headless else window()
        try:
            return loop.run(view)
        finally:
            view.close()


if __name__ == "__main__":
    raise SystemExit(run_main(main))
