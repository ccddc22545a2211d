"""The events scorecard: wanted events that come, wrong ones, and false ones a minute, per clip and person.

Labels (``fixtures/dev/labels.json``'s form) give per clip ``want`` (events a good tool must give),
``ok_extra`` (defensible) and ``forbidden`` (clearly wrong), over the event names; clips under a
``nongesture/`` folder show nobody gesturing. Scored as the held-out video is:

- **recall**: each wanted name counts once per clip, whenever it fires (the labels' ``times`` are for
  analysis, not a tolerance);
- **wrong events** on gesture clips: a fired event whose name is ``forbidden`` or not listed at all;
- **false events** on non-gesture clips: every bindable event, per minute of video.

A ``drag_end`` counts with its ``drag_start`` (one drag, one event). People are told apart by the
repository a clip came from (its name up to ``__``): thresholds are chosen on the people outside
:data:`HELD_BACK_PEOPLE` and reported on those inside it as well, apart.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from realtime.core.errors import HandSignError
from realtime.events.gestures import GestureEvent

#: The people whose clips no threshold was chosen on (fixtures/dev, a fixed split written down before
#: tuning: docs/events-scorecard.md). The rest, and every older fixture, are the tuning part.
HELD_BACK_PEOPLE = frozenset({"NVIDIA-AI-IOT", "SRINI-J", "shaunak99", "EddyAguiar", "OpenTalker", "qhaihcblol",
                              "wjy09288-hub"})
#: Events that only finish another: not counted on their own.
FOLLOWERS = ("drag_end",)


@dataclass(frozen=True)
class ClipLabel:
    """What one clip should and should not give."""

    want: tuple[str, ...] = ()
    ok_extra: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()
    times: dict = field(default_factory=dict)

    def judge(self, name: str) -> str:
        """``want``, ``ok`` or ``wrong`` for a fired event's name."""
        if name in self.want:
            return "want"
        return "ok" if name in self.ok_extra else "wrong"


def is_scorecard_labels(data: object) -> bool:
    """Whether parsed JSON is in the scorecard's label form (clips with want / ok_extra / forbidden)."""
    return isinstance(data, dict) and any(isinstance(v, dict) and "want" in v for v in data.values())


def read_scorecard_labels(path: Path) -> dict[str, ClipLabel]:
    """The labels file: clip path (relative to the file's folder) -> :class:`ClipLabel`."""
    try:
        data = json.loads(Path(path).read_text())
        if not is_scorecard_labels(data):
            raise ValueError('expected {"folder/clip.mp4": {"want": [...], "ok_extra": [...], "forbidden": [...]}}')
        labels = {}
        for key, v in data.items():
            if not isinstance(v, dict):
                continue  # a comment ("_")
            raw = {k: v.get(k, []) for k in ("want", "ok_extra", "forbidden")}
            if not all(isinstance(names, list) and all(isinstance(n, str) for n in names) for names in raw.values()):
                raise ValueError(f"{key}: want, ok_extra and forbidden must be lists of event names")
            lists = {k: tuple(names) for k, names in raw.items()}
            labels[key] = ClipLabel(**lists, times=dict(v.get("times", {})))
    except (OSError, ValueError) as exc:
        raise HandSignError(f"{path} is not a scorecard labels file: {exc}") from None
    return labels


def person(clip_key: str) -> str:
    """Who is in a clip: the repository owner its name starts with (``owner__repo__file``)."""
    return Path(clip_key).name.split("__")[0]


def is_nongesture(clip_key: str) -> bool:
    """Whether a labelled clip is one of the non-gesture clips."""
    return "nongesture" in Path(clip_key).parts[:-1]


@dataclass
class ClipScore:
    """One clip's score."""

    key: str
    seconds: float
    nongesture: bool
    wanted: tuple[str, ...] = ()
    hit: tuple[str, ...] = ()
    wrong: list[str] = field(default_factory=list)
    false: list[str] = field(default_factory=list)
    fired: list[str] = field(default_factory=list)

    @property
    def person(self) -> str:
        """The person in the clip (the repository owner of its source)."""
        return person(self.key)

    @property
    def held_back(self) -> bool:
        """Whether the clip's person is held back from tuning."""
        return self.person in HELD_BACK_PEOPLE


def score_clip(key: str, label: ClipLabel | None, events: Sequence[GestureEvent], seconds: float,
               only: Iterable[str] | None = None) -> ClipScore:
    """Score one clip's bindable events. ``only``: the event names to score (a peer that knows only some)."""
    names = [e.gesture for e in events if e.gesture not in FOLLOWERS]
    nongesture = is_nongesture(key) or label is None
    score = ClipScore(key, seconds, nongesture, fired=names)
    if nongesture:
        score.false = names
        return score
    wanted = tuple(n for n in label.want if only is None or n in set(only))
    score.wanted, score.hit = wanted, tuple(n for n in wanted if n in names)
    score.wrong = [n for n in names if label.judge(n) == "wrong"]
    return score


@dataclass(frozen=True)
class Totals:
    """A part's figures: recall of the wanted names, wrong events, false events a minute."""

    wanted: int
    hit: int
    wrong: int
    fired: int  # on gesture clips
    false: int
    nongesture_seconds: float

    @property
    def recall(self) -> float | None:
        """Wanted events that came, over wanted events."""
        return self.hit / self.wanted if self.wanted else None

    @property
    def false_per_minute(self) -> float | None:
        """False events a minute of non-gesture clip time."""
        return self.false / (self.nongesture_seconds / 60) if self.nongesture_seconds else None


def totals(scores: Iterable[ClipScore]) -> Totals:
    """The scores added up."""
    scores = list(scores)
    gestures = [s for s in scores if not s.nongesture]
    quiet = [s for s in scores if s.nongesture]
    return Totals(sum(len(s.wanted) for s in gestures), sum(len(s.hit) for s in gestures),
                  sum(len(s.wrong) for s in gestures), sum(len(s.fired) for s in gestures),
                  sum(len(s.false) for s in quiet), sum(s.seconds for s in quiet))


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def totals_line(name: str, t: Totals) -> str:
    """One line of totals: recall, wrong and false events a minute."""
    return (f"{name:<28} recall {_fmt(t.recall)} ({t.hit} of {t.wanted})  wrong {t.wrong} of {t.fired}  "
            f"false {t.false} in {t.nongesture_seconds:.0f} s = {_fmt(t.false_per_minute, 1)} a minute")


def report(scores: Sequence[ClipScore], title: str = "") -> str:
    """Per clip, then the tuning part, the held-back people and all of them."""
    width = max([len(Path(s.key).name) for s in scores] + [10])
    lines = [title] if title else []
    lines.append(f"{'clip':<{width}}  {'part':<9} {'s':>5}  {'wanted':<24} {'missed':<18} wrong / false events")
    for s in scores:
        part = "held-back" if s.held_back else "tuning"
        missed = ",".join(n for n in s.wanted if n not in s.hit) or "-"
        bad = s.false if s.nongesture else s.wrong
        wanted = f"{len(s.hit)}/{len(s.wanted)}" if not s.nongesture else "(non-gesture)"
        counts = ", ".join(f"{n} {k}" for n, k in Counter(bad).most_common()) or "-"
        lines.append(f"{Path(s.key).name:<{width}}  {part:<9} {s.seconds:5.1f}  {wanted:<24} {missed:<18} {counts}")
    lines.append("")
    lines.append(totals_line("tuning people", totals(s for s in scores if not s.held_back)))
    lines.append(totals_line("held-back people", totals(s for s in scores if s.held_back)))
    lines.append(totals_line("all", totals(scores)))
    return "\n".join(lines)
