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
    if match.tracking.select(pl.struct("period", "frame").n_unique()).item() < MIN_FRAMES:
        return match
    players = match.players
    marked = set(players.filter(pl.col("is_goalkeeper").fill_null(False)).get_column("team").to_list())
    players_x = match.tracking.select("object_id", "team", "x").filter(pl.col("team").is_in(["home", "away"]))
    median_x = players_x.group_by("object_id", "team").agg(
        pl.col("x").median().alias("median_x"), pl.len().alias("rows")
    )
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
