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
from rich.console import Console
from rich.table import Table

console = Console()

SHOW_COLUMNS = ("clock", "team_name", "shooter", "result", "evidence")


def shots_table(match) -> tuple[pl.DataFrame, str, str]:
    """(printable shots table, the goals-vs-score line, the shots' source) of one match."""
    from soccerai.match.shots import match_clock, shot_report

    report = shot_report(match)
    meta = match.metadata
    names = {"home": _name(meta.home_team, "home"), "away": _name(meta.away_team, "away")}
    players = match.players.select("object_id", "name", "jersey")
    table = report.table.join(players, left_on="player_id", right_on="object_id", how="left")
    shooter = (pl.when(pl.col("player_id").is_null())
               .then(pl.coalesce(pl.col("shooter_note"), pl.lit("not visible")))
               .otherwise(pl.coalesce(pl.col("name"), pl.col("player_id"))
                          + pl.when(pl.col("jersey").is_not_null())
                          .then(pl.format(" (#{})", pl.col("jersey"))).otherwise(pl.lit(""))))
    table = table.with_columns(
        clock=pl.struct("period", "time_s").map_elements(lambda r: match_clock(r["period"], r["time_s"]),
                                                         return_dtype=pl.String),
        team_name=pl.col("team").replace_strict(names, default=pl.col("team")),
        shooter=shooter,
        shooter_name=pl.col("name"), shooter_jersey=pl.col("jersey"),
    ).drop("name", "jersey").sort("period", "time_s")
    return table, report.score_line(names["home"], names["away"]), report.source


def _name(value: str | None, side: str) -> str:
    return side.capitalize() if value in (None, "", side) else str(value)


def shots_command(
    match: Annotated[list[Path], typer.Argument(help="A stored .parquet match, or one match's provider files.")],
) -> None:
    """Print one row per shot (clock, team, shooter, outcome, evidence) and goals per team against the score."""
    from soccerai.config import output_dir
    from soccerai.data.load import load_any
    from soccerai.files import write_parquet_atomic

    loaded = load_any(match)
    table, score_line, source = shots_table(loaded)
    out = write_parquet_atomic(table, output_dir() / "shots" / f"{loaded.match_id}.parquet")
    view = Table(title=f"Shots of match {loaded.match_id} ({'from its events' if source == 'events' else 'detected in its tracking'})")
    for column in ("clock", "team", "shooter", "outcome", "evidence"):
        view.add_column(column)
    for row in table.select(*SHOW_COLUMNS).iter_rows():
        view.add_row(*(str(v) for v in row))
    console.print(view)
    console.print(score_line, markup=False, highlight=False, soft_wrap=True)
    console.print(f"{table.height} shots written to {out}", markup=False, highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("shots")(shots_command)
