"""Realism: SIMULATED play against REAL play, the same statistics computed by the same code.

The realism report (:func:`report_statistics`, :func:`realism_report`) compares a simulated match with the real
SkillCorner match (broadcast tracking: only the players in camera view) and the real Hawk-Eye minutes (optical:
everyone). Every source goes through the same steps:

1. :func:`soccerai.match.tracking.resample` to a 10 Hz grid (``REPORT_HZ``), never interpolating across a gap longer than
   ``REPORT_MAX_GAP_S``: a player out of view is absent (NaN), never invented;
2. :func:`grid_wide`: one row per 0.1 s of each period (missing instants are NaN rows), so differences of
   consecutive rows are always 0.1 s apart and a gap breaks every difference across it;
3. :func:`report_statistics` on visible tracks only (see its docstring for each statistic's formula).

A simulated match is compared *through a measurement model* (:mod:`soccerai.synth.measurement`): broadcast
(camera window + correlated position error) against SkillCorner, optical (small error, everyone visible) against
Hawk-Eye, so visibility and noise enter both sides alike.

The older clip statistics (:func:`motion_stats`, also used by :mod:`soccerai.synth.workload`), computed on the
source's own frame rate from player positions only (ball excluded):

* speed ``|p(t_k+1) - p(t_k)| / (t_k+1 - t_k)`` between consecutive samples of a player (time gaps respected:
  pairs further apart than ``MAX_GAP_FRAMES`` samples are skipped; speeds above 12 m/s are outliers and dropped);
* |acceleration| ``|v_k+1 - v_k| / dt`` from those velocity vectors;
* sprints per player per 90 min: episodes with speed > ``SPRINT_SPEED`` lasting at least ``SPRINT_MIN_S``,
  divided by the player-time observed and scaled to 5400 s; distance per player per 90 min likewise;
* team length and width: per frame and team, the x and y extent of the team's outfield players (median);
* mean distance from each player to his nearest opponent.

Real clips are seconds long and some hold only the players near the ball (Last Row), so their per-90 figures are
noisy and their team shape is partial; the report says so.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from soccerai.config import output_dir
from soccerai.errors import InvalidInputError
from soccerai.io import load_match
from soccerai.io.providers.lastrow import load_lastrow
from soccerai.match.goalkeepers import infer_goalkeepers
from soccerai.match.schema import MAX_PLAYER_SPEED, Match
from soccerai.match.tracking import resample
from soccerai.synth.measurement import MODELS, observe

SPRINT_SPEED = 7.0
SPRINT_MIN_S = 1.0
MAX_GAP_FRAMES = 3
LASTROW_COLUMN = "Last Row LIV 2-1 CHE (real)"


@dataclass(frozen=True)
class Wide:
    """Players in wide arrays: times (n,), periods (n,), x/y (n, P) with NaN where unseen, team (P,), keeper (P,)."""

    name: str
    t: np.ndarray
    period: np.ndarray
    x: np.ndarray
    y: np.ndarray
    team: np.ndarray
    keeper: np.ndarray
    frame_rate: float
    simulated: bool


def wide_from_match(match: Match, name: str | None = None) -> Wide:
    """Pivot a canonical match's player rows into :class:`Wide` arrays."""
    players = match.tracking.filter(pl.col("team") != "ball")
    ids = players["object_id"].unique().sort().to_list()
    frames = players.select("period", "frame", "time_s").unique().sort("period", "frame")
    x = players.pivot(on="object_id", index=["period", "frame"], values="x").sort("period", "frame")
    y = players.pivot(on="object_id", index=["period", "frame"], values="y").sort("period", "frame")
    team_of = dict(zip(players["object_id"], players["team"], strict=False))
    keepers = set(match.players.filter(pl.col("is_goalkeeper").fill_null(False))["object_id"].to_list())
    return Wide(
        name=name or match.match_id,
        t=frames["time_s"].to_numpy() + frames["period"].to_numpy() * 1e5,
        period=frames["period"].to_numpy(),
        x=x.select(ids).to_numpy().astype(float),
        y=y.select(ids).to_numpy().astype(float),
        team=np.array([0 if team_of[i] == "home" else 1 for i in ids]),
        keeper=np.array([i in keepers for i in ids]),
        frame_rate=match.metadata.frame_rate,
        simulated=match.metadata.simulated,
    )


def motion_stats(w: Wide) -> dict[str, float]:
    """The report's statistics for one source (see the module docstring)."""
    dt = np.diff(w.t)[:, None]
    ok_gap = (dt > 0) & (dt <= MAX_GAP_FRAMES / w.frame_rate + 1e-9)
    vx, vy = np.diff(w.x, axis=0) / dt, np.diff(w.y, axis=0) / dt
    speed = np.hypot(vx, vy)
    valid = ok_gap & np.isfinite(speed) & (speed <= MAX_PLAYER_SPEED)
    speed_v = np.where(valid, speed, np.nan)
    dt2 = 0.5 * (dt[1:] + dt[:-1])
    acc = np.hypot(np.diff(vx, axis=0), np.diff(vy, axis=0)) / dt2
    acc = acc[valid[1:] & valid[:-1]]
    speeds = speed_v[np.isfinite(speed_v)]
    player_time = float(np.nansum(np.where(valid, dt, 0.0)))
    stats = {
        "speed p50 (m/s)": _q(speeds, 50),
        "speed p90 (m/s)": _q(speeds, 90),
        "speed p99 (m/s)": _q(speeds, 99),
        "speed max (m/s)": float(speeds.max()) if speeds.size else float("nan"),
        "|acc| p50 (m/s2)": _q(acc, 50),
        "|acc| p99 (m/s2)": _q(acc, 99),
        "sprints /player/90": _sprints(speed_v, w.frame_rate) / player_time * 5400.0
        if player_time
        else float("nan"),
        "km /player/90": float(np.nansum(np.where(valid, speed * dt, 0.0))) / player_time * 5.4
        if player_time
        else float("nan"),
    }
    stats.update(_shape_stats(w))
    stats["player-minutes observed"] = player_time / 60.0
    return stats


def _q(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q)) if values.size else float("nan")


def _sprints(speed: np.ndarray, frame_rate: float) -> int:
    """Episodes of speed > SPRINT_SPEED lasting SPRINT_MIN_S, counted per player column."""
    fast = np.nan_to_num(speed, nan=0.0) > SPRINT_SPEED
    min_len = max(int(round(SPRINT_MIN_S * frame_rate)), 1)
    count = 0
    for col in fast.T:
        edges = np.diff(np.concatenate([[0], col.astype(np.int8), [0]]))
        starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        count += int(np.sum(stops - starts >= min_len))
    return count


def _shape_stats(w: Wide, min_players: int = 5) -> dict[str, float]:
    lengths, widths = [], []
    for team in (0, 1):
        cols = (w.team == team) & ~w.keeper
        x, y = w.x[:, cols], w.y[:, cols]
        enough = np.sum(np.isfinite(x), axis=1) >= min_players
        if enough.any():
            lengths.append(np.nanmax(x[enough], axis=1) - np.nanmin(x[enough], axis=1))
            widths.append(np.nanmax(y[enough], axis=1) - np.nanmin(y[enough], axis=1))
    home, away = w.team == 0, w.team == 1
    d = np.hypot(w.x[:, home, None] - w.x[:, None, away], w.y[:, home, None] - w.y[:, None, away])
    with warnings.catch_warnings():  # frames where a side has nobody on the clip are NaN, skipped below
        warnings.simplefilter("ignore", RuntimeWarning)
        nearest = (
            np.concatenate([np.nanmin(d, axis=2).ravel(), np.nanmin(d, axis=1).ravel()])
            if d.size
            else np.zeros(0)
        )
    nearest = nearest[np.isfinite(nearest)]
    return {
        "team length (m)": float(np.median(np.concatenate(lengths))) if lengths else float("nan"),
        "team width (m)": float(np.median(np.concatenate(widths))) if widths else float("nan"),
        "nearest opponent (m)": float(nearest.mean()) if nearest.size else float("nan"),
    }


def read_lastrow_clip(path: Path, name: str | None = None) -> Wide:
    """A Last Row goal clip (20 Hz, only the players near the ball) as :class:`Wide`, named ``name``.

    Read by :func:`soccerai.io.providers.lastrow.load_lastrow`, so it shares that reader's metres, orientation and
    goalkeeper guess: the defending keeper is left out of his team's length and width like every source's keeper.
    """
    match = load_lastrow(path)
    return wide_from_match(match, name or f"Last Row {match.match_id} (real)")


# ---------------------------------------------------------------------------------------------------------------
# The realism report: 10 Hz grid, visible tracks only
# ---------------------------------------------------------------------------------------------------------------

REPORT_VERSION = 1
"""Bump when a report statistic changes: cached real statistics carry it in their file name."""
REPORT_HZ = 10.0
REPORT_MAX_GAP_S = 0.25
"""A player unseen for longer than this is absent in between (no interpolation across the gap)."""
TURN_MIN_SPEED = 2.0
"""m/s: headings are only compared where both velocities are at least this fast (standing players have none)."""
SHAPE_MIN_PLAYERS = 5
"""Team length, width and centroid need at least this many visible outfield players of the team."""
HORIZONS_S = (1, 2, 3, 4)
CV_VELOCITY_S = 0.2
"""Constant velocity extrapolates the displacement over the last ``CV_VELOCITY_S`` seconds."""
ANCHOR_STRIDE_S = 1.0
"""Forecast anchors every this many seconds (per visible player)."""
REAL_SOURCES = {
    "SkillCorner (real, broadcast)": ("real-matches/skillcorner-bayern-dortmund-2019-11-09", "broadcast"),
    "Hawk-Eye (real, optical)": ("real-matches/hawkeye-two-minutes", "optical"),
}
"""Report column -> (folder in the data folder, the measurement model the simulated match is seen through)."""


def grid_wide(match: Match, name: str | None = None) -> Wide:
    """The match's players on a regular ``REPORT_HZ`` grid: one row per 0.1 s of each period, NaN where unseen.

    Positions come from :func:`soccerai.match.tracking.resample` (linear interpolation, never across gaps longer than
    ``REPORT_MAX_GAP_S``); grid instants without any player row are kept as NaN rows so that consecutive rows are
    always exactly one step apart within a period.
    """
    match = infer_goalkeepers(match)
    known = match.players["object_id"].implode()  # broadcast tracking also lists unidentified objects and referees
    players = match.tracking.filter(pl.col("team").is_in(["home", "away"]) & pl.col("object_id").is_in(known))
    if abs(match.metadata.frame_rate - REPORT_HZ) > 1e-6:
        players = resample(players, fps=REPORT_HZ, max_gap_s=REPORT_MAX_GAP_S)
    players = players.select("period", "time_s", "object_id", "team", "x", "y")
    players = players.with_columns(k=(pl.col("time_s") * REPORT_HZ).round().cast(pl.Int64))
    players = players.unique(subset=["period", "k", "object_id"], keep="first")
    ids = players["object_id"].unique().sort().to_list()
    bounds = players.group_by("period").agg(pl.col("k").min().alias("a"), pl.col("k").max().alias("b")).sort("period")
    grid = pl.concat(
        [
            pl.DataFrame({"period": np.full(b - a + 1, p), "k": np.arange(a, b + 1)}).cast(
                {"period": players.schema["period"]}
            )
            for p, a, b in bounds.iter_rows()
        ]
    )
    wide = {
        c: grid.join(players.pivot(on="object_id", index=["period", "k"], values=c), on=["period", "k"], how="left")
        for c in ("x", "y")
    }
    team_of = dict(zip(players["object_id"], players["team"], strict=False))
    keepers = set(match.players.filter(pl.col("is_goalkeeper").fill_null(False))["object_id"].to_list())
    return Wide(
        name=name or match.match_id,
        t=grid["k"].to_numpy() / REPORT_HZ + grid["period"].to_numpy() * 1e5,
        period=grid["period"].to_numpy(),
        x=wide["x"].select(ids).to_numpy().astype(float),
        y=wide["y"].select(ids).to_numpy().astype(float),
        team=np.array([0 if team_of[i] == "home" else 1 for i in ids]),
        keeper=np.array([i in keepers for i in ids]),
        frame_rate=REPORT_HZ,
        simulated=match.metadata.simulated,
    )


def report_statistics(w: Wide) -> dict[str, float]:
    """The report's statistics of one source on its :func:`grid_wide` grid (step ``h = 0.1 s``), visible tracks only.

    * speed ``|p_k+1 - p_k| / h`` and |acceleration| ``|v_k+1 - v_k| / h`` over consecutive visible samples (speeds
      above ``MAX_PLAYER_SPEED`` are outliers, dropped with the accelerations they enter), p50 / p90 / p99;
    * sprints per player-minute: runs of speed > ``SPRINT_SPEED`` for at least ``SPRINT_MIN_S`` (a gap ends a run),
      divided by the player-minutes with a valid speed;
    * turning rate: median ``|angle(v_k+1, v_k)| / h`` (degrees per second) where both speeds >= ``TURN_MIN_SPEED``;
    * team length / width: x / y extent of a team's visible outfield players (>= ``SHAPE_MIN_PLAYERS``), median;
    * team centroid speed: speed of the mean position of a team's visible outfield players between consecutive
      samples that see the same set of them (a player entering the view would move the centroid), median;
    * nearest opponent: distance from each visible player to the nearest visible opponent, median;
    * predictability: from anchors every ``ANCHOR_STRIDE_S`` where a player is visible from ``CV_VELOCITY_S`` before to
      4 s after, constant velocity ``p_a + (p_a - p_a-m) / (m h) * t`` (``m h = CV_VELOCITY_S``); ADE at ``T`` is the
      mean error over ``0 < t <= T``, FDE the error at ``T``, averaged over anchors, for ``T`` = 1, 2, 3, 4 s; the
      spread of 4-s displacements is the p50 / p90 of ``|p_a+4s - p_a|`` on the same anchors;
    * visible players per sample (mean), the broadcast camera's footprint.
    """
    h = 1.0 / REPORT_HZ
    same = np.diff(w.period) == 0
    vx = np.where(same[:, None], np.diff(w.x, axis=0) / h, np.nan)
    vy = np.where(same[:, None], np.diff(w.y, axis=0) / h, np.nan)
    speed = np.hypot(vx, vy)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(speed) & (speed <= MAX_PLAYER_SPEED)
    speed = np.where(ok, speed, np.nan)
    both = ok[1:] & ok[:-1]
    acc = np.hypot(np.diff(vx, axis=0), np.diff(vy, axis=0)) / h
    acc = acc[both]
    with np.errstate(invalid="ignore"):
        moving = both & (speed[1:] >= TURN_MIN_SPEED) & (speed[:-1] >= TURN_MIN_SPEED)
    cross = vx[:-1] * vy[1:] - vy[:-1] * vx[1:]
    dot = vx[:-1] * vx[1:] + vy[:-1] * vy[1:]
    turning = np.degrees(np.abs(np.arctan2(cross, dot)))[moving] / h
    speeds = speed[ok]
    minutes = ok.sum() * h / 60.0
    stats = {
        "speed p50 (m/s)": _q(speeds, 50),
        "speed p90 (m/s)": _q(speeds, 90),
        "speed p99 (m/s)": _q(speeds, 99),
        "|acc| p50 (m/s2)": _q(acc, 50),
        "|acc| p90 (m/s2)": _q(acc, 90),
        "|acc| p99 (m/s2)": _q(acc, 99),
        "sprints /player-minute": _sprints(speed, REPORT_HZ) / minutes if minutes else float("nan"),
        "turning rate (deg/s)": _q(turning, 50),
    }
    stats.update(_team_stats(w))
    stats.update(_predictability(w))
    seen = np.isfinite(w.x).sum(axis=1)
    stats["visible players /sample"] = float(seen[seen > 0].mean()) if (seen > 0).any() else float("nan")
    return stats


def _team_stats(w: Wide) -> dict[str, float]:
    h = 1.0 / REPORT_HZ
    lengths, widths, centroid_speeds = [], [], []
    for team in (0, 1):
        cols = (w.team == team) & ~w.keeper
        x, y = w.x[:, cols], w.y[:, cols]
        seen = np.isfinite(x)
        enough = seen.sum(axis=1) >= SHAPE_MIN_PLAYERS
        if not enough.any():
            continue
        lengths.append(np.nanmax(x[enough], axis=1) - np.nanmin(x[enough], axis=1))
        widths.append(np.nanmax(y[enough], axis=1) - np.nanmin(y[enough], axis=1))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            cx, cy = np.nanmean(x, axis=1), np.nanmean(y, axis=1)
        steady = enough[1:] & enough[:-1] & (seen[1:] == seen[:-1]).all(axis=1) & (np.diff(w.period) == 0)
        centroid_speeds.append(np.hypot(np.diff(cx), np.diff(cy))[steady] / h)
    home, away = w.team == 0, w.team == 1
    d = np.hypot(w.x[:, home, None] - w.x[:, None, away], w.y[:, home, None] - w.y[:, None, away])
    with warnings.catch_warnings():  # instants where a side has nobody in view are NaN, skipped below
        warnings.simplefilter("ignore", RuntimeWarning)
        nearest = np.concatenate([np.nanmin(d, axis=2).ravel(), np.nanmin(d, axis=1).ravel()]) if d.size else d
    nearest = nearest[np.isfinite(nearest)]

    def median(parts: list[np.ndarray]) -> float:
        values = np.concatenate(parts) if parts else np.zeros(0)
        return float(np.median(values)) if values.size else float("nan")

    return {
        "team length (m)": median(lengths),
        "team width (m)": median(widths),
        "team centroid speed (m/s)": median(centroid_speeds),
        "nearest opponent (m)": float(np.median(nearest)) if nearest.size else float("nan"),
    }


def forecast_anchors(w: Wide) -> tuple[np.ndarray, np.ndarray]:
    """(windows (A, m + H + 1, 2), ok (A,)) for every anchor and player column: positions from ``CV_VELOCITY_S``
    before to ``max(HORIZONS_S)`` after, and whether the player is visible in all of them within one period."""
    m = int(round(CV_VELOCITY_S * REPORT_HZ))
    horizon = int(round(max(HORIZONS_S) * REPORT_HZ))
    stride = int(round(ANCHOR_STRIDE_S * REPORT_HZ))
    n = w.x.shape[0]
    anchors = np.arange(m, n - horizon, stride)
    if anchors.size == 0:
        return np.zeros((0, m + horizon + 1, 2)), np.zeros(0, dtype=bool)
    idx = anchors[:, None] + np.arange(-m, horizon + 1)[None, :]
    xy = np.stack([w.x[idx], w.y[idx]], axis=-1)  # (A, L, P, 2)
    one_period = w.period[idx[:, 0]] == w.period[idx[:, -1]]
    ok = np.isfinite(xy).all(axis=(1, 3)) & one_period[:, None]
    xy = np.moveaxis(xy, 2, 1).reshape(-1, idx.shape[1], 2)
    return xy, ok.ravel()


def _predictability(w: Wide) -> dict[str, float]:
    m = int(round(CV_VELOCITY_S * REPORT_HZ))
    xy, ok = forecast_anchors(w)
    xy = xy[ok]
    out: dict[str, float] = {}
    if xy.shape[0] == 0:
        for t in HORIZONS_S:
            out[f"CV ADE {t} s (m)"] = out[f"CV FDE {t} s (m)"] = float("nan")
        out["4-s displacement p50 (m)"] = out["4-s displacement p90 (m)"] = float("nan")
        out["forecast anchors"] = 0.0
        return out
    anchor = xy[:, m]
    velocity = (anchor - xy[:, 0]) / CV_VELOCITY_S
    steps = np.arange(1, xy.shape[1] - m)
    predicted = anchor[:, None] + velocity[:, None] * (steps / REPORT_HZ)[None, :, None]
    error = np.hypot(*(predicted - xy[:, m + 1 :]).transpose(2, 0, 1))  # (A, H)
    for t in HORIZONS_S:
        k = int(round(t * REPORT_HZ))
        out[f"CV ADE {t} s (m)"] = float(error[:, :k].mean())
        out[f"CV FDE {t} s (m)"] = float(error[:, k - 1].mean())
    displacement = np.hypot(*(xy[:, -1] - anchor).T)
    out["4-s displacement p50 (m)"] = _q(displacement, 50)
    out["4-s displacement p90 (m)"] = _q(displacement, 90)
    out["forecast anchors"] = float(xy.shape[0])
    return out


# ---------------------------------------------------------------------------------------------------------------
# Real references and the report table
# ---------------------------------------------------------------------------------------------------------------


def load_real(folder: Path) -> Match:
    """A real match folder of the data folder (SkillCorner or Hawk-Eye files) as a canonical match, read by
    :func:`soccerai.io.load_match` from the folder's files."""
    files = sorted(p for p in Path(folder).iterdir() if p.is_file()) if Path(folder).is_dir() else []
    if not files:
        raise InvalidInputError("no real tracking files here", folder)
    return load_match(files)


def real_statistics(data_dir: Path, cache_dir: Path | None = None) -> dict[str, dict[str, float]]:
    """:func:`report_statistics` of every real source in :data:`REAL_SOURCES` (report column -> statistics).

    Reading the SkillCorner match takes about a minute, so the figures are cached as JSON in ``cache_dir``
    (default ``<out>/realism``) under a name carrying ``REPORT_VERSION`` and the source files' sizes.
    """
    out: dict[str, dict[str, float]] = {}
    folder = Path(cache_dir) if cache_dir is not None else output_dir() / "realism"
    for column, (relative, _) in REAL_SOURCES.items():
        source = Path(data_dir) / relative
        if not source.is_dir():
            raise InvalidInputError("real tracking folder not found (check SOCCERAI_DATA_DIR)", source)
        size = sum(p.stat().st_size for p in source.iterdir() if p.is_file())
        path = folder / f"real-{source.name}-{size}-v{REPORT_VERSION}.json"
        if path.is_file():
            out[column] = json.loads(path.read_text())
            continue
        out[column] = report_statistics(grid_wide(load_real(source), column))
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(out[column], indent=1))
        tmp.replace(path)
    return out


def simulated_statistics(match: Match, seed: int = 0) -> dict[str, dict[str, float]]:
    """:func:`report_statistics` of a simulated match seen through each real source's measurement model
    (:data:`REAL_SOURCES`; broadcast camera and error for SkillCorner, optical for Hawk-Eye)."""
    return {
        column: report_statistics(grid_wide(observe(match, MODELS[kind], seed)))
        for column, (_, kind) in REAL_SOURCES.items()
    }


DIAGNOSTIC_ROWS = ("forecast anchors",)
"""Rows printed for context, not compared: the sample size."""


def realism_report(
    simulated: dict[str, dict[str, dict[str, float]]], real: dict[str, dict[str, float]]
) -> pl.DataFrame:
    """One table: a row per statistic; per real source, a column per simulated variant (its statistics through
    that source's measurement model), the real column, and each variant's ratio to real.

    ``simulated``: variant name -> :func:`simulated_statistics`; ``real``: :func:`real_statistics`.
    """
    names = list(next(iter(real.values())))
    columns: dict[str, list] = {"statistic": names}
    for source, stats in real.items():
        short = source.split(" (")[0]
        for variant, by_source in simulated.items():
            columns[f"{variant} via {short} model"] = [round(by_source[source][k], 3) for k in names]
        columns[source] = [round(stats[k], 3) for k in names]
        for variant, by_source in simulated.items():
            columns[f"{variant} / {short}"] = [round(_ratio(by_source[source][k], stats[k]), 3) for k in names]
    return pl.DataFrame(columns)


def _ratio(value: float, reference: float) -> float:
    return value / reference if reference else float("nan")


def realism_objective(
    simulated: dict[str, dict[str, float]], real: dict[str, dict[str, float]], exclude: dict[str, tuple[str, ...]]
) -> float:
    """Mean ``|ln(simulated / real)|`` over every statistic of every real source (the calibration objective; 0 =
    identical), leaving out :data:`DIAGNOSTIC_ROWS` and ``exclude[source]`` (statistics a source cannot measure)."""
    terms = [
        abs(np.log(simulated[source][k] / value))
        for source, stats in real.items()
        for k, value in stats.items()
        if k not in DIAGNOSTIC_ROWS and k not in exclude.get(source, ()) and value > 0 and simulated[source][k] > 0
    ]
    return float(np.mean(terms)) if terms else float("nan")
