"""``soccerai demo``: the whole chain on matches soccerai synthesizes itself (offline, no data needed)."""

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
        table.add_row(*[f"{v:.3f}" if isinstance(v, float) else str(v) for v in row])
    return table


def demo(
    out: Annotated[Path | None, typer.Option(help="output folder (default: $SOCCERAI_OUT_DIR/demo)")] = None,
    minutes: Annotated[float, typer.Option(help="length of each simulated match in minutes")] = 20.0,
    train_budget: Annotated[float, typer.Option(help="seconds of GVRNN training")] = 60.0,
    max_shots: Annotated[int, typer.Option(help="shots scored with C-OBSO")] = 4,
) -> None:
    """Synthesize, ingest, train GVRNN, forecast, and score OBSO / C-OBSO - all on SIMULATED tracking."""
    from soccerai.config import output_dir
    from soccerai.demo import run_demo
    from soccerai.quality import quality_table

    out = (out or output_dir() / "demo").resolve()
    with console.status("running the soccerai demo"):
        result = run_demo(out, minutes, train_budget, max_shots, log=console.log)
    for summary in result.quality:
        console.print(quality_table(summary))
    if result.forecast_table is not None:
        console.print(_frame_table("Forecast at 4 s on the held-out simulated match (metres)", result.forecast_table))
    if result.shot_obso is not None:
        console.print(_frame_table("OBSO at the frame before each shot (simulated)", result.shot_obso))
    if result.cobso_players is not None:
        console.print(_frame_table("C-OBSO per off-ball attacker (GVRNN counterfactual, simulated)",
                                   result.cobso_players))
    console.print(f"stage times (s): {result.seconds}")
    console.print(f"[bold green]done[/]: everything is in {out}" + (f"; figure {result.figure}" if result.figure else ""))
    console.print(f"explore it: [bold].venv/bin/soccerai dashboard[/] (matches in {result.stored[0].parent})")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
