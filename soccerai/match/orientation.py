"""Pitch orientation: the one rule every reader uses to reach the canonical static orientation.

Canonical tracking has the home team attacking towards ``+x`` in every period. Providers store real directions
(teams swap at half time). :func:`infer_home_attacks_positive_x` reads each period's direction from where the home
team stands at the period's start: a team defends the goal on the side of its own goalkeeper (or, with no
goalkeeper known, the side of its mean x), so home attacks ``+x`` when its goalkeeper's mean x over the period's
first 25 frames is negative. :func:`to_static_orientation` then rotates by 180 degrees
(``x, y, vx, vy -> -x, -y, -vx, -vy``) every period where home attacks ``-x``.
"""

from __future__ import annotations

import polars as pl

FRAMES_FOR_DIRECTION = 25


def infer_home_attacks_positive_x(tracking: pl.DataFrame, players: pl.DataFrame) -> dict[int, bool]:
    """Per period: does the home team attack towards +x in the provider's coordinates (centred, metres)?"""
    keepers = players.filter(pl.col("is_goalkeeper").fill_null(False)).get_column("object_id").to_list()
    directions: dict[int, bool] = {}
    for (period,), part in tracking.filter(pl.col("team") != "ball").group_by("period", maintain_order=True):
        first_frames = part.get_column("frame").unique().sort().head(FRAMES_FOR_DIRECTION)
        start = part.filter(pl.col("frame").is_in(first_frames.implode()))
        home_keeper = start.filter((pl.col("team") == "home") & pl.col("object_id").is_in(keepers))
        reference = home_keeper if home_keeper.height else start.filter(pl.col("team") == "home")
        if reference.height:
            home_side = reference.get_column("x").mean()
        else:  # only away players seen: home defends the other side
            home_side = -start.filter(pl.col("team") == "away").get_column("x").mean()
        directions[int(period)] = bool(home_side is None or home_side <= 0.0)
    return directions


def to_static_orientation(tracking: pl.DataFrame, home_attacks_positive_x: dict[int, bool]) -> pl.DataFrame:
    """Rotate periods where home attacks -x by 180 degrees so home attacks +x everywhere."""
    flipped_periods = [p for p, positive in home_attacks_positive_x.items() if not positive]
    if not flipped_periods:
        return tracking
    flip = pl.col("period").is_in(flipped_periods)
    cols = [c for c in ("x", "y", "vx", "vy") if c in tracking.columns]
    return tracking.with_columns([pl.when(flip).then(-pl.col(c)).otherwise(pl.col(c)).alias(c) for c in cols])
