"""Events -> the desktop and other programs: bindings (TOML, with per-application profiles), the action
runner (keys, commands, print), the pointer, the WebSocket stream and OSC."""

from __future__ import annotations

from realtime.actions.bindings import Binding, BindingEngine, BindingsError, Clutch
from realtime.actions.bindings_file import load_bindings, read_bindings_file
from realtime.actions.dispatch import BindingsFile, EventDispatcher
from realtime.actions.osc import OscSender
from realtime.actions.profiles import BindingsConfig, Profile, ProfiledBindings, WindowMatch
from realtime.actions.runner import ActionRunner
from realtime.actions.stream import StreamServer

__all__ = ["ActionRunner", "Binding", "BindingEngine", "BindingsConfig", "BindingsError", "BindingsFile", "Clutch",
           "EventDispatcher", "OscSender", "Profile", "ProfiledBindings", "StreamServer", "WindowMatch",
           "load_bindings", "read_bindings_file"]
