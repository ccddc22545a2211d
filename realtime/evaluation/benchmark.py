"""Timing the live loop (the library behind ``python -m realtime.bench``): the clip's frames through
the same pipeline, events and overlay as the live tool, per stage, with each frame's latency from
"captured" to "classified", the throughput, and the CPU time of all threads per frame; MediaPipe's
Gesture Recognizer on the same frames for comparison; and the wake-up delay of idle mode."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from realtime.actions.stream import StreamServer, event_message, frame_message
from realtime.classifier.model import GestureClassifier
from realtime.core.errors import HandSignError
from realtime.core.timing import summarize_ms
from realtime.events.detector import EventDetector
from realtime.hands.idle import DEFAULT_CONFIRM_FRAMES
from realtime.hands.peer import PeerRecognizer
from realtime.live.detections import detections
from realtime.live.overlay import Annotator
from realtime.live.pipeline import GesturePipeline
from realtime.live.recognition import RecognitionOptions, open_pipeline
from realtime.live.sources import Frame, Source, VideoFileSource

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
        """Frames per second of wall time."""
        return self.frames / self.wall if self.wall else float("nan")

    @property
    def cpu_ms_per_frame(self) -> float:
        """CPU time of all threads per frame, in ms."""
        return self.cpu / self.frames * 1000 if self.frames else float("nan")

    def cores_at(self, fps: float = 30.0) -> float:
        """Cores kept busy by a camera at ``fps`` frames a second (what a user feels)."""
        return self.cpu_ms_per_frame * fps / 1000


class TimedFrames(Source):
    """The clip's frames, pass after pass, as fast as the loop takes them; records when each was taken
    ("captured"). A live source to the pipeline, as a camera is (the search for distant hands does
    not hold frames back)."""

    live = True

    def __init__(self, images: list[np.ndarray], passes: int | None, seconds: float | None) -> None:
        self.images, self.passes, self.seconds = images, passes, seconds
        self.captured: dict[int, float] = {}
        self.completed_passes = 0
        self.on_pass = None  # called after the first pass (memory baseline)

    def __iter__(self) -> Iterator[Frame]:
        index, end = 0, None if self.seconds is None else time.monotonic() + self.seconds
        def more() -> bool:
            if end is None:
                return self.completed_passes < self.passes
            return self.completed_passes < 2 or time.monotonic() < end

        while more():
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

    #: the clip whose frames are timed
    source: Path
    #: the live path, as ``realtime.run`` builds it (:func:`realtime.live.recognition.open_pipeline`)
    recognition: RecognitionOptions = RecognitionOptions()
    #: frame size fed to the loop (width, height)
    size: tuple[int, int] = (640, 480)
    #: the classifier's onnxruntime threads and spinning (printed; the classifier is made by the command)
    threads: int = 2
    spinning: bool = False
    #: which loops to time: "pipelined", "serial" or "both"
    loop: str = "both"
    #: MediaPipe's Gesture Recognizer (.task) to time on the same frames, or None
    peer_task: Path | None = None
    #: times the clip is played per loop
    loops: int = 3
    #: soak: replay for this long (pipelined loop only) instead of ``loops``
    seconds: float | None = None
    #: also draw the crop view, and also compute and draw activation maps
    crop_view: bool = False
    activation_map: bool = False
    #: WebSocket clients on loopback to stream events and frames to (0: no stream)
    serve_clients: int = 0


@dataclass
class _Timed:
    """What the loops measured, for the report."""

    results: list[LoopStats]
    delays: list[float]
    memory: dict[str, float]
    passes: int
    settings: str
    search_steps: int
    looked: tuple[int, int, int] | None
    passes_of: dict[str, int]


def read_clip(source: Path, size: tuple[int, int]) -> list[np.ndarray]:
    """Every frame of the clip, resized to ``size`` (the loop then times no decoding)."""
    if not source.is_file():
        raise HandSignError(f"source not found: {source}")
    with VideoFileSource(source) as src:
        images = [cv2.resize(f.image, size, interpolation=cv2.INTER_AREA) for f in src]
    if not images:
        raise HandSignError(f"{source} has no frames")
    return images


def time_loops(options: BenchOptions, images: list[np.ndarray], classifier: GestureClassifier | None,
               server: StreamServer | None) -> _Timed:
    """Each asked-for loop over the frames, through the live path ``realtime.run`` builds."""
    loops = LOOPS if options.loop == "both" else (options.loop,)
    if options.seconds is not None:
        loops = ("pipelined",)
    annotator = Annotator(options.recognition.threshold)
    results, delays, memory, passes = [], [], {}, 0
    for name in loops:
        frames = TimedFrames(images, options.loops, options.seconds)
        frames.on_pass = lambda: memory.setdefault("start", resident_mb())  # models and buffers allocated
        with ExitStack() as stack:
            pipeline = open_pipeline(stack, frames, classifier, options.recognition)
            pipeline.keep_feature_maps = options.activation_map
            results.append(run_loop(name, pipeline, frames, annotator, options.crop_view,
                                    delays if not delays else None, server, cam=options.activation_map))
            tracker, search, pacer, still = pipeline.tracker, pipeline.search, pipeline.pacer, pipeline.still
            settings, search_steps = tracker.settings, (search.steps if search else 0)
            looked = (pacer.looked, pacer.skipped, pacer.flickers) if pacer else None
            passes_of = dict(tracker.looks, still=still.reused if still else 0)
        passes = frames.completed_passes
        memory["end"] = resident_mb()
    return _Timed(results, delays, memory, passes, settings, search_steps, looked, passes_of)


def report(options: BenchOptions, images: list[np.ndarray], classifier: GestureClassifier | None,
           recognizer: PeerRecognizer | None) -> int:
    """Time the loops (and the peer) and print the figures."""
    server = StreamServer("127.0.0.1", 0, hello={"labels": [], "swipes": [], "model": None, "frames": True}) \
        if options.serve_clients else None
    clients = start_clients(server, options.serve_clients) if server else None
    timed = time_loops(options, images, classifier, server)
    peer = run_peer(recognizer, images, options.loops) if recognizer else None
    if server is not None:
        clients.set()
        server.close()
        print(f"serving: {options.serve_clients} WebSocket clients on loopback; {server.stats.published} messages "
              f"published, {server.stats.dropped} dropped (the serve stage above is its cost per frame)")
    print_setup(options, images, classifier, timed)
    print_table(timed.results, peer)
    print_summary(options, classifier, timed, peer)
    return 0


def print_setup(options: BenchOptions, images: list[np.ndarray], classifier: GestureClassifier | None,
                timed: _Timed) -> None:
    """The clip, the models and what the cost-saving paths did."""
    r, (w, h), first = options.recognition, options.size, timed.results[0]
    print(f"clip {options.source.name}: {len(images)} frames x {timed.passes} passes"
          f"{' (soak)' if options.seconds is not None else ''} at {w}x{h}, {first.hands} hands found "
          f"({first.hands / max(first.frames, 1):.2f} per frame)")
    print(f"hand tracking: MediaPipe HandLandmarker {timed.settings}")
    if classifier:
        print(f"classifier: {classifier.path.name} {classifier.contract.image_size}px, {options.threads} threads, "
              f"spinning {'on' if options.spinning else 'off'}, onnxruntime {ort.__version__}")
    else:
        print("classifier: none (no gesture model): classify stage is empty")
    print("distant-hand search: " + (f"{timed.search_steps} background steps in the last loop" if r.tiles else "off"))
    looked = timed.looked
    print("idle mode: " + (f"after {r.idle_after_ms} ms without a hand; in the last loop hands were looked for on "
                           f"{looked[0]} frames and skipped on {looked[1]}; {looked[2]} wakes by a hand gone again "
                           f"within "
                           f"{DEFAULT_CONFIRM_FRAMES} frames went straight back to idle" if looked else "off"))
    print(f"MediaPipe passes in the last loop: two-hand landmarker on {timed.passes_of['two-hand']} frames, one-hand "
          f"twin on {timed.passes_of['one-hand']} (second hand looked for every {r.second_hand_ms} ms), still hands "
          f"kept their landmarks on {timed.passes_of['still']} (at most {r.still_frames} in a row)")


def print_table(results: list[LoopStats], peer: LoopStats | None) -> None:
    """Per stage and end to end, each loop (and the peer) in a column."""
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


def print_summary(options: BenchOptions, classifier: GestureClassifier | None, timed: _Timed,
                  peer: LoopStats | None) -> None:
    """One line per loop, the ratios to the peer, the gesture events' delay and the memory growth."""
    for r in timed.results:
        print(f"end to end, {r.name} loop: {r.fps:.1f} fps, latency {summarize_ms(r.latencies)[0]:.1f} ms median, "
              f"CPU {r.cpu_ms_per_frame:.2f} ms/frame ({r.cores_at(30):.2f} cores at 30 fps)")
    if peer:
        print(f"peer: MediaPipe Gesture Recognizer ({options.peer_task.name}, VIDEO mode, "
              f"{options.recognition.max_hands} hands): {peer.fps:.1f} fps, latency "
              f"{summarize_ms(peer.latencies)[0]:.1f} ms median, {peer.hands / max(peer.frames, 1):.2f} hands per "
              "frame")
        for r in timed.results:
            gap = summarize_ms(r.latencies)[0] - summarize_ms(peer.latencies)[0]
            print(f"ratio, {r.name} / peer: {r.fps / peer.fps:.2f}x the peer's fps, latency {gap:+.1f} ms, "
                  f"{r.cpu_ms_per_frame / peer.cpu_ms_per_frame:.2f}x its CPU per frame")
    delays = timed.delays
    if delays:
        print(f"gesture events: {len(delays)} starts; from the first frame showing the gesture to its start "
              f"event: median {np.median(delays):.0f} ms, max {max(delays):.0f} ms of clip time "
              f"(--min-hold {EventDetector().gestures.options.min_hold_ms} ms), plus that frame's own latency (above)")
    elif classifier:
        print("gesture events: no gesture started on this clip (none held long enough, or every one refused by the "
              "event rules: confidence, stillness, hands together)")
    memory = timed.memory
    if "start" in memory:
        print(f"memory: start {memory['start']:.1f} MB, end {memory['end']:.1f} MB, growth "
              f"{(memory['end'] / memory['start'] - 1) * 100:+.1f} % (resident, after the first pass; "
              f"{timed.results[-1].wall:.0f} s of frames)")


def start_clients(server: StreamServer, count: int) -> threading.Event:
    """``count`` WebSocket clients reading everything on a thread; set the returned event to stop them."""
    stop = threading.Event()

    async def client():
        from websockets.asyncio.client import connect
        async with connect(f"ws://127.0.0.1:{server.port}/") as ws:
            while not stop.is_set():
                try:
                    await asyncio.wait_for(ws.recv(), timeout=0.2)
                except TimeoutError:
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



def first_hands(pipeline: GesturePipeline, frames: TimedFrames) -> list[int]:
    """Hands per frame, the frames played once through the pipelined loop."""
    counts = []
    with detections(pipeline, frames, lambda: False, pipelined=True) as found:
        for d in found:
            counts.append(len(pipeline.finish(d).hands))
    return counts


def wake_report(options: BenchOptions, images: list[np.ndarray], classifier: GestureClassifier | None) -> int:
    """The wake-up delay: the clip with idle mode off gives the frame where a hand first appears after a
    stretch of ``idle_after_ms`` without one; with idle mode on, the frame where it is first tracked."""
    idle_after = options.recognition.idle_after_ms
    counts = {}
    for name, idle in (("off", 0), ("on", idle_after)):
        with ExitStack() as stack:
            frames = TimedFrames(images, 1, None)
            pipeline = open_pipeline(stack, frames, classifier, replace(options.recognition, idle_after_ms=idle))
            counts[name] = first_hands(pipeline, frames)
            if pipeline.pacer:
                looked = (pipeline.pacer.looked, pipeline.pacer.skipped)
    quiet, arrival = 0, None
    for i, n in enumerate(counts["off"]):
        if n and quiet * FRAME_MS >= idle_after:
            arrival = i
            break
        quiet = 0 if n else quiet + 1
    print(f"clip {options.source.name}: {len(images)} frames at {1000 / FRAME_MS:g} fps; idle mode after "
          f"{idle_after} ms; with it on, hands were looked for on {looked[0]} frames and skipped on {looked[1]}")
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
