"""Possession segments and attacks from a canonical tracking table.

A *possession segment* is a run of frames of one period during which one team owns the ball:
one row ``(period, start_frame, end_frame, team, duration)`` with ``duration`` in seconds
(``time_s[end] - time_s[start]``) and ``source`` saying which rule produced it. The owner of each frame comes from
the first source available, in this order:

1. ``ball_owning_team`` in the tracking table (the provider's own statement), where any frame has one;
2. the events: the team of each on-ball event owns the ball from that event's frame until the frame before the
   other team's next event (the last one until the end of the period's tracking);
3. the nearest player to the ball, with hysteresis: at each frame the *candidate* is the team of the player
   nearest to the ball when that player is within ``control_radius`` metres (else none). A team takes possession
   only when it has been the candidate for ``hysteresis_s`` seconds without interruption (it then owns the ball from
   the start of that run); until another team does so, the owner keeps the ball (a ball in flight between two players of one team stays theirs; a brief touch by
   an opponent does not change possession).

Segments are also split at time gaps longer than ``max_gap_s`` (no segment spans missing frames), and segments
shorter than ``min_duration_s`` are dropped.

An *attack* (:func:`attacks`) is a possession segment during which the ball reaches the owning team's attacking
half (``x > 0`` with the team attacking ``+x``) or final third (``x > L/6``, the last third of a pitch of length
``L``). Canonical tables are static (home attacks ``+x``), so for the away team the ball's ``x`` is negated.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import polars as pl

from soccerai.errors import InvalidParameterError, InvalidTrackingError
from soccerai.match.schema import DEFAULT_PITCH, validate_tracking

SEGMENT_SCHEMA: dict[str, pl.DataType] = {
    "period": pl.Int8(),
    "start_frame": pl.Int64(),
    "end_frame": pl.Int64(),
    "team": pl.String(),
    "duration": pl.Float64(),
    "source": pl.String(),
}


def possession_segments(
    tracking: pl.DataFrame,
    events: pl.DataFrame | None = None,
    min_duration_s: float = 1.0,
    control_radius: float = 2.0,
    hysteresis_s: float = 0.3,
    max_gap_s: float = 0.5,
) -> pl.DataFrame:
    """Possession segments of a tracking table (see the module docstring for the three rules and their order)."""
    for name, value in (
        ("control_radius", control_radius),
        ("hysteresis_s", hysteresis_s),
        ("max_gap_s", max_gap_s),
    ):
        if not np.isfinite(value) or value <= 0:
            raise InvalidParameterError(f"{name} must be positive, got {value}")
    if not np.isfinite(min_duration_s) or min_duration_s < 0:
        raise InvalidParameterError(f"min_duration_s must be >= 0, got {min_duration_s}")
    validate_tracking(tracking)
    clock = tracking.group_by("period", "frame").agg(pl.col("time_s").first()).sort("period", "frame")
    owners, source = _frame_owners(tracking, events, clock, control_radius, hysteresis_s)
    segments = _run_lengths(owners, max_gap_s)
    return (
        segments.filter(pl.col("duration") >= min_duration_s)
        .with_columns(pl.lit(source).alias("source"))
        .select([pl.col(c).cast(t) for c, t in SEGMENT_SCHEMA.items()])
    )


def _frame_owners(
    tracking: pl.DataFrame,
    events: pl.DataFrame | None,
    clock: pl.DataFrame,
    radius: float,
    hysteresis_s: float,
) -> tuple[pl.DataFrame, str]:
    """``clock`` (period, frame, time_s) with an ``owner`` column, and the name of the rule used."""
    provider = tracking.group_by("period", "frame").agg(
        pl.col("ball_owning_team").drop_nulls().first().alias("owner")
    )
    if provider.get_column("owner").is_not_null().any():
        return clock.join(provider, on=["period", "frame"], how="left"), "tracking"
    if events is not None and events.height and _has_team_events(events):
        return _owners_from_events(events, clock), "events"
    return _owners_from_proximity(tracking, clock, radius, hysteresis_s), "proximity"


def _has_team_events(events: pl.DataFrame) -> bool:
    needed = {"period", "frame", "team"}
    if not needed <= set(events.columns):
        raise InvalidTrackingError(f"events table lacks columns {sorted(needed - set(events.columns))}")
    return events.filter(pl.col("team").is_in(["home", "away"]) & pl.col("frame").is_not_null()).height > 0


def _owners_from_events(events: pl.DataFrame, clock: pl.DataFrame) -> pl.DataFrame:
    """Each team event owns the ball until the other team's next event: a backward as-of join on the frame."""
    team_events = (
        events.filter(pl.col("team").is_in(["home", "away"]) & pl.col("frame").is_not_null())
        .select(pl.col("period").cast(pl.Int8), pl.col("frame").cast(pl.Int64), pl.col("team").alias("owner"))
        .sort("period", "frame")
        .unique(["period", "frame"], keep="last", maintain_order=True)
    )
    return (
        clock.sort("frame")
        .join_asof(team_events, on="frame", by="period", strategy="backward", check_sortedness=False)
        .sort("period", "frame")
    )


def _owners_from_proximity(
    tracking: pl.DataFrame, clock: pl.DataFrame, radius: float, hysteresis_s: float
) -> pl.DataFrame:
    """Nearest-player candidate per frame, then possession changes only after ``hysteresis_s`` of candidacy."""
    ball = tracking.filter(pl.col("team") == "ball").select(
        "period", "frame", pl.col("x").alias("bx"), pl.col("y").alias("by")
    )
    nearest = (
        tracking.filter(pl.col("team") != "ball")
        .join(ball, on=["period", "frame"])
        .with_columns(
            ((pl.col("x") - pl.col("bx")) ** 2 + (pl.col("y") - pl.col("by")) ** 2).sqrt().alias("d")
        )
        .sort("d")
        .group_by("period", "frame")
        .agg(pl.col("team").first(), pl.col("d").first())
    )
    frames = clock.join(nearest, on=["period", "frame"], how="left").sort("period", "frame")
    candidate = pl.when(pl.col("d") <= radius).then(pl.col("team")).otherwise(None)
    runs = frames.with_columns(candidate.alias("candidate")).with_columns(
        pl.col("candidate").rle_id().over("period").alias("run")
    )
    run_length = (pl.col("time_s").max() - pl.col("time_s").min()).over("period", "run")
    qualifies = pl.col("candidate").is_not_null() & (run_length >= hysteresis_s)
    owner = pl.when(qualifies).then(pl.col("candidate")).otherwise(None)
    return (
        runs.with_columns(owner.alias("owner"))
        .with_columns(pl.col("owner").forward_fill().over("period"))
        .select("period", "frame", "time_s", "owner")
    )


def _run_lengths(owners: pl.DataFrame, max_gap_s: float) -> pl.DataFrame:
    """Runs of equal non-null owner per period, split at time gaps > ``max_gap_s``."""
    owners = owners.sort("period", "frame")
    gap = (pl.col("time_s").diff().over("period") > max_gap_s).fill_null(False)
    change = (pl.col("owner") != pl.col("owner").shift().over("period")).fill_null(True) | pl.col(
        "owner"
    ).is_null()
    new_run = gap | change | (pl.col("period") != pl.col("period").shift()).fill_null(True)
    return (
        owners.with_columns(new_run.cum_sum().alias("run"))
        .filter(pl.col("owner").is_not_null())
        .group_by("run", maintain_order=True)
        .agg(
            pl.col("period").first(),
            pl.col("frame").min().alias("start_frame"),
            pl.col("frame").max().alias("end_frame"),
            pl.col("owner").first().alias("team"),
            (pl.col("time_s").max() - pl.col("time_s").min()).alias("duration"),
        )
        .drop("run")
    )


def attacks(
    tracking: pl.DataFrame,
    segments: pl.DataFrame | None = None,
    zone: Literal["half", "third"] = "half",
    pitch_length: float = DEFAULT_PITCH[0],
    **segment_options: float,
) -> pl.DataFrame:
    """Possession segments in which the ball reaches the owner's attacking half or final third.

    Adds ``entry_frame`` (the first frame the ball is in the zone) and ``max_x`` (the furthest ball ``x`` reached,
    in the attacking team's direction). ``segments`` default to :func:`possession_segments` of the table
    (``segment_options`` are passed to it).
    """
    if zone not in ("half", "third"):
        raise InvalidParameterError(f"zone must be 'half' or 'third', got {zone!r}")
    if not np.isfinite(pitch_length) or pitch_length <= 0:
        raise InvalidParameterError(f"pitch_length must be positive, got {pitch_length}")
    if segments is None:
        segments = possession_segments(tracking, **segment_options)
    threshold = 0.0 if zone == "half" else pitch_length / 6.0
    ball = tracking.filter(pl.col("team") == "ball").select("period", "frame", "x")
    indexed = segments.with_row_index("segment")
    inside = (
        indexed.join(ball, on="period")
        .filter(pl.col("frame").is_between(pl.col("start_frame"), pl.col("end_frame")))
        .with_columns(pl.when(pl.col("team") == "away").then(-pl.col("x")).otherwise(pl.col("x")).alias("ax"))
        .group_by("segment")
        .agg(
            pl.col("ax").max().alias("max_x"),
            pl.col("frame").filter(pl.col("ax") > threshold).min().alias("entry_frame"),
        )
    )
    return (
        indexed.join(inside, on="segment", how="inner")
        .filter(pl.col("entry_frame").is_not_null())
        .sort("segment")
        .drop("segment")
    )
