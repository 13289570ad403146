"""Physical workload per player: distance, high-speed share, sprints, top speed - and the published match figures.

Computed from player positions only (any source turned into :class:`soccerai.synth.realism.Wide`), per player
column ``j`` over the pairs of consecutive samples ``k`` that are valid (gap <= ``MAX_GAP_FRAMES`` samples, speed
finite and <= ``MAX_PLAYER_SPEED``)::

    v_k        = |p_k+1 - p_k| / dt_k                               speed between samples
    distance   = sum_k v_k dt_k                                     metres covered
    high share = sum_k [v_k > HIGH_SPEED] v_k dt_k / distance       share of the distance above 5.5 m/s (19.8 km/h)
    sprints    = #episodes of consecutive v_k > SPRINT_SPEED lasting >= SPRINT_MIN_S   (7 m/s = 25.2 km/h)
    top speed  = max over windows of TOP_SPEED_WINDOW_S of (distance in the window) / (window length)

The top speed is a windowed mean so that one jittery sample of real tracking does not set it; per-90 figures scale
by ``5400 / observed seconds``. :func:`workload_summary` takes medians over the outfield players observed at least
``min_minutes`` (a full simulated match: the starters and long-serving substitutes).

Published match figures (elite men's football, optical tracking) the summary is compared with
(:data:`PUBLISHED`): Di Salvo et al. 2007 (Int J Sports Med 28, "Performance characteristics according to playing
position in elite soccer") ~11 km per outfield player; Bradley et al. 2009 (J Sports Sci 27, "High-intensity
running in English FA Premier League soccer matches") ~10.7 km, of which roughly 8-12 % (by position) above
19.8 km/h and ~0.25 km above 25.2 km/h; Di Salvo et al. 2010 (J Sports Sci 28, "Sprinting analysis of elite
soccer players during European Champions League and UEFA Cup matches") ~20-60 sprints > 25.2 km/h per player;
top speeds 8.5-10 m/s (31-36 km/h). Ranges as quoted from the literature, not re-measured here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from soccerai.match.schema import MAX_PLAYER_SPEED, Match
from soccerai.synth.realism import MAX_GAP_FRAMES, SPRINT_MIN_S, SPRINT_SPEED, Wide, wide_from_match

HIGH_SPEED = 5.5
"""m/s (19.8 km/h): the usual "high-speed running" threshold."""
TOP_SPEED_WINDOW_S = 0.5

PUBLISHED: dict[str, tuple[float, float]] = {
    "km /outfield player/90 (median)": (10.0, 11.5),
    "% distance > 5.5 m/s (median)": (8.0, 12.0),
    "sprints > 7 m/s >= 1 s /outfield player/90 (median)": (20.0, 60.0),
    "top speed m/s (median player)": (8.5, 10.0),
}
"""Published ranges (see the module docstring for the sources) keyed like :func:`workload_summary`."""


@dataclass(frozen=True)
class _Speeds:
    speed: np.ndarray  # (n-1, P) speed between consecutive samples, NaN where not valid
    dt: np.ndarray  # (n-1, 1) seconds between them


def _speeds(w: Wide) -> _Speeds:
    dt = np.diff(w.t)[:, None]
    ok_gap = (dt > 0) & (dt <= MAX_GAP_FRAMES / w.frame_rate + 1e-9)
    with np.errstate(invalid="ignore", divide="ignore"):
        speed = np.hypot(np.diff(w.x, axis=0), np.diff(w.y, axis=0)) / dt
    valid = ok_gap & np.isfinite(speed) & (speed <= MAX_PLAYER_SPEED)
    return _Speeds(np.where(valid, speed, np.nan), dt)


def _episodes(fast: np.ndarray, dt: np.ndarray, min_s: float) -> int:
    """Runs of consecutive True in ``fast`` (one column) whose summed duration reaches ``min_s`` seconds."""
    edges = np.diff(np.concatenate([[0], fast.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    elapsed = np.concatenate([[0.0], np.cumsum(dt)])
    return int(np.sum(elapsed[stops] - elapsed[starts] >= min_s - 1e-9))


def _top_speed(speed: np.ndarray, dt: np.ndarray, frame_rate: float) -> float:
    """Best mean speed over ``TOP_SPEED_WINDOW_S`` (windows containing an invalid sample are skipped)."""
    width = max(int(round(TOP_SPEED_WINDOW_S * frame_rate)), 1)
    if speed.size < width:
        return float("nan")
    step = np.nan_to_num(speed * dt, nan=np.inf)  # an invalid sample poisons its windows
    moved = np.convolve(step, np.ones(width), mode="valid")
    spent = np.convolve(dt, np.ones(width), mode="valid")
    means = moved / spent
    means = means[np.isfinite(means)]
    return float(means.max()) if means.size else float("nan")


def player_workloads(w: Wide) -> pl.DataFrame:
    """One row per player column of ``w``: minutes observed, km, % of distance > 5.5 m/s, sprints, top speed."""
    s = _speeds(w)
    dt = s.dt[:, 0]
    rows = []
    for j in range(s.speed.shape[1]):
        v = s.speed[:, j]
        ok = np.isfinite(v)
        seconds = float(dt[ok].sum())
        metres = float(np.sum(v[ok] * dt[ok]))
        high = float(np.sum(np.where(ok & (v > HIGH_SPEED), v * dt, 0.0)))
        sprints = _episodes(ok & (np.nan_to_num(v) > SPRINT_SPEED), dt, SPRINT_MIN_S)
        per_90 = 5400.0 / seconds if seconds > 0 else float("nan")
        rows.append(
            {
                "column": j,
                "team": int(w.team[j]),
                "is_goalkeeper": bool(w.keeper[j]),
                "minutes": seconds / 60.0,
                "km": metres / 1000.0,
                "km_per_90": metres / 1000.0 * per_90,
                "high_speed_pct": 100.0 * high / metres if metres > 0 else float("nan"),
                "sprints": sprints,
                "sprints_per_90": sprints * per_90,
                "top_speed": _top_speed(v, dt, w.frame_rate),
            }
        )
    return pl.DataFrame(rows)


def workload_summary(w: Wide, min_minutes: float = 0.0) -> dict[str, float]:
    """Medians over outfield players observed at least ``min_minutes`` (keys as in :data:`PUBLISHED`)."""
    table = player_workloads(w).filter(~pl.col("is_goalkeeper") & (pl.col("minutes") >= min_minutes))
    if table.is_empty():
        return {key: float("nan") for key in (*PUBLISHED, "top speed m/s (fastest player)", "players")}

    def median(col: str) -> float:
        return float(table[col].median())

    return {
        "km /outfield player/90 (median)": median("km_per_90"),
        "% distance > 5.5 m/s (median)": median("high_speed_pct"),
        "sprints > 7 m/s >= 1 s /outfield player/90 (median)": median("sprints_per_90"),
        "top speed m/s (median player)": median("top_speed"),
        "top speed m/s (fastest player)": float(table["top_speed"].max()),
        "players": float(table.height),
    }


def match_workload(match: Match, min_minutes: float = 45.0) -> dict[str, float]:
    """:func:`workload_summary` of a canonical match (default: players on the pitch at least 45 minutes)."""
    return workload_summary(wide_from_match(match), min_minutes)
