"""``soccerai shots MATCH``: one row per shot (clock, team, shooter, outcome, evidence) and goals against the score.

MATCH is a stored ``.parquet`` match or one match's provider files (:func:`soccerai.data.load.load_any`). Shots come
from the match's events where it has them (events win), else from its tracking
(:func:`soccerai.match.shots.shot_report`: detected shots plus goals inferred from broadcast evidence). The table is
also written to ``<out>/shots/<match_id>.parquet`` (atomically). Exit 0; a match without ball tracking is a one-line
error (exit 1), and no shot is invented.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from soccerai.cli.output import FormatOption, Output

SHOW_COLUMNS = {"clock": "clock", "team_name": "team", "shooter": "shooter", "result": "outcome",
                "evidence": "evidence"}
"""Columns of the printed table (the parquet keeps every column), and their headers."""


def shots_table(match) -> tuple[pl.DataFrame, str, str]:
    """(printable shots table, the goals-vs-score line, the shots' source) of one match."""
    from soccerai.match.clock import match_clock
    from soccerai.match.names import player_names, team_name
    from soccerai.match.shots import shot_report

    report = shot_report(match)
    names = {side: team_name(match.metadata, side) for side in ("home", "away")}
    players = match.players.select("object_id", "name", "jersey")
    table = report.table.join(players, left_on="player_id", right_on="object_id", how="left")
    shooter = (pl.when(pl.col("player_id").is_null())
               .then(pl.coalesce(pl.col("shooter_note"), pl.lit("not visible")))
               .otherwise(pl.col("player_id").replace_strict(player_names(match.players), default=pl.col("player_id"))))
    table = table.with_columns(
        clock=pl.struct("period", "time_s").map_elements(lambda r: match_clock(r["period"], r["time_s"]),
                                                         return_dtype=pl.String),
        team_name=pl.col("team").replace_strict(names, default=pl.col("team")),
        shooter=shooter,
        shooter_name=pl.col("name"), shooter_jersey=pl.col("jersey"),
    ).drop("name", "jersey").sort("period", "time_s")
    return table, report.score_line(names["home"], names["away"]), report.source


def shots_command(
    match: Annotated[list[Path], typer.Argument(help="A stored .parquet match, or one match's provider files.")],
    fmt: FormatOption = "table",
) -> None:
    """Print one row per shot (clock, team, shooter, outcome, evidence) and goals per team against the score."""
    from soccerai.config import output_dir
    from soccerai.data.load import load_any
    from soccerai.files import write_parquet_atomic

    loaded = load_any(match)
    table, score_line, source = shots_table(loaded)
    out = write_parquet_atomic(table, output_dir() / "shots" / f"{loaded.match_id}.parquet")
    source_text = "from its events" if source == "events" else "detected in its tracking"
    show = Output(fmt)
    show.table(table.select([pl.col(c).cast(pl.String).alias(h) for c, h in SHOW_COLUMNS.items()]),
               f"Shots of match {loaded.match_id} ({source_text})")
    show.say(score_line, markup=False)
    show.say(f"{table.height} shots written to {out}", markup=False)


def register(app: typer.Typer) -> None:
    app.command("shots")(shots_command)
