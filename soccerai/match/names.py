"""Who a player is: ``object_id`` -> ``"Name (#number)"`` from a match's players table.

The one place soccerai turns a player id into what a person reads; tables, parquet outputs, figures and the
dashboard call it. A table with player-id columns (``player``, ``player_id``, ``shooter``, ``a1``, ...) gains a
``<column>_name`` column beside each (``player_name`` for ``player`` / ``player_id``).
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from soccerai.match.schema import MatchMetadata

MAX_NAME = 40
"""Names are cut to this many characters (provider text is data, not layout)."""
ID_COLUMNS = ("player", "player_id", "object_id", "shooter", "best_player", "a1", "d1", "d2", "receiver_id")
"""Columns that hold player ids, in every soccerai table that has them."""


def player_label(object_id: str, name: str | None, jersey: int | None) -> str:
    """``"Thomas Müller (#25)"``; without a name ``"player <id>"``; without a number no ``(#..)``."""
    text = (name or "").strip()[:MAX_NAME] or f"player {object_id}"
    return f"{text} (#{jersey})" if jersey is not None else text


def player_names(players: pl.DataFrame | None) -> dict[str, str]:
    """``{object_id: "Name (#number)"}`` for every row of a match's players table (``soccerai.match.schema``)."""
    if players is None or players.height == 0 or "object_id" not in players.columns:
        return {}
    names = players["name"] if "name" in players.columns else pl.Series([None] * players.height)
    jerseys = players["jersey"] if "jersey" in players.columns else pl.Series([None] * players.height)
    return {str(i): player_label(str(i), n, j) for i, n, j in zip(players["object_id"], names, jerseys, strict=True)}


def name_column(column: str) -> str:
    """The name column beside id column ``column``: ``player_name`` for ``player`` / ``player_id``."""
    return "player_name" if column in ("player", "player_id", "object_id") else f"{column.removesuffix('_id')}_name"


def with_player_names(frame: pl.DataFrame, players: pl.DataFrame | Mapping[str, str] | None) -> pl.DataFrame:
    """``frame`` with a name column right after each player-id column (:data:`ID_COLUMNS`) it has.

    ``players`` is the match's players table or a :func:`player_names` mapping; ids it does not know read
    ``"player <id>"``; a null id stays null. Columns already named are left as they are.
    """
    names = players if isinstance(players, Mapping) else player_names(players)
    out = frame
    for column in [c for c in ID_COLUMNS if c in frame.columns and frame[c].dtype == pl.String]:
        target = name_column(column)
        if target in out.columns:
            continue
        labels = out[column].map_elements(lambda i: names.get(i, f"player {i}"), return_dtype=pl.String,
                                          skip_nulls=True)
        out = out.insert_column(out.columns.index(column) + 1, labels.alias(target))
    return out


def team_name(metadata: MatchMetadata, side: str) -> str:
    """The team's name from the metadata (``"Home"`` / ``"Away"`` when the provider gave none)."""
    name = metadata.home_team if side == "home" else metadata.away_team if side == "away" else side
    return side.capitalize() if name in (None, "", side) else str(name)
