"""``soccerai pipeline run`` / ``soccerai pipeline status``: the nightly job and its ledger."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from soccerai.cli.output import FormatOption, Output, rows_frame
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
        console.print(f"  {line}", style="red", markup=False, highlight=False)
        Console(stderr=True).print(f"error: {line}", markup=False, highlight=False, soft_wrap=True)
    if result.report:
        console.print(f"report: {result.report}")
    sys.exit(result.exit_code)


def status(
    config: ConfigOption,
    state_dir: StateOption = None,
    runs: Annotated[int, typer.Option(help="How many recent runs to show.")] = 10,
    fmt: FormatOption = "table",
) -> None:
    """Show the ledger: recent runs, failed / quarantined matches, model versions."""
    from soccerai.pipeline import load_config
    from soccerai.pipeline.ledger import Ledger
    from soccerai.pipeline.runner import LEDGER_FILE

    cfg = load_config(config, None, state_dir)
    path = cfg.state_dir / LEDGER_FILE
    if not path.is_file():
        raise InvalidInputError("no ledger yet: the pipeline has never run with this state folder", path)
    show = Output(fmt)
    with Ledger(path) as ledger:
        run_rows = [{"run": r["run_id"], "started": _when(r["started_at"]), "finished": _when(r["finished_at"]),
                     "status": r["status"], "done": r["n_done"], "failed": r["n_failed"],
                     "quarantined": r["n_quarantined"], "model": r["model_id"] or "-"} for r in ledger.runs(runs)]
        show.table(rows_frame(run_rows, ("run", "started", "finished", "status", "done", "failed", "quarantined",
                                         "model")), f"runs of {cfg.name}")
        bad = [*ledger.steps(status="failed"), *ledger.steps(status="quarantined")][-20:]
        show.table(rows_frame([{"run": s.run_id, "match": s.match_key, "step": s.step, "status": s.status,
                                "error": s.error or ""} for s in bad], ("run", "match", "step", "status", "error")),
                   "failed or quarantined steps (latest 20)")
        show.table(rows_frame([_model_row(m) for m in ledger.models()],
                              ("model", "mode", "parent", "run", "matches seen", "metrics")), "model versions")


def _model_row(m: dict) -> dict:
    """One model version as a row: id, mode, parent, run, matches seen, its numeric metrics."""
    metrics = ", ".join(f"{k}={v:.3g}" for k, v in (m["metrics"] or {}).items() if isinstance(v, (int, float)))
    return {"model": m["model_id"], "mode": m["mode"], "parent": m["parent_id"] or "-", "run": m["run_id"],
            "matches seen": len(m["train_matches"]), "metrics": metrics or "-"}


def register(app: typer.Typer) -> None:
    """Add the ``pipeline`` command group."""
    group = typer.Typer(help="The nightly pipeline over a drop folder of matches.", no_args_is_help=True)
    group.command("run")(run)
    group.command("status")(status)
    app.add_typer(group, name="pipeline")
