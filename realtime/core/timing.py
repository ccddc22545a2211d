"""Small timing helpers shared by the benchmark commands."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np


def summarize_ms(samples_s: Sequence[float]) -> tuple[float, float]:
    """Median and 95th percentile, in milliseconds, of durations given in seconds."""
    arr = np.asarray(samples_s, dtype=np.float64) * 1000.0
    if arr.size == 0:
        return float("nan"), float("nan")
    return float(np.median(arr)), float(np.percentile(arr, 95))


def time_calls(fn: Callable[[], object], repeats: int = 50, warmup: int = 5) -> tuple[float, float]:
    """Median and p95 latency (ms) of ``fn()`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return summarize_ms(samples)
