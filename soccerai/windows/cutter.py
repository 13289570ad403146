"""Cut 10 Hz canonical tracking into model windows (:class:`soccerai.windows.container.TrajectoryWindows`).

A window is ``T = T_obs + T_pred`` consecutive 10 Hz frames (``T_obs = 10 obs_s``, ``T_pred = 10 pred_s``; the
horizons of the C-OBSO setup are 4, 6, 8 and 10 s) lying inside one possession segment, whose team is the
attacking team. Windows start every ``stride_s`` seconds from the start of each contiguous run of the segment
(a run breaks where consecutive frames are more than 0.15 s apart: no window spans missing frames).

Agents: the 23-agent layout of :mod:`soccerai.windows.layout` (its one keeper rule: slot 0 of each team is its goalkeeper,
empty when none is tracked in the window; then up to 10 other players by object id, the 10 tracked on most frames
of the window when there are more; the ball last). Features ``(x, y, vx, vy)`` are rotated so the attacking team
plays towards ``+x`` (:func:`soccerai.windows.layout.attack_sign`).

Mask: the one presence rule of :func:`soccerai.windows.layout.presence` (a row whose speed is not flagged as a
measurement error; a null velocity, a one-sample segment, is present with velocity 0); untracked agents have zero
features. The dense layout itself (:func:`soccerai.windows.layout.dense_layout`, ``cube_slots``,
``gather_agents``) belongs to :mod:`soccerai.windows.layout`; this module picks the spans.

Units: ``obs_s``, ``pred_s`` and ``stride_s`` are seconds (multiples of 0.1 s); the windows count 10 Hz frames
(``obs_len = 10 obs_s``); ``frame`` arguments and the ``start_frame`` / ``obs_end_frame`` of ``meta`` are frame
numbers on the source clock.
Skipped and counted (:class:`WindowStats`, and a ``warnings.warn`` from :func:`make_windows`): windows where the
ball is missing at any frame, and windows where fewer than ``min_players`` of the 22 player slots are tracked at
some frame.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from soccerai.errors import InvalidParameterError, InvalidTrackingError
from soccerai.match.possession import possession_segments
from soccerai.match.schema import BALL_ID, Match, validate_tracking
from soccerai.match.tracking import frame_period
from soccerai.windows.container import BALL_INDEX, FPS, MIN_PLAYERS, N_AGENTS, N_PER_TEAM, TrajectoryWindows
from soccerai.windows.layout import (
    MatchCube,
    PeriodFrames,
    check_team,
    cube_slots,
    dense_layout,
    gather_agents,
    slot_goalkeepers,
)

CONTIGUOUS_STEP_S = 1.5 / FPS
"""Consecutive 10 Hz frames further apart than this break a run."""
META_SCHEMA: dict[str, pl.DataType] = {
    "window_id": pl.String(),
    "match_id": pl.String(),
    "period": pl.Int8(),
    "start_frame": pl.Int64(),
    "obs_end_frame": pl.Int64(),
    "attacking_team": pl.String(),
    "object_ids": pl.List(pl.String()),
}


@dataclass
class WindowStats:
    """How many windows were produced and how many were skipped, and why."""

    produced: int = 0
    skipped_missing_ball: int = 0
    skipped_too_few_players: int = 0
    per_match: dict[str, int] = field(default_factory=dict)

    @property
    def skipped(self) -> int:
        return self.skipped_missing_ball + self.skipped_too_few_players

    def add(self, other: WindowStats) -> WindowStats:
        return WindowStats(
            self.produced + other.produced,
            self.skipped_missing_ball + other.skipped_missing_ball,
            self.skipped_too_few_players + other.skipped_too_few_players,
            {**self.per_match, **other.per_match},
        )

    def describe(self) -> str:
        return (
            f"{self.produced} windows made, {self.skipped} skipped "
            f"({self.skipped_missing_ball} with the ball missing, "
            f"{self.skipped_too_few_players} with too few tracked players)"
        )


@dataclass(frozen=True)
class _Lengths:
    obs: int
    pred: int
    stride: int

    @property
    def total(self) -> int:
        return self.obs + self.pred


# ----------------------------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------------------------


def make_windows(
    match_or_tracking_10hz: Match | pl.DataFrame,
    players: pl.DataFrame | None = None,
    obs_s: float = 2.0,
    pred_s: float = 4.0,
    stride_s: float = 1.0,
    segments: pl.DataFrame | None = None,
    min_players: int = MIN_PLAYERS,
) -> TrajectoryWindows:
    """Windows of a 10 Hz match (or tracking table + players) inside its possession segments.

    ``segments`` default to :func:`soccerai.match.possession.possession_segments` (with the match's events when given a
    :class:`Match`). Skipped windows are counted and reported with one ``warnings.warn``; use
    :func:`make_windows_with_stats` to get the counts.

    Raises:
        InvalidParameterError: non-positive or non-10-Hz-aligned durations, ``min_players`` outside 0-22.
        InvalidTrackingError: the table is not valid canonical tracking at 10 Hz with velocities.
    """
    windows, stats = make_windows_with_stats(
        match_or_tracking_10hz, players, obs_s, pred_s, stride_s, segments, min_players
    )
    _warn_skipped(stats)
    return windows


def make_windows_with_stats(
    match_or_tracking_10hz: Match | pl.DataFrame,
    players: pl.DataFrame | None = None,
    obs_s: float = 2.0,
    pred_s: float = 4.0,
    stride_s: float = 1.0,
    segments: pl.DataFrame | None = None,
    min_players: int = MIN_PLAYERS,
) -> tuple[TrajectoryWindows, WindowStats]:
    """:func:`make_windows` returning the :class:`WindowStats` too (and warning about nothing)."""
    lengths = _lengths(obs_s, pred_s, stride_s)
    _check_min_players(min_players)
    cube, tracking, events = _cube(match_or_tracking_10hz, players)
    if segments is None:
        segments = possession_segments(tracking, events=events)
    starts = [
        (period, start, team)
        for period, start_frame, end_frame, team in segments.select(
            "period", "start_frame", "end_frame", "team"
        ).iter_rows()
        if int(period) in cube.periods
        for start in _window_starts(cube.periods[int(period)], start_frame, end_frame, lengths)
    ]
    return _assemble(cube, starts, lengths, min_players)


def match_cube(match_10hz: Match) -> MatchCube:
    """The match as a :class:`MatchCube`: build it once, then cut many windows with :func:`window_at_frame`.

    Raises:
        InvalidTrackingError: the tracking is not valid canonical tracking at 10 Hz with velocities.
    """
    if not isinstance(match_10hz, Match):
        raise InvalidParameterError(f"expected a Match, got {type(match_10hz).__name__}")
    return _cube(match_10hz, None)[0]


def window_at_frame(
    match: Match | MatchCube,
    period: int,
    frame: int,
    attacking_team: str,
    obs_s: float = 2.0,
    pred_s: float = 4.0,
    min_players: int = 0,
) -> TrajectoryWindows:
    """One window whose observation ends at ``frame`` (or the last 10 Hz frame before it) of ``period``.

    The observation covers the ``T_obs`` frames up to and including that frame; the future the ``T_pred``
    following frames. ``attacking_team`` ("home"/"away") plays towards +x. Pass a :class:`MatchCube`
    (:func:`match_cube`) instead of the match to cut many windows without laying the match out again each time.

    Raises:
        InvalidParameterError: bad team or durations, frame outside the period, not enough frames before/after.
        InvalidTrackingError: the ball is missing, or fewer than ``min_players`` players are tracked.
    """
    check_team(attacking_team)
    lengths = _lengths(obs_s, pred_s, 1.0)
    _check_min_players(min_players)
    cube = match if isinstance(match, MatchCube) else _cube(match, None)[0]
    if period not in cube.periods:
        raise InvalidParameterError(f"period {period} not in match {cube.match_id}")
    part = cube.periods[period]
    end = int(np.searchsorted(part.frames, frame, side="right")) - 1
    if end < 0 or frame > part.frames[-1]:
        raise InvalidParameterError(f"frame {frame} is outside period {period} of match {cube.match_id}")
    start = end - lengths.obs + 1
    if (
        start < 0
        or start + lengths.total > len(part.frames)
        or not _contiguous(part.times[start : start + lengths.total])
    ):
        raise InvalidParameterError(
            f"frame {frame} of period {period} lacks {obs_s} s of contiguous frames before it or {pred_s} s after it"
        )
    windows, stats = _assemble(cube, [(period, start, attacking_team)], lengths, min_players)
    if stats.produced != 1:
        raise InvalidTrackingError(f"no window at frame {frame} of period {period}: {stats.describe()}")
    return windows


def array_windows(
    positions: np.ndarray,
    velocities: np.ndarray,
    valid: np.ndarray,
    starts: Sequence[int],
    obs_len: int,
    length: int,
    is_goalkeeper: np.ndarray,
    simulated: bool,
) -> TrajectoryWindows:
    """Windows of ``length`` frames starting at ``starts`` cut from frames already in model layout.

    ``positions``/``velocities [F, 23, 2]`` (attack frame, NaN allowed where ``valid [F, 23]`` is False) are
    frames of one scene (e.g. a replay scene after what-if edits). Frames before 0 or after ``F - 1`` are masked;
    masked agents get zero features. ``is_goalkeeper [23]`` is shared by every window.
    """
    if not 0 < obs_len < length:
        raise InvalidParameterError(f"obs_len {obs_len} must be between 1 and length - 1 = {length - 1}")
    n = positions.shape[0]
    states = np.concatenate([positions, velocities], axis=-1)
    out = np.zeros((len(starts), length, N_AGENTS, 4), np.float32)
    mask = np.zeros((len(starts), length, N_AGENTS), bool)
    for w, start in enumerate(starts):
        lo, hi = max(0, start), min(n, start + length)
        if lo < hi:
            mask[w, lo - start : hi - start] = valid[lo:hi]
            out[w, lo - start : hi - start] = np.nan_to_num(states[lo:hi])
    out[~mask] = 0.0
    return TrajectoryWindows(
        states=out, mask=mask, is_goalkeeper=np.repeat(is_goalkeeper[None], len(starts), axis=0), obs_len=obs_len,
        meta=pl.DataFrame({"window_id": [str(s) for s in starts]}), simulated=simulated,
    )


# ----------------------------------------------------------------------------------------------------------------
# Parameters and input
# ----------------------------------------------------------------------------------------------------------------


def _frames_of(name: str, seconds: float, minimum: int) -> int:
    if not np.isfinite(seconds) or seconds <= 0:
        raise InvalidParameterError(f"{name} must be positive, got {seconds}")
    count = int(round(seconds * FPS))
    if abs(count - seconds * FPS) > 1e-6 or count < minimum:
        raise InvalidParameterError(f"{name}={seconds} must be a positive multiple of {1 / FPS} s")
    return count


def _lengths(obs_s: float, pred_s: float, stride_s: float) -> _Lengths:
    return _Lengths(
        _frames_of("obs_s", obs_s, 1), _frames_of("pred_s", pred_s, 1), _frames_of("stride_s", stride_s, 1)
    )


def _check_min_players(min_players: int) -> None:
    if not 0 <= min_players <= 2 * N_PER_TEAM:
        raise InvalidParameterError(f"min_players must be between 0 and {2 * N_PER_TEAM}, got {min_players}")


def _cube(
    match_or_tracking: Match | pl.DataFrame, players: pl.DataFrame | None
) -> tuple[MatchCube, pl.DataFrame, pl.DataFrame | None]:
    """Check the input is 10 Hz tracking with velocities and lay it out densely per period."""
    if isinstance(match_or_tracking, Match):
        tracking, players, events = (
            match_or_tracking.tracking,
            match_or_tracking.players,
            match_or_tracking.events,
        )
        simulated = match_or_tracking.metadata.simulated
    elif isinstance(match_or_tracking, pl.DataFrame):
        tracking, events, simulated = match_or_tracking, None, False
    else:
        raise InvalidParameterError(
            f"expected a Match or a tracking DataFrame, got {type(match_or_tracking).__name__}"
        )
    validate_tracking(tracking)
    step = frame_period(tracking)
    if abs(step - 1.0 / FPS) > 0.005:
        raise InvalidTrackingError(f"tracking is at {1 / step:.3g} Hz; bring it to {FPS:g} Hz first (soccerai.windows.layout.to_model_rate)")
    if tracking.get_column("vx").is_null().all():
        raise InvalidTrackingError("tracking has no velocities; run soccerai.windows.layout.to_model_rate first")
    if tracking.get_column("match_id").n_unique() != 1:
        raise InvalidTrackingError("tracking holds several matches; cut windows one match at a time")
    cube = dense_layout(tracking, players, simulated)
    return cube, tracking, events


# ----------------------------------------------------------------------------------------------------------------
# Windows
# ----------------------------------------------------------------------------------------------------------------


def _contiguous(times: np.ndarray) -> bool:
    return bool(len(times) < 2 or np.diff(times).max() <= CONTIGUOUS_STEP_S)


def _window_starts(part: PeriodFrames, start_frame: int, end_frame: int, lengths: _Lengths) -> list[int]:
    """Start indices of the windows inside ``[start_frame, end_frame]``, per contiguous run, every stride."""
    inside = np.flatnonzero((part.frames >= start_frame) & (part.frames <= end_frame))
    if len(inside) < lengths.total:
        return []
    breaks = np.flatnonzero(np.diff(part.times[inside]) > CONTIGUOUS_STEP_S) + 1
    starts: list[int] = []
    for run in np.split(inside, breaks):
        starts.extend(range(int(run[0]), int(run[-1]) - lengths.total + 2, lengths.stride))
    return starts


def _assemble(
    cube: MatchCube, starts: list[tuple[int, int, str]], lengths: _Lengths, min_players: int
) -> tuple[TrajectoryWindows, WindowStats]:
    """Build the windows starting at ``(period, start index, attacking team)``; count the skipped ones."""
    ball = cube.object_ids.index(BALL_ID) if BALL_ID in cube.object_ids else None
    states, masks, keepers, meta = [], [], [], []
    stats = WindowStats()
    for period, start, team in starts:
        part = cube.periods[period]
        span = slice(start, start + lengths.total)
        tracked = part.tracked[span]
        if ball is None or not tracked[:, ball].all():
            stats.skipped_missing_ball += 1
            continue
        slots = cube_slots(cube, tracked, team)
        window, mask = gather_agents(part.features[span], tracked, slots, team)
        if mask[:, :BALL_INDEX].sum(axis=1).min() < min_players:
            stats.skipped_too_few_players += 1
            continue
        states.append(window.astype(np.float32))
        masks.append(mask)
        ids = [cube.object_ids[o] if o is not None else None for o in slots]
        keepers.append(slot_goalkeepers(ids, cube.goalkeepers))
        meta.append(_meta_row(cube.match_id, period, part.frames, start, lengths, team, ids))
    stats.produced = len(states)
    stats.per_match = {cube.match_id: len(states)}
    return _windows(states, masks, keepers, meta, lengths, cube.simulated), stats


def _meta_row(
    match_id: str,
    period: int,
    frames: np.ndarray,
    start: int,
    lengths: _Lengths,
    team: str,
    ids: list[str | None],
) -> dict[str, object]:
    start_frame = int(frames[start])
    return {
        "window_id": f"{match_id}/{period}/{start_frame}",
        "match_id": match_id,
        "period": period,
        "start_frame": start_frame,
        "obs_end_frame": int(frames[start + lengths.obs - 1]),
        "attacking_team": team,
        "object_ids": ids,
    }


def _windows(
    states: list[np.ndarray],
    masks: list[np.ndarray],
    keepers: list[np.ndarray],
    meta: list[dict[str, object]],
    lengths: _Lengths,
    simulated: bool,
) -> TrajectoryWindows:
    t = lengths.total
    return TrajectoryWindows(
        states=np.stack(states) if states else np.zeros((0, t, N_AGENTS, 4), np.float32),
        mask=np.stack(masks) if masks else np.zeros((0, t, N_AGENTS), bool),
        is_goalkeeper=np.stack(keepers) if keepers else np.zeros((0, N_AGENTS), bool),
        obs_len=lengths.obs,
        meta=pl.DataFrame(meta, schema=META_SCHEMA),
        simulated=simulated,
    )


def _warn_skipped(stats: WindowStats) -> None:
    if stats.skipped:
        warnings.warn(stats.describe(), stacklevel=3)
