"""Measure the live path: scoring on labelled photos, the loop benchmark, metrics and figures. Imported
lazily (matplotlib loads on first use)."""

from __future__ import annotations

import importlib

_WHERE = {"evaluate_live": "live_path", "BenchOptions": "benchmark", "report": "benchmark"}
__all__ = ["BenchOptions", "evaluate_live", "report"]


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
