"""Goalkeepers where the provider does not say who they are (Metrica CSV, Tracab DAT, Signality, ...).

Pitch control gives goalkeepers a larger control rate and the model windows put them first, so an unmarked keeper
matters. Rule: in the canonical static orientation (home attacks +x) a team's goalkeeper is the player with the
deepest median position towards his own goal over the match: the smallest median ``x`` for home, the largest for
away. Applied only to teams with no player marked, only on matches with at least ``MIN_FRAMES`` frames (a few
frames say nothing about who stays back), and recorded in ``metadata.extra["inferred_goalkeepers"]``.
"""

from __future__ import annotations

import dataclasses

import polars as pl

from soccerai.match.schema import Match

MIN_FRAMES = 250


def infer_goalkeepers(match: Match) -> Match:
    """The match with one goalkeeper marked per team that had none (see the module docstring)."""
    frames = match.tracking.lazy().select(pl.struct("period", "frame").n_unique())  # streamed: no copy of the table
    if frames.collect(engine="streaming").item() < MIN_FRAMES:
        return match
    players = match.players
    marked = set(players.filter(pl.col("is_goalkeeper").fill_null(False)).get_column("team").to_list())
    median_x = _median_x(match.tracking)
    inferred: dict[str, str] = {}
    for team, descending in (("home", False), ("away", True)):
        candidates = median_x.filter((pl.col("team") == team) & (pl.col("rows") >= pl.col("rows").max() * 0.25))
        if team in marked or candidates.height == 0:
            continue
        inferred[team] = candidates.sort("median_x", descending=descending).get_column("object_id").item(0)
    if not inferred:
        return match
    keeper = pl.col("object_id").is_in(list(inferred.values()))
    players = players.with_columns(
        is_goalkeeper=pl.col("is_goalkeeper").fill_null(False) | keeper,
        position=pl.when(keeper).then(pl.lit("GK")).otherwise(pl.col("position")),
    )
    extra = {**match.metadata.extra, "inferred_goalkeepers": inferred}
    return dataclasses.replace(match, players=players, metadata=dataclasses.replace(match.metadata, extra=extra))


def _median_x(tracking: pl.DataFrame) -> pl.DataFrame:
    """Each player's (object_id, team) median ``x`` and row count, grouped on integers (an id's index among the
    table's distinct ids, home or not): grouping a whole match on its strings needs ~10x the memory."""
    ids = tracking.get_column("object_id").unique()
    number = pl.col("object_id").replace_strict(ids, pl.int_range(ids.len(), dtype=pl.UInt32, eager=True))
    players = tracking.select(number.alias("number"), (pl.col("team") == "home").alias("home"), "x").filter(
        tracking.get_column("team").is_in(["home", "away"])
    )
    median = players.group_by("number", "home").agg(pl.col("x").median().alias("median_x"), pl.len().alias("rows"))
    return median.select(
        pl.col("number").replace_strict(pl.int_range(ids.len(), dtype=pl.UInt32, eager=True), ids).alias("object_id"),
        pl.when(pl.col("home")).then(pl.lit("home")).otherwise(pl.lit("away")).alias("team"),
        "median_x", "rows",
    )
