"""The live tool: frame sources, the per-frame pipeline (pipelined or serial), smoothing, the loop without a
GUI, the overlay, the window with its keys, the sinks (JSON lines, recorder, snapshots) and teach mode."""

from __future__ import annotations

from realtime.live.loop import Dispatcher, HeadlessView, LiveLoop
from realtime.live.options import LiveOptions
from realtime.live.pipeline import FrameResult, GesturePipeline, HandResult
from realtime.live.sources import Frame, Source, open_source
from realtime.live.window import Window

__all__ = ["Dispatcher", "Frame", "FrameResult", "GesturePipeline", "HandResult", "HeadlessView", "LiveLoop",
           "LiveOptions", "Source", "Window", "open_source"]
