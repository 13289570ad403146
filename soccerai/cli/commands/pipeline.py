"""``soccerai pipeline run`` / ``soccerai pipeline status``: the nightly job and its ledger."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from soccerai.errors import InvalidInputError

console = Console()


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="Pipeline job definition (TOML).")]
StateOption = Annotated[Path | None, typer.Option(help="Override the job's state folder.")]


def run(
    config: ConfigOption,
    drop_dir: Annotated[Path | None, typer.Option(help="Override the job's drop folder.")] = None,
    state_dir: StateOption = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Process new or changed matches of the drop folder; exit code 1 when any step failed or a match was quarantined."""
    from soccerai.pipeline import load_config, run_pipeline

    cfg = load_config(config, drop_dir, state_dir)
    result = run_pipeline(cfg, show_progress=progress)
    console.print(
        f"run {result.run_id}: {result.status}; {result.done} steps done, {result.failed} failed, "
        f"{result.quarantined} quarantined"
    )
    for line in result.errors:
        console.print(f"[red]  {line}[/]")
    if result.report:
        console.print(f"report: {result.report}")
    sys.exit(result.exit_code)


def status(
    config: ConfigOption,
    state_dir: StateOption = None,
    runs: Annotated[int, typer.Option(help="How many recent runs to show.")] = 10,
) -> None:
    """Show the ledger: recent runs, failed / quarantined matches, model versions."""
    from soccerai.pipeline import load_config
    from soccerai.pipeline.ledger import Ledger
    from soccerai.pipeline.runner import LEDGER_FILE

    cfg = load_config(config, None, state_dir)
    path = cfg.state_dir / LEDGER_FILE
    if not path.is_file():
        raise InvalidInputError("no ledger yet: the pipeline has never run with this state folder", path)
    with Ledger(path) as ledger:
        table = Table(title=f"runs of {cfg.name}")
        for col in ("run", "started", "finished", "status", "done", "failed", "quarantined", "model"):
            table.add_column(col)
        for r in ledger.runs(runs):
            table.add_row(
                str(r["run_id"]),
                _when(r["started_at"]),
                _when(r["finished_at"]),
                r["status"],
                str(r["n_done"]),
                str(r["n_failed"]),
                str(r["n_quarantined"]),
                r["model_id"] or "-",
            )
        console.print(table)
        bad = Table(title="failed or quarantined steps (latest 20)")
        for col in ("run", "match", "step", "status", "error"):
            bad.add_column(col)
        for s in [*ledger.steps(status="failed"), *ledger.steps(status="quarantined")][-20:]:
            bad.add_row(str(s.run_id), s.match_key, s.step, s.status, s.error or "")
        console.print(bad)
        models = Table(title="model versions")
        for col in ("model", "mode", "parent", "run", "matches seen", "metrics"):
            models.add_column(col)
        for m in ledger.models():
            metrics = ", ".join(
                f"{k}={v:.3g}" for k, v in (m["metrics"] or {}).items() if isinstance(v, (int, float))
            )
            models.add_row(
                m["model_id"],
                m["mode"],
                m["parent_id"] or "-",
                str(m["run_id"]),
                str(len(m["train_matches"])),
                metrics or "-",
            )
        console.print(models)


def register(app: typer.Typer) -> None:
    """Add the ``pipeline`` command group."""
    group = typer.Typer(help="The nightly pipeline over a drop folder of matches.", no_args_is_help=True)
    group.command("run")(run)
    group.command("status")(status)
    app.add_typer(group, name="pipeline")
