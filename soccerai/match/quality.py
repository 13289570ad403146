"""Data-quality summary of a canonical match: what a person should know before trusting its tracking.

Raw player speed between consecutive observations of the same player in one period is

    v = sqrt(dx^2 + dy^2) / dt,   dt = (frame_b - frame_a) / frame_rate,

so a gap of dropped frames divides by the real elapsed time instead of one frame's. Speeds above
:data:`soccerai.match.schema.MAX_PLAYER_SPEED` (12 m/s) are counted as errors (no human sprints faster).
A *duplicated frame* is a frame whose every object stands exactly where it stood in the previous frame (a frozen
feed), detected by an order-independent sum of per-row hashes of ``(object_id, x, y)``.
Per-player visible share: :func:`player_visibility` (broadcast tracking lists only the players the camera sees).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from soccerai.match.names import player_label
from soccerai.match.schema import BALL_ID, MAX_PLAYER_SPEED, Match

FULL_TEAMS_PLAYERS = 22
JUMP_PAD_S = 0.5
"""Seconds either side of a tracking jump whose smoothed velocities are left out of top speeds (the smoothing
window spreads a jump over its neighbours)."""


MAX_PLAYER_ACCELERATION = 10.0
"""m/s^2: a smoothed velocity changing faster than this between two frames is a tracking jump spread by the
smoothing, not a human (elite players peak around 6-9 m/s^2)."""


def jump_free(positions: np.ndarray, valid: np.ndarray, fps: float, max_speed: float = MAX_PLAYER_SPEED,
              pad_s: float = JUMP_PAD_S, velocities: np.ndarray | None = None,
              max_acceleration: float = MAX_PLAYER_ACCELERATION) -> tuple[np.ndarray, np.ndarray]:
    """Which steps and frames of one player's track ``positions [F, 2]`` / ``valid [F]`` are free of jumps.

    A *jump* is a step between consecutive tracked frames faster than ``max_speed`` (``|p_{t+1} - p_t| * fps``;
    broadcast tracking re-identifies a player somewhere else, no human runs that fast). Returns ``steps_ok [F-1]``
    (both ends tracked, finite, not a jump: what a distance may sum) and ``frames_ok [F]`` (tracked and at least
    ``pad_s`` seconds from any jump: where a smoothed speed may be read). With ``velocities [F, 2]`` (smoothed), a
    step whose velocity changes faster than ``max_acceleration`` also marks a jump for ``frames_ok``.
    """
    positions = np.asarray(positions, dtype=np.float64)
    valid = np.asarray(valid, dtype=bool) & np.isfinite(positions).all(-1)
    if len(positions) < 2:
        return np.zeros(0, dtype=bool), valid.copy()
    steps = np.linalg.norm(np.diff(positions, axis=0), axis=-1)
    both = valid[1:] & valid[:-1] & np.isfinite(steps)
    jump = both & (np.nan_to_num(steps, nan=0.0) * fps > max_speed)
    frames_ok = valid.copy()
    pad = int(round(pad_s * fps))
    marks = jump
    if velocities is not None:
        dv = np.linalg.norm(np.diff(np.asarray(velocities, dtype=np.float64), axis=0), axis=-1) * fps
        marks = jump | (both & (np.nan_to_num(dv, nan=0.0) > max_acceleration))
    for i in np.flatnonzero(marks):
        frames_ok[max(0, i - pad + 1) : i + 1 + pad] = False
    return both & ~jump, frames_ok


def _frame_table(tracking: pl.DataFrame) -> pl.DataFrame:
    """One row per (period, frame): players seen, ball seen, hash of the frame's positions."""
    row_hash = pl.struct("object_id", "x", "y").hash(seed=0)
    return (
        tracking.group_by("period", "frame")
        .agg(
            (pl.col("team") != BALL_ID).sum().alias("players"),
            (pl.col("team") == BALL_ID).any().alias("has_ball"),
            row_hash.sum().alias("positions_hash"),
            pl.len().alias("objects"),
        )
        .sort("period", "frame")
    )


def _duplicated_frames(frames: pl.DataFrame) -> int:
    same = (
        (pl.col("positions_hash") == pl.col("positions_hash").shift(1))
        & (pl.col("objects") == pl.col("objects").shift(1))
        & (pl.col("period") == pl.col("period").shift(1))
    )
    return int(frames.select(same.fill_null(False).sum()).item())


def player_raw_speeds(tracking: pl.DataFrame, frame_rate: float) -> pl.Series:
    """Frame-to-frame speed (m/s) of every player observation after his first in each period (gap-aware)."""
    dt = pl.col("frame").diff().over("object_id", "period") / frame_rate
    dist = (
        pl.col("x").diff().over("object_id", "period") ** 2
        + pl.col("y").diff().over("object_id", "period") ** 2
    ).sqrt()
    return (
        tracking.filter(pl.col("team") != BALL_ID)
        .sort("object_id", "period", "frame")
        .select((dist / dt).alias("speed"))
        .get_column("speed")
        .drop_nulls()
    )


def _periods(frames: pl.DataFrame, frame_rate: float) -> list[dict[str, Any]]:
    spans = frames.group_by("period").agg(
        pl.len().alias("frames"), pl.col("frame").min().alias("start"), pl.col("frame").max().alias("end")
    )
    return [
        {
            "period": int(p),
            "frames": int(n),
            "start_frame": int(s),
            "end_frame": int(e),
            "duration_s": round((e - s + 1) / frame_rate, 3),
        }
        for p, n, s, e in spans.sort("period").iter_rows()
    ]


def _measured_frame_rate(frames: pl.DataFrame, nominal: float) -> float | None:
    """``nominal / median frame step``: 25 Hz data with every other frame kept reads 12.5."""
    steps = frames.select(pl.col("frame").diff().over("period")).get_column("frame").drop_nulls()
    steps = steps.filter(steps > 0)
    return round(nominal / float(steps.median()), 3) if steps.len() else None


def player_visibility(match: Match) -> pl.DataFrame:
    """Per player seen at least once: in what share of the match's frames he has a position.

    ``visible_pct = 100 * frames_visible / frames`` over every frame of the match (a frame: a (period, frame) with
    any row); ``on_pitch_pct`` over the frames from his first to his last sighting in each period he appears in (a
    substitute is not "invisible" before he comes on). Broadcast tracking (SkillCorner) lists only the players
    the camera sees, so its shares are well under 100; optical tracking (Hawk-Eye, Tracab) gives ~100.
    """
    frames = _frame_table(match.tracking).select("period", "frame").with_row_index("i")
    seen = match.tracking.filter(pl.col("team") != BALL_ID).select("object_id", "team", "period", "frame")
    seen = seen.join(frames, on=["period", "frame"])
    spans = seen.group_by("object_id", "period").agg(
        pl.len().alias("n"), (pl.col("i").max() - pl.col("i").min() + 1).alias("span")
    )
    per = spans.group_by("object_id").agg(pl.col("n").sum().alias("frames_visible"), pl.col("span").sum())
    roster = match.players.select("object_id", "team", "jersey", "name")
    total = max(frames.height, 1)
    return (
        per.join(roster, on="object_id", how="left")
        .with_columns(
            (100.0 * pl.col("frames_visible") / total).round(1).alias("visible_pct"),
            (100.0 * pl.col("frames_visible") / pl.col("span")).round(1).alias("on_pitch_pct"),
        )
        .select("object_id", "team", "jersey", "name", "frames_visible", "visible_pct", "on_pitch_pct")
        .sort("team", "jersey", "object_id", nulls_last=True)
    )


def quality_summary(match: Match) -> dict[str, Any]:
    """Headline quality figures of a match (plain JSON-able dict)."""
    meta = match.metadata
    frames = _frame_table(match.tracking)
    n_frames = frames.height
    speeds = player_raw_speeds(match.tracking, meta.frame_rate)
    visibility = player_visibility(match)

    def percent(count: int) -> float:
        return round(100.0 * count / n_frames, 3) if n_frames else 0.0

    return {
        "match_id": meta.match_id,
        "provider": meta.provider,
        "tracking": meta.tracking_label,
        "frames": n_frames,
        "rows": match.tracking.height,
        "players_in_roster": match.players.height,
        "frame_rate_hz": meta.frame_rate,
        "measured_frame_rate_hz": _measured_frame_rate(frames, meta.frame_rate),
        "periods": _periods(frames, meta.frame_rate),
        "missing_ball_pct": percent(int((~frames.get_column("has_ball")).sum())),
        "frames_under_22_players_pct": percent(
            int((frames.get_column("players") < FULL_TEAMS_PLAYERS).sum())
        ),
        "max_player_speed_ms": round(float(speeds.max()), 3) if speeds.len() else None,
        "speeds_over_12ms": int((speeds > MAX_PLAYER_SPEED).sum()),
        "duplicated_frames": _duplicated_frames(frames),
        "players_seen": visibility.height,
        "player_visible_pct_median": round(float(visibility["visible_pct"].median()), 1) if visibility.height else None,
        "player_visible": visibility.to_dicts(),
    }


def quality_frame(summary: dict[str, Any]) -> pl.DataFrame:
    """The summary as a two-column table, measure and value (periods and players one row each)."""
    rows: list[tuple[str, str]] = []
    for key, value in summary.items():
        if key == "periods":
            rows += [(f"period {p['period']}", f"{p['frames']} frames, {p['duration_s']:.1f} s "
                                               f"(frames {p['start_frame']}-{p['end_frame']})") for p in value]
        elif key == "player_visible":
            rows += [(f"visible {player_label(str(p['object_id']), p['name'], p['jersey'])} ({p['team']}, "
                      f"{p['object_id']})",
                      f"{p['visible_pct']:.1f}% of frames, {p['on_pitch_pct']:.1f}% while on the pitch") for p in value]
        else:
            rows.append((key, "-" if value is None else str(value)))
    return pl.DataFrame(rows, schema={"measure": pl.String(), "value": pl.String()}, orient="row")


def quality_title(summary: dict[str, Any]) -> str:
    """The title of the quality table: match id and whether its tracking is real or simulated."""
    return f"Quality of {summary['match_id']} ({summary['tracking']} tracking)"
