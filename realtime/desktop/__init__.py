"""The desktop around a run: the window in front (for profiles), the global sleep hotkey, the tray icon
and the login entry. No gesture logic here, and nothing above ``core``: the run wires these in."""

from __future__ import annotations

from realtime.desktop.autostart import AutostartEntry, autostart_entry
from realtime.desktop.focus import FocusedWindow, FocusReader, open_focus_reader
from realtime.desktop.hotkey import GlobalHotkey, HotkeyError, hotkey_spec
from realtime.desktop.tray import Tray, TrayControls, TrayMenu, TrayState, start_tray

__all__ = ["AutostartEntry", "FocusReader", "FocusedWindow", "GlobalHotkey", "HotkeyError", "Tray", "TrayControls",
           "TrayMenu", "TrayState", "autostart_entry", "hotkey_spec", "open_focus_reader", "start_tray"]
