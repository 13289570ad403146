"""``soccerai demo``: the whole chain, offline, on the real SkillCorner match (``--simulated``: on matches soccerai
synthesizes itself, no data needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def _frame_table(title: str, frame) -> Table:
    table = Table(title=title)
    for column in frame.columns:
        table.add_column(column, justify="right" if frame[column].dtype.is_numeric() else "left")
    for row in frame.iter_rows():
        table.add_row(*[f"{v:.4g}" if isinstance(v, float) else str(v) for v in row])
    return table


def demo(
    out: Annotated[Path | None, typer.Option(help="output folder (default: $SOCCERAI_OUT_DIR/demo)")] = None,
    simulated: Annotated[bool, typer.Option("--simulated", help="run on two synthesized matches instead")] = False,
    minutes: Annotated[float, typer.Option(help="--simulated: length of each simulated match in minutes")] = 20.0,
    train_budget: Annotated[float, typer.Option(help="seconds of GVRNN training")] = 30.0,
    max_shots: Annotated[int, typer.Option(help="shots scored with C-OBSO")] = 4,
) -> None:
    """Ingest, train GVRNN, forecast, find the shots, score OBSO / C-OBSO: on the REAL SkillCorner match."""
    from soccerai.cli.demo import REAL_SOURCE, run_demo, run_real_demo
    from soccerai.config import output_dir
    from soccerai.match.quality import quality_table

    out = (out or output_dir() / "demo").resolve()
    with console.status("running the soccerai demo"):
        if simulated:
            result = run_demo(out, minutes, train_budget, min(max_shots, 4), log=console.log)
        else:
            result = run_real_demo(out, train_budget, max_shots, log=console.log)
    kind = result.tracking
    if kind == "real":
        console.print(f"[bold]{REAL_SOURCE}[/]")
    for summary in result.quality:
        console.print(quality_table(summary))
    if result.forecast_table is not None:
        console.print(_frame_table(f"Forecast at 4 s on held-out {kind} play (metres)", result.forecast_table))
    if result.shots is not None:
        console.print(_frame_table(f"Shots ({kind}; source: {result.shots['shot_source'][0] if result.shots.height else 'detected'})",
                                   result.shots.select("period", "frame", "time_s", "team", "player_id", "result",
                                                       "start_x", "start_y")))
    for note in result.shot_notes:
        console.print(f"  {note}")
    if result.shot_obso is not None:
        console.print(_frame_table(f"OBSO at the frame before each shot ({kind})", result.shot_obso))
    if result.cobso_players is not None:
        console.print(_frame_table(f"C-OBSO per off-ball attacker ({result.forecaster} counterfactual, {kind})",
                                   result.cobso_players))
    if result.cobso_baseline_players is not None:
        console.print(_frame_table(f"C-OBSO per off-ball attacker (constant-velocity counterfactual, {kind})",
                                   result.cobso_baseline_players))
    console.print(f"stage times (s): {result.seconds}")
    console.print(f"[bold green]done[/]: everything is in {out}" + (f"; figure {result.figure}" if result.figure else ""))
    console.print(f"explore it: [bold].venv/bin/soccerai dashboard[/] (matches in {result.stored[0].parent})")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
