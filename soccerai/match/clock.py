"""The football match clock, written and read: the one owner of ``"17:42"`` / ``"45+2:10"`` for every table,
dashboard title, timeline and export.

A period ``p`` starts at minute :data:`PERIOD_MINUTES` ``[p][0]`` and its regular time ends at ``[p][1]``; time past
the end is stoppage time, written after the end minute (``"45+2:10"`` is 2 min 10 s into first-half stoppage, never
``"47:10"`` of the second half, and ``"45:05"`` is the second half's fifth second).
"""

from __future__ import annotations

import math
import re

from soccerai.errors import InvalidParameterError

PERIOD_MINUTES = {1: (0, 45), 2: (45, 90), 3: (90, 105), 4: (105, 120)}
"""Match-clock minute at which each period starts and its regular end (3 and 4: extra time)."""
PERIOD_START_MINUTE = {**{p: start for p, (start, _) in PERIOD_MINUTES.items()}, 5: 120}
"""Minute of the match clock at which each period starts, penalties (5) included: what providers count from."""


def match_clock(period: int, seconds_in_period: float) -> str:
    """The match clock as broadcasters write it: ``"17:42"``, stoppage time as ``"45+2:10"`` / ``"90+1:05"``
    (periods 3 and 4 are extra time, ``"105+0:30"``); other periods (penalties) ``"P5 mm:ss"``. Seconds floored:
    ``total = start_minute * 60 + floor(seconds)``."""
    if period < 1:
        raise InvalidParameterError(f"period must be >= 1, got {period!r}")
    if not math.isfinite(seconds_in_period) or seconds_in_period < 0:
        raise InvalidParameterError(
            f"seconds in the period must be finite and >= 0, got {seconds_in_period!r}"
        )
    seconds = int(math.floor(seconds_in_period))
    if period not in PERIOD_MINUTES:
        return f"P{period} {seconds // 60:02d}:{seconds % 60:02d}"
    start, end = PERIOD_MINUTES[period]
    total = start * 60 + seconds
    if total < end * 60:
        return f"{total // 60:02d}:{total % 60:02d}"
    extra = total - end * 60
    return f"{end}+{extra // 60}:{extra % 60:02d}"


_CLOCK = re.compile(r"^\s*(\d{1,3})(?:\s*\+\s*(\d{1,2})(?::(\d{1,2}(?:\.\d)?))?|:(\d{1,2}(?:\.\d+)?))?\s*$")


def parse_clock(text: str) -> tuple[int, float]:
    """``(period, seconds into the period)`` of a typed match clock, the inverse of :func:`match_clock`:
    ``"16:23"``, ``"16"``, ``"16:23.5"``, ``"45+2:05"`` / ``"45+2"`` (first-half stoppage), ``"90+1:30"``; plain
    times from 45:00 are the second half. Anything else is an :class:`InvalidParameterError` naming the accepted forms."""
    found = _CLOCK.match(str(text))
    if not found:
        raise InvalidParameterError(
            f"{str(text)[:20]!r} is not a match clock: type mm:ss (16:23) or 45+m:ss "
            "(45+2:05 is first-half stoppage time)"
        )
    minute, plus, plus_s, seconds = found.groups()
    minute = int(minute)
    if plus is not None:
        ends = {end: p for p, (_, end) in PERIOD_MINUTES.items()}
        if minute not in ends:
            raise InvalidParameterError(f"stoppage time follows 45, 90, 105 or 120, not {minute}")
        period = ends[minute]
        start, end = PERIOD_MINUTES[period]
        return period, (end - start) * 60 + int(plus) * 60 + float(plus_s or 0.0)
    if seconds is not None and float(seconds) >= 60:
        raise InvalidParameterError(f"{text!r}: seconds must be below 60")
    total = minute * 60 + float(seconds or 0.0)
    period = next((p for p, (_, end) in PERIOD_MINUTES.items() if total < end * 60), 4)
    return period, total - PERIOD_MINUTES[period][0] * 60
