"""``soccerai demo``: the whole chain, offline, on the real SkillCorner match (``--simulated``: on matches soccerai
synthesizes itself, no data needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from soccerai.cli.output import FormatOption, Output

console = Console()


def demo(
    out: Annotated[Path | None, typer.Option(help="output folder (default: $SOCCERAI_OUT_DIR/demo)")] = None,
    simulated: Annotated[bool, typer.Option("--simulated", help="run on two synthesized matches instead")] = False,
    minutes: Annotated[float, typer.Option(help="--simulated: length of each simulated match in minutes")] = 20.0,
    train_budget: Annotated[float, typer.Option(help="seconds of GVRNN training")] = 30.0,
    max_shots: Annotated[int, typer.Option(help="shots scored with C-OBSO")] = 4,
    fmt: FormatOption = "table",
) -> None:
    """Ingest, train GVRNN, forecast, find the shots, score OBSO / C-OBSO: on the REAL SkillCorner match."""
    from soccerai.cli.demo import REAL_SOURCE, run_demo, run_real_demo
    from soccerai.config import output_dir
    from soccerai.match.quality import quality_frame, quality_title

    out = (out or output_dir() / "demo").resolve()
    show = Output(fmt)
    with show.err.status("running the soccerai demo"):
        if simulated:
            result = run_demo(out, minutes, train_budget, min(max_shots, 4), log=show.err.log)
        else:
            result = run_real_demo(out, train_budget, max_shots, log=show.err.log)
    kind = result.tracking
    if kind == "real":
        show.say(f"[bold]{REAL_SOURCE}[/]")
    for summary in result.quality:
        show.table(quality_frame(summary), quality_title(summary))
    source = result.shots["shot_source"][0] if result.shots is not None and result.shots.height else "detected"
    tables = {
        f"Forecast at 4 s on held-out {kind} play (metres)": result.forecast_table,
        f"Shots ({kind}; source: {source})": None if result.shots is None else result.shots.select(
            "period", "frame", "time_s", "team", "player_id", "player_name", "result", "start_x", "start_y"),
        f"OBSO at the frame before each shot ({kind})": result.shot_obso,
        f"C-OBSO per off-ball attacker ({result.forecaster} counterfactual, {kind})": result.cobso_players,
        f"C-OBSO per off-ball attacker (constant-velocity counterfactual, {kind})": result.cobso_baseline_players,
    }
    for title, frame in tables.items():
        if frame is not None:
            show.table(frame, title, "{:.4g}")
        if title.startswith("Shots"):
            for note in result.shot_notes:
                show.say(f"  {note}")
    show.say(f"stage times (s): {result.seconds}")
    show.say(f"[bold green]done[/]: everything is in {out}" + (f"; figure {result.figure}" if result.figure else ""))
    show.say(f"explore it: [bold].venv/bin/soccerai dashboard[/] (matches in {result.stored[0].parent})")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
