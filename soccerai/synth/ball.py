"""The ball: a frame-by-frame path that follows the events at their real frames.

* Every event with a known start position pins the ball there at its start frame.
* Passes, shots, clearances and balls going out travel from start to end position between the start and end frame:
  ground balls decelerate uniformly, arriving with a fraction ``r`` of their launch speed::

      u(tau) = (tau - (1 - r) tau^2 / 2) / (1 - (1 - r) / 2),    tau = (t - t0) / (t1 - t0) in [0, 1]

  lofted balls (crosses, long balls, clearances, goal kicks, anything longer than ``LOFTED_MIN_LENGTH``) move at
  constant horizontal speed on a ballistic height profile ``z = 4 h tau (1 - tau)`` with apex
  ``h = g T^2 / 8`` for a flight time ``T`` (capped at ``MAX_APEX``).
* Between events the ball moves linearly from where it was to where the next event says (carries are then glued to
  the carrier's feet by the engine, see :func:`soccerai.synth.engine.glue_ball_to_holders`).
* After a ball out, a goal or the end of a half the ball is dead until the next set piece/kick-off, and is placed
  where that set piece says. A pass, carry or shot also restarts play: kloppy folds Metrica JSON set pieces into
  the pass that takes them, so Game 3 style timelines have no SET PIECE rows (without this rule their ball would
  stay dead after the first ball out).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

GRAVITY = 9.81
GROUND_ARRIVAL_FRACTION = 0.45
"""r: a ground pass arrives with this fraction of its launch speed."""
LOFTED_MIN_LENGTH = 35.0
MAX_APEX = 18.0
SHOT_MAX_APEX = 2.5
LOFTED_SUBTYPES = ("CROSS", "DEEP BALL", "CLEARANCE", "GOAL KICK", "CORNER")
TRAVEL_TYPES = ("PASS", "SHOT", "BALL OUT", "BALL LOST")
RESTART_TYPES = ("SET PIECE", "PASS", "CARRY", "SHOT")


@dataclass(frozen=True)
class BallPath:
    """Ball position per frame of one period (frame ``first_frame + i`` at index ``i``)."""

    first_frame: int
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    alive: np.ndarray  # bool
    owner: np.ndarray  # int8: 0 home, 1 away, -1 unknown


def ground_profile(tau: np.ndarray, arrival_fraction: float = GROUND_ARRIVAL_FRACTION) -> np.ndarray:
    """Fraction of the distance covered at normalised time ``tau`` under uniform deceleration."""
    k = 1.0 - arrival_fraction
    return (tau - k * tau**2 / 2.0) / (1.0 - k / 2.0)


def flight_apex(duration_s: float, cap: float = MAX_APEX) -> float:
    """Apex height of a ballistic flight lasting ``duration_s`` seconds: ``g T^2 / 8``."""
    return min(GRAVITY * duration_s**2 / 8.0, cap)


def _is_lofted(kind: str, subtype: str, length: float) -> bool:
    return (
        length > LOFTED_MIN_LENGTH
        or any(s in subtype for s in LOFTED_SUBTYPES)
        or kind == "SHOT"
        and "HEAD" not in subtype
    )


def build_ball_path(events: pl.DataFrame, first_frame: int, last_frame: int, frame_rate: float) -> BallPath:
    """The ball's path over frames ``first_frame..last_frame`` of one period from that period's events."""
    n = last_frame - first_frame + 1
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    z = np.zeros(n)
    owner_marks = np.full(n, -1, dtype=np.int8)
    dead = np.zeros(n, dtype=np.int8)  # +1 ball goes dead here, -1 play restarts here
    for ev in events.iter_rows(named=True):
        s = ev["start_frame"] - first_frame
        e = ev["end_frame"] - first_frame
        team = 0 if ev["team"] == "home" else 1
        kind, subtype = ev["type"], ev["subtype"] or ""
        owner_marks[s] = 1 - team if kind in ("BALL LOST", "BALL OUT") else team
        if kind in RESTART_TYPES:
            dead[s] = -1
        if np.isfinite(ev["sx"]):
            x[s], y[s] = ev["sx"], ev["sy"]
        if kind in TRAVEL_TYPES and e > s and np.isfinite(ev["sx"]) and np.isfinite(ev["ex"]):
            _fill_travel(x, y, z, s, e, ev, kind, subtype, frame_rate)
        if kind == "BALL OUT" or (kind == "SHOT" and ("OUT" in subtype or "GOAL" in subtype)):
            dead[min(e, n - 1)] = 1
    _interpolate_gaps(x, y)
    return BallPath(first_frame, x, y, z, _alive_mask(dead), _forward_fill(owner_marks))


def _fill_travel(x, y, z, s, e, ev, kind: str, subtype: str, frame_rate: float) -> None:
    tau = np.arange(1, e - s + 1) / (e - s)
    dx, dy = ev["ex"] - ev["sx"], ev["ey"] - ev["sy"]
    length = float(np.hypot(dx, dy))
    duration = (e - s) / frame_rate
    if _is_lofted(kind, subtype, length):
        u = tau
        cap = SHOT_MAX_APEX if kind == "SHOT" else MAX_APEX
        z[s + 1 : e + 1] = 4.0 * flight_apex(duration, cap) * tau * (1.0 - tau)
    else:
        u = ground_profile(tau)
    x[s + 1 : e + 1] = ev["sx"] + u * dx
    y[s + 1 : e + 1] = ev["sy"] + u * dy


def _interpolate_gaps(x: np.ndarray, y: np.ndarray) -> None:
    known = np.flatnonzero(np.isfinite(x))
    if known.size == 0:
        x[:] = 0.0
        y[:] = 0.0
        return
    idx = np.arange(x.size)
    x[:] = np.interp(idx, known, x[known])
    y[:] = np.interp(idx, known, y[known])


def _alive_mask(dead_marks: np.ndarray) -> np.ndarray:
    """Dead from a 'goes dead' mark until the next restart mark."""
    state = np.zeros(dead_marks.size, dtype=np.int8)
    marks = np.flatnonzero(dead_marks)
    current = 0
    for i, m in enumerate(marks):
        current = 1 if dead_marks[m] > 0 else 0
        stop = marks[i + 1] if i + 1 < marks.size else dead_marks.size
        state[m + (1 if current else 0) : stop] = current
    return state == 0


def _forward_fill(marks: np.ndarray) -> np.ndarray:
    idx = np.where(marks >= 0, np.arange(marks.size), 0)
    np.maximum.accumulate(idx, out=idx)
    return marks[idx]


def bend_passes(
    ball: BallPath, events: pl.DataFrame, first_frame: int, rng: np.random.Generator, sigma: float
) -> None:
    """Curve every pass in flight (in place): a sideways offset ``b L 4 tau (1 - tau)`` perpendicular to the pass
    (``L`` its length, ``tau`` the normalised flight time, ``b ~ N(0, sigma^2)`` drawn per pass), so passes bend
    like struck balls do and no two are alike; start and end spots are unchanged (event alignment kept)."""
    n = ball.x.size
    passes = events.filter((pl.col("type") == "PASS") & pl.col("sx").is_not_nan() & pl.col("ex").is_not_nan())
    bends = rng.standard_normal(passes.height) * sigma
    for (s, e, sx, sy, ex, ey), bend in zip(
        passes.select("start_frame", "end_frame", "sx", "sy", "ex", "ey").iter_rows(), bends, strict=True
    ):
        a, b = s - first_frame, min(e - first_frame, n - 1)
        if b - a < 2 or a < 0:
            continue
        tau = np.arange(0, b - a + 1) / (b - a)
        normal = np.array([-(ey - sy), ex - sx])  # length L, perpendicular to the pass
        ball.x[a : b + 1] += bend * normal[0] * 4.0 * tau * (1.0 - tau)
        ball.y[a : b + 1] += bend * normal[1] * 4.0 * tau * (1.0 - tau)


TOUCH_SHAPE = 4.0
"""Gamma shape of the intervals between dribbling touches (fairly regular, never two at once)."""


def dribble_touches(
    ball: BallPath,
    holds: list[tuple[int, int, int]],
    frame_rate: float,
    rng: np.random.Generator,
    interval_s: float,
) -> None:
    """A dribbled ball rolls between touches instead of sticking to the feet (in place, after gluing).

    Touch times within each hold ``(slot, a, b)``: ``a``, then gaps ~ Gamma(``TOUCH_SHAPE``, mean ``interval_s``),
    then ``b``. Between two touches the ball rolls in a straight line from the glued spot of one touch to the glued
    spot of the next, so the carrier runs onto it; at the touches (and the hold's ends) it is where gluing put it.
    """
    n = ball.x.size
    scale = interval_s * frame_rate / TOUCH_SHAPE
    for _slot, a, b in holds:
        a, b = max(a, 0), min(b, n - 1)
        if b - a < 3:
            continue
        gaps = rng.gamma(TOUCH_SHAPE, scale, size=int((b - a) / max(interval_s * frame_rate, 1.0)) + 3)
        touches = a + np.cumsum(np.concatenate([[0.0], gaps])).astype(np.int64)
        touches = np.unique(np.concatenate([touches[touches < b], [b]]))
        frames = np.arange(a, b + 1)
        ball.x[a : b + 1] = np.interp(frames, touches, ball.x[touches])
        ball.y[a : b + 1] = np.interp(frames, touches, ball.y[touches])
