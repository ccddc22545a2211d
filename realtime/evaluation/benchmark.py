"""Timing the live loop (the library behind ``python -m realtime.bench``): the clip's frames through
the same pipeline, events and overlay as the live tool, per stage, with each frame's latency from
"captured" to "classified", the throughput, and the CPU time of all threads per frame; MediaPipe's
Gesture Recognizer on the same frames for comparison; and the wake-up delay of idle mode."""

from __future__ import annotations

import asyncio
import os
import threading
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np
import onnxruntime as ort

from realtime.core.errors import HandSignError
from realtime.events.detector import EventDetector
from realtime.hands.peer import PeerRecognizer
from realtime.hands.tracker import DEFAULT_SECOND_HAND_MS, HandTracker
from realtime.live.overlay import Annotator
from realtime.live.pipeline import GesturePipeline
from realtime.live.pipelined import detections
from realtime.classifier.model import GestureClassifier
from realtime.hands.idle import DEFAULT_CONFIRM_FRAMES, DEFAULT_IDLE_AFTER_MS, IdlePacer
from realtime.hands.search import DistantHandSearch
from realtime.hands.still import DEFAULT_MAX_REUSED, StillHands
from realtime.live.sources import Frame, VideoFileSource
from realtime.actions.stream import StreamServer, event_message, frame_message
from realtime.core.timing import summarize_ms

STAGES = ("capture", "hands", "search", "classify", "cam", "draw", "serve")
LOOPS = ("pipelined", "serial")
FRAME_MS = 1000.0 / 15


@dataclass
class LoopStats:
    """One loop's samples: per-stage ms, per-frame latency (s), wall time (s)."""

    name: str
    stages: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STAGES})
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    cpu: float = 0.0  # s of CPU time, all threads of the process (user + sys), over the pass
    frames: int = 0
    hands: int = 0

    @property
    def fps(self) -> float:
        return self.frames / self.wall if self.wall else float("nan")

    @property
    def cpu_ms_per_frame(self) -> float:
        return self.cpu / self.frames * 1000 if self.frames else float("nan")

    def cores_at(self, fps: float = 30.0) -> float:
        """Cores kept busy by a camera at ``fps`` frames a second (what a user feels)."""
        return self.cpu_ms_per_frame * fps / 1000


class TimedFrames:
    """The clip's frames, passed after passed; records when each was taken ("captured")."""

    def __init__(self, images: list[np.ndarray], passes: int | None, seconds: float | None) -> None:
        self.images, self.passes, self.seconds = images, passes, seconds
        self.captured: dict[int, float] = {}
        self.completed_passes = 0
        self.on_pass = None  # called after the first pass (memory baseline)

    def __iter__(self) -> Iterator[Frame]:
        index, end = 0, None if self.seconds is None else time.monotonic() + self.seconds
        while (self.completed_passes < self.passes) if end is None else (self.completed_passes < 2 or time.monotonic() < end):
            for image in self.images:
                frame = Frame(image.copy(), index, int(index * FRAME_MS))  # the copy stands in for capture
                self.captured[index] = time.perf_counter()
                yield frame
                index += 1
            self.completed_passes += 1
            if self.completed_passes == 1 and self.on_pass:
                self.on_pass()


def run_loop(name: str, pipeline: GesturePipeline, frames: TimedFrames, annotator: Annotator, crop_view: bool,
             delays: list[float] | None = None, server: StreamServer | None = None, cam: bool = False) -> LoopStats:
    """Play the frames through the live loop (pipelined or serial), as `realtime.run` does."""
    stats = LoopStats(name)
    detector, labels_seen = EventDetector(), {}
    pipeline.smoother.reset()
    started, cpu_started = time.perf_counter(), time.process_time()
    with detections(pipeline, frames, lambda: False, pipelined=name == "pipelined") as found:
        for d in found:
            result = pipeline.finish(d)
            stats.latencies.append(time.perf_counter() - frames.captured.pop(d.frame.index))
            events = detector.update(result, mirrored=False)
            if server is not None:  # what `realtime.run --serve --serve-frames` does per frame
                t0 = time.perf_counter()
                for event in events:
                    server.publish(event_message(event))
                server.publish(frame_message({**result.to_json(), "events": [e.to_json() for e in events]}))
                result.timings_ms["serve"] = (time.perf_counter() - t0) * 1000
            for event in events:
                if event.type == "start" and delays is not None:
                    delays.append(event.t_ms - gesture_onset(labels_seen[event.track], event.gesture))
            for h in result.hands:
                if h.track is not None and h.top3:
                    labels_seen.setdefault(h.track, []).append((result.frame.timestamp_ms, h.top3[0][0]))
            if crop_view or cam:
                pipeline.model_views(result.hands)
            if cam:  # what the window's 'x' adds per frame
                t0 = time.perf_counter()
                pipeline.activation_maps(result.hands)
                result.timings_ms["cam"] = (time.perf_counter() - t0) * 1000
            annotator.draw(result, 0.0, show_crops=crop_view or cam)
            for s in STAGES:
                stats.stages[s].append(result.timings_ms.get(s, 0.0) / 1000)
            stats.frames += 1
            stats.hands += len(result.hands)
    stats.wall = time.perf_counter() - started
    stats.cpu = time.process_time() - cpu_started
    return stats


def run_peer(recognizer: PeerRecognizer, images: list[np.ndarray], passes: int) -> LoopStats:
    """The peer on the same frames: its landmarker + classifier, per frame."""
    stats = LoopStats("peer")
    started, cpu_started = time.perf_counter(), time.process_time()
    index = 0
    for _ in range(passes):
        for image in images:
            t0 = time.perf_counter()
            frame = image.copy()  # the same stand-in for capture
            hands = recognizer.recognize(frame, int(index * FRAME_MS))
            stats.latencies.append(time.perf_counter() - t0)
            stats.hands += len(hands)
            stats.frames += 1
            index += 1
    stats.wall = time.perf_counter() - started
    stats.cpu = time.process_time() - cpu_started
    return stats


@dataclass(frozen=True)
class BenchOptions:
    """What ``python -m realtime.bench`` was asked to time."""

    source: Path
    size: tuple[int, int] = (640, 480)
    hand_model: Path | str = "auto"
    max_hands: int = 2
    threads: int = 2
    spinning: bool = False
    loop: str = "both"
    peer_task: Path | None = None
    loops: int = 3
    seconds: float | None = None
    crop_view: bool = False
    cam: bool = False
    serve_clients: int = 0
    no_tiles: bool = False
    idle_after: int = DEFAULT_IDLE_AFTER_MS  # 0: never idle
    still_frames: int = DEFAULT_MAX_REUSED  # 0: MediaPipe on every frame
    second_hand_ms: int = DEFAULT_SECOND_HAND_MS  # 0: a second hand looked for on every frame


def read_clip(source: Path, size: tuple[int, int]) -> list[np.ndarray]:
    """Every frame of the clip, resized to ``size`` (the loop then times no decoding)."""
    if not source.is_file():
        raise HandSignError(f"source not found: {source}")
    with VideoFileSource(source) as src:
        images = [cv2.resize(f.image, size, interpolation=cv2.INTER_AREA) for f in src]
    if not images:
        raise HandSignError(f"{source} has no frames")
    return images


def report(args: BenchOptions, images: list[np.ndarray], classifier: GestureClassifier | None,
           recognizer: PeerRecognizer | None) -> int:
    """Time the loops (and the peer) and print the figures."""
    loops = LOOPS if args.loop == "both" else (args.loop,)
    if args.seconds is not None:
        loops = ("pipelined",)
    annotator = Annotator(0.6)
    results, delays, memory, passes = [], [], {}, 0
    server = StreamServer("127.0.0.1", 0, hello={"labels": [], "swipes": [], "model": None, "frames": True}) \
        if args.serve_clients else None
    clients = start_clients(server, args.serve_clients) if server else None
    for name in loops:
        frames = TimedFrames(images, args.loops, args.seconds)
        frames.on_pass = lambda: memory.setdefault("start", resident_mb())  # models and buffers allocated
        with HandTracker(args.hand_model, args.max_hands, video=True, second_hand_ms=args.second_hand_ms) as tracker, \
                (nullcontext() if args.no_tiles else DistantHandSearch(args.hand_model, args.max_hands)) as search:
            pacer = IdlePacer(args.idle_after) if args.idle_after else None
            still = StillHands(args.still_frames) if args.still_frames else None
            pipeline = GesturePipeline(tracker, classifier, search=search, pacer=pacer, still=still)
            pipeline.carry_stable = True  # as realtime.run on video
            pipeline.keep_feature_maps = args.cam
            results.append(run_loop(name, pipeline, frames, annotator, args.crop_view,
                                    delays if not delays else None, server, cam=args.cam))
            settings, search_steps = tracker.settings, (search.steps if search else 0)
            looked = (pacer.looked, pacer.skipped, pacer.flickers) if pacer else None
            passes_of = dict(tracker.looks, still=still.reused if still else 0)
        passes = frames.completed_passes
        memory["end"] = resident_mb()
    peer = run_peer(recognizer, images, args.loops) if recognizer else None
    if server is not None:
        clients.set()
        server.close()
        print(f"serving: {args.serve_clients} WebSocket clients on loopback; {server.stats.published} messages "
              f"published, {server.stats.dropped} dropped (the serve stage above is its cost per frame)")

    w, h = args.size
    first = results[0]
    print(f"clip {args.source.name}: {len(images)} frames x {passes} passes"
          f"{' (soak)' if args.seconds is not None else ''} at {w}x{h}, {first.hands} hands found ({first.hands / max(first.frames, 1):.2f} per frame)")
    print(f"hand tracking: MediaPipe HandLandmarker {settings}")
    if classifier:
        c = classifier.contract
        print(f"classifier: {classifier.path.name} {c.image_size}px, {args.threads} threads, spinning "
              f"{'on' if args.spinning else 'off'}, onnxruntime {ort.__version__}")
    else:
        print("classifier: none (no gesture model): classify stage is empty")
    print(f"distant-hand search: {'off' if args.no_tiles else f'{search_steps} background steps in the last loop'}")
    print("idle mode: " + (f"after {args.idle_after} ms without a hand; in the last loop hands were looked for on "
                           f"{looked[0]} frames and skipped on {looked[1]}; {looked[2]} wakes by a hand gone again within "
                           f"{DEFAULT_CONFIRM_FRAMES} frames went straight back to idle" if looked else "off"))
    print(f"MediaPipe passes in the last loop: two-hand landmarker on {passes_of['two-hand']} frames, one-hand "
          f"twin on {passes_of['one-hand']} (second hand looked for every {args.second_hand_ms} ms), still hands "
          f"kept their landmarks on {passes_of['still']} (at most {args.still_frames} in a row)")
    print(f"{'stage ms (median / p95)':<24}" + "".join(f" | {r.name:>15}" for r in results))
    for s in STAGES:
        print(f"{s:<24}" + "".join(" | {:>6.2f} / {:>6.2f}".format(*summarize_ms(r.stages[s])) for r in results))
    print(f"{'latency ms':<24}" + "".join(" | {:>6.2f} / {:>6.2f}".format(*summarize_ms(r.latencies)) for r in results)
          + (" | {:>6.2f} / {:>6.2f} (peer)".format(*summarize_ms(peer.latencies)) if peer else ""))
    print(f"{'throughput fps':<24}" + "".join(f" | {r.fps:>15.1f}" for r in results)
          + (f" | {peer.fps:>8.1f} (peer)" if peer else ""))
    print(f"{'CPU ms/frame, all threads':<24}" + "".join(f" | {r.cpu_ms_per_frame:>15.2f}" for r in results)
          + (f" | {peer.cpu_ms_per_frame:>8.2f} (peer)" if peer else ""))
    print(f"{'cores busy at 30 fps':<24}" + "".join(f" | {r.cores_at(30):>15.2f}" for r in results)
          + (f" | {peer.cores_at(30):>8.2f} (peer)" if peer else ""))
    for r in results:
        print(f"end to end, {r.name} loop: {r.fps:.1f} fps, latency {summarize_ms(r.latencies)[0]:.1f} ms median, "
              f"CPU {r.cpu_ms_per_frame:.2f} ms/frame ({r.cores_at(30):.2f} cores at 30 fps)")
    if peer:
        print(f"peer: MediaPipe Gesture Recognizer ({args.peer_task.name}, VIDEO mode, {args.max_hands} hands): "
              f"{peer.fps:.1f} fps, latency {summarize_ms(peer.latencies)[0]:.1f} ms median, "
              f"{peer.hands / max(peer.frames, 1):.2f} hands per frame")
        for r in results:
            gap = summarize_ms(r.latencies)[0] - summarize_ms(peer.latencies)[0]
            print(f"ratio, {r.name} / peer: {r.fps / peer.fps:.2f}x the peer's fps, latency {gap:+.1f} ms, "
                  f"{r.cpu_ms_per_frame / peer.cpu_ms_per_frame:.2f}x its CPU per frame")
    if delays:
        print(f"gesture events: {len(delays)} starts; from the first frame showing the gesture to its start "
              f"event: median {np.median(delays):.0f} ms, max {max(delays):.0f} ms of clip time "
              f"(--min-hold {EventDetector().gestures.options.min_hold_ms} ms), plus that frame's own latency (above)")
    elif classifier:
        print("gesture events: no gesture was held long enough to start one on this clip")
    if "start" in memory:
        print(f"memory: start {memory['start']:.1f} MB, end {memory['end']:.1f} MB, growth "
              f"{(memory['end'] / memory['start'] - 1) * 100:+.1f} % (resident, after the first pass; "
              f"{results[-1].wall:.0f} s of frames)")
    return 0


def start_clients(server: StreamServer, count: int) -> threading.Event:
    """``count`` WebSocket clients reading everything on a thread; set the returned event to stop them."""
    stop = threading.Event()

    async def client():
        from websockets.asyncio.client import connect
        async with connect(f"ws://127.0.0.1:{server.port}/") as ws:
            while not stop.is_set():
                try:
                    await asyncio.wait_for(ws.recv(), timeout=0.2)
                except asyncio.TimeoutError:
                    pass

    async def all_clients():
        await asyncio.gather(*(client() for _ in range(count)))

    threading.Thread(target=lambda: asyncio.run(all_clients()), name="bench-clients", daemon=True).start()
    deadline = time.monotonic() + 10
    while server.client_count < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return stop


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



def first_hands(pipeline: GesturePipeline, images: list[np.ndarray]) -> list[int]:
    """Hands per frame, the clip played once through the pipelined loop."""
    counts = []
    frames = TimedFrames(images, 1, None)
    with detections(pipeline, frames, lambda: False, pipelined=True) as found:
        for d in found:
            counts.append(len(pipeline.finish(d).hands))
    return counts


def wake_report(args: BenchOptions, images: list[np.ndarray], classifier: GestureClassifier | None) -> int:
    """The wake-up delay: the clip with idle mode off gives the frame where a hand first appears after a
    stretch of ``idle_after`` ms without one; with idle mode on, the frame where it is first tracked."""
    counts = {}
    for name, idle in (("off", 0), ("on", args.idle_after)):
        with HandTracker(args.hand_model, args.max_hands, video=True) as tracker:
            pacer = IdlePacer(idle) if idle else None
            counts[name] = first_hands(GesturePipeline(tracker, classifier, pacer=pacer), images)
        if pacer:
            looked = (pacer.looked, pacer.skipped)
    quiet, arrival = 0, None
    for i, n in enumerate(counts["off"]):
        if n and quiet * FRAME_MS >= args.idle_after:
            arrival = i
            break
        quiet = 0 if n else quiet + 1
    print(f"clip {args.source.name}: {len(images)} frames at {1000 / FRAME_MS:g} fps; idle mode after "
          f"{args.idle_after} ms; with it on, hands were looked for on {looked[0]} frames and skipped on {looked[1]}")
    if arrival is None:
        print("wake-up: no hand appears after a stretch without one long enough for idle mode")
        return 0
    tracked = next((i for i in range(arrival, len(images)) if counts["on"][i]), None)
    if tracked is None:
        print(f"wake-up: a hand appears at frame {arrival}; idle mode never tracked it")
        return 0
    print(f"wake-up: a hand appears at frame {arrival} ({arrival * FRAME_MS:.0f} ms, tracked there with idle mode "
          f"off); with it on, first tracked at frame {tracked}: a delay of {(tracked - arrival) * FRAME_MS:.0f} ms "
          f"of clip time ({tracked - arrival} frames), plus that frame's own latency")
    return 0
