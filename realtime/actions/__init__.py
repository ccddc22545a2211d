"""Events -> the desktop and other programs: bindings (TOML), the action runner (keys, commands, print),
the WebSocket stream and OSC."""

from __future__ import annotations

from realtime.actions.bindings import Binding, BindingEngine, BindingsError, Clutch, load_bindings, read_bindings_file
from realtime.actions.dispatch import EventDispatcher
from realtime.actions.osc import OscSender
from realtime.actions.runner import ActionRunner
from realtime.actions.stream import StreamServer

__all__ = ["ActionRunner", "Binding", "BindingEngine", "BindingsError", "Clutch", "EventDispatcher", "OscSender",
           "StreamServer", "load_bindings", "read_bindings_file"]
