"""Realism report: the SIMULATED match and the REAL tracking clips in ../shared/data, side by side.

Statistics, computed the same way for every source from player positions only (ball excluded):

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

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from soccerai.errors import InvalidInputError
from soccerai.io.lastrow import load_lastrow
from soccerai.schema import MAX_PLAYER_SPEED, Match

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

    Read by :func:`soccerai.io.lastrow.load_lastrow`, so it shares that reader's metres, orientation and
    goalkeeper guess: the defending keeper is left out of his team's length and width like every source's keeper.
    """
    match = load_lastrow(path)
    return wide_from_match(match, name or f"Last Row {match.match_id} (real)")


def wide_from_kloppy(dataset, name: str) -> Wide:
    """A kloppy tracking dataset loaded with ``coordinates="secondspectrum"`` (centred metres)."""
    df = dataset.to_df(engine="polars")
    team, keeper, ids = [], [], []
    for t_idx, t in enumerate(dataset.metadata.teams):
        for p in t.players:
            if f"{p.player_id}_x" in df.columns:
                ids.append(p.player_id)
                team.append(t_idx)
                keeper.append(str(getattr(p.starting_position, "code", "")) == "GK")
    seconds = df["timestamp"].dt.total_microseconds().to_numpy() / 1e6 + df["period_id"].to_numpy() * 1e5
    return Wide(
        name=name,
        t=seconds,
        period=df["period_id"].to_numpy(),
        x=df.select([f"{i}_x" for i in ids]).to_numpy().astype(float),
        y=df.select([f"{i}_y" for i in ids]).to_numpy().astype(float),
        team=np.array(team),
        keeper=np.array(keeper, dtype=bool),
        frame_rate=float(dataset.metadata.frame_rate),
        simulated=False,
    )


def real_clips(data_dir: Path) -> list[Wide]:
    """Every real clip the report compares against (skipping none silently: a missing file is an error)."""
    from kloppy import metrica, pff, sportec, statsperform

    s = data_dir / "provider-samples"
    if not (data_dir / "clips" / "lastrow").is_dir() or not s.is_dir():
        raise InvalidInputError(
            "no real clips here (clips/lastrow, provider-samples): set SOCCERAI_DATA_DIR", data_dir
        )
    kw = {"coordinates": "secondspectrum"}
    return [
        read_lastrow_clip(data_dir / "clips" / "lastrow" / "LIV_[2]-1_CHE.csv", LASTROW_COLUMN),
        wide_from_kloppy(
            pff.load_tracking(meta_data=s / "pff_metadata_10517.json", roster_meta_data=s / "pff_rosters_10517.json",
                              raw_data=s / "pff_10517.jsonl", only_alive=False, **kw), "PFF 10517 (real)"),
        wide_from_kloppy(
            sportec.load_tracking(meta_data=s / "sportec_meta.xml", raw_data=s / "sportec_positional.xml", only_alive=False, **kw),
            "Sportec (real)"),
        wide_from_kloppy(
            statsperform.load_tracking(ma1_data=s / "statsperform_tracking_ma1.json", ma25_data=s / "statsperform_tracking_ma25.txt",
                                       tracking_system="sportvu", only_alive=False, **kw), "Stats Perform (real)"),
        wide_from_kloppy(
            metrica.load_tracking_epts(meta_data=s / "epts_metrica_metadata.xml", raw_data=s / "epts_metrica_tracking.txt", **kw),
            "Metrica EPTS (real)"),
    ]  # fmt: skip


def realism_table(simulated: Match, data_dir: Path) -> pl.DataFrame:
    """One row per statistic; one column for the simulated match and one per real clip."""
    sources = [wide_from_match(simulated, f"{simulated.match_id} (SIMULATED)"), *real_clips(data_dir)]
    stats = [motion_stats(w) for w in sources]
    names = list(stats[0])
    return pl.DataFrame(
        {
            "statistic": names,
            **{w.name: [round(s[k], 2) for k in names] for w, s in zip(sources, stats, strict=True)},
        }
    )
