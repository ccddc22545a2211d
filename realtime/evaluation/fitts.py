"""ISO 9241-9's multidirectional pointing task, scored as Soukoreff and MacKenzie (2004) recommend:
effective width and amplitude per condition, throughput in bits/s, error rate, movement time.

    layout = ring(center=(640, 400), distance=512, width=64, targets=9)   # targets in the order shown
    summary = score(trials)                                              # trials: Trial records

Each trial is one move: from where the last selection was made to a click on the highlighted
target. Per condition (distance A, width W), every selection's miss along the task axis (from the
previous target's centre to this one's) gives the effective width ``We = 4.133 * SD``; the mean
distance actually travelled along that axis is the effective amplitude ``Ae``; ``IDe = log2(Ae / We
+ 1)`` and throughput ``TP = IDe / MT`` (MT: the mean movement time). The overall throughput is the
mean of the conditions'. A click outside the target counts as an error (and still as a trial).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

#: We = 4.133 x the standard deviation of the endpoints: the width holding 96 % of them
EFFECTIVE_WIDTH_FACTOR = 4.133


@dataclass(frozen=True)
class Target:
    """One target of the ring, in window pixels."""

    x: float
    y: float
    width: float


@dataclass(frozen=True)
class Trial:
    """One move and its click: from the previous target (and where it was clicked) to this one."""

    distance: float  # the condition's A (the ring's diameter)
    width: float  # the condition's W
    from_x: float  # the previous target's centre
    from_y: float
    start_x: float  # where the previous click was (the move's real start)
    start_y: float
    target_x: float
    target_y: float
    click_x: float
    click_y: float
    ms: float  # movement time: from the previous click to this one
    hit: bool

    def to_json(self) -> dict:
        """The trial as a JSON object."""
        return asdict(self)


@dataclass(frozen=True)
class ConditionScore:
    """One condition's figures."""

    distance: float
    width: float
    trials: int
    errors: int
    movement_ms: float
    effective_width: float
    effective_distance: float
    index_of_difficulty: float  # nominal: log2(A / W + 1)
    effective_id: float
    throughput: float  # bits/s

    @property
    def error_rate(self) -> float:
        """Misses over trials."""
        return self.errors / self.trials if self.trials else 0.0


def ring(center: tuple[float, float], distance: float, width: float, targets: int) -> list[Target]:
    """The ring's targets in the order they are shown: each move crosses the ring (ISO 9241-9's
    sequence for an odd count: 0, k+1, 1, k+2, ... with k = n // 2)."""
    if targets < 3 or targets % 2 == 0:
        raise ValueError("the ring needs an odd number of targets, at least 3")
    cx, cy = center
    spots = [Target(cx + distance / 2 * math.sin(2 * math.pi * i / targets),
                    cy - distance / 2 * math.cos(2 * math.pi * i / targets), width) for i in range(targets)]
    half = targets // 2 + 1
    order = [(i * half) % targets for i in range(targets + 1)]  # back to the first: every target a start and an end
    return [spots[i] for i in order]


def along_axis(trial: Trial) -> tuple[float, float]:
    """(the click's miss along the task axis, the distance travelled along it), in pixels: the axis runs
    from the previous target's centre to this target's centre."""
    ax, ay = trial.target_x - trial.from_x, trial.target_y - trial.from_y
    length = math.hypot(ax, ay) or 1.0
    ux, uy = ax / length, ay / length
    miss = (trial.click_x - trial.target_x) * ux + (trial.click_y - trial.target_y) * uy
    travelled = (trial.click_x - trial.start_x) * ux + (trial.click_y - trial.start_y) * uy
    return miss, travelled


def score_condition(trials: Sequence[Trial]) -> ConditionScore:
    """One condition's effective width, amplitude, IDe, throughput, errors and movement time."""
    if len(trials) < 2:
        raise ValueError("a condition needs at least 2 trials for a spread of endpoints")
    misses, travelled = zip(*(along_axis(t) for t in trials))
    we = EFFECTIVE_WIDTH_FACTOR * float(np.std(misses, ddof=1))
    ae = float(np.mean(travelled))
    mt = float(np.mean([t.ms for t in trials]))
    a, w = trials[0].distance, trials[0].width
    ide = math.log2(ae / we + 1) if we > 0 else float("inf")
    return ConditionScore(a, w, len(trials), sum(not t.hit for t in trials), mt, we, ae, math.log2(a / w + 1), ide,
                          ide / (mt / 1000.0) if mt > 0 else float("inf"))


def score(trials: Sequence[Trial]) -> tuple[list[ConditionScore], dict]:
    """Every condition's score, and the whole test's: mean throughput, error rate, movement time."""
    conditions: dict[tuple[float, float], list[Trial]] = {}
    for t in trials:
        conditions.setdefault((t.distance, t.width), []).append(t)
    scores = [score_condition(ts) for ts in conditions.values()]
    total = len(trials)
    summary = {"throughput": float(np.mean([s.throughput for s in scores])) if scores else 0.0,
               "error_rate": sum(s.errors for s in scores) / total if total else 0.0,
               "movement_ms": float(np.mean([t.ms for t in trials])) if trials else 0.0,
               "trials": total, "conditions": len(scores)}
    return scores, summary
