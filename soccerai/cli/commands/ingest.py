"""``soccerai ingest`` (provider files -> parquet store, cached by content hash) and ``soccerai info`` (quality)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from soccerai.config import store_dir
from soccerai.data.ingest import IngestResult, ingest_paths
from soccerai.errors import InvalidInputError
from soccerai.io.grouping import group_match_files
from soccerai.match.quality import quality_summary, quality_table
from soccerai.match.schema import Match

console = Console()

_STATUS_STYLE = {"ingested": "green", "unchanged": "cyan", "failed": "bold red"}


def results_table(results: list[IngestResult]) -> Table:
    """One row per match: id, status, rows, seconds, and the error or the stored file."""
    table = Table(title="Ingest")
    for name, justify in (
        ("match", "left"),
        ("status", "left"),
        ("rows", "right"),
        ("seconds", "right"),
        ("detail", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in results:
        detail = r.error if r.error else (r.path.name if r.path else "")
        table.add_row(
            r.match_id,
            f"[{_STATUS_STYLE[r.status]}]{r.status}[/]",
            "-" if r.rows is None else f"{r.rows:,}",
            f"{r.seconds:.2f}",
            detail,
        )
    return table


def ingest_command(
    paths: Annotated[
        list[Path], typer.Argument(help="Provider files and/or folders (grouped into matches).")
    ],
    provider: Annotated[str | None, typer.Option(help="Provider of every match (default: detected).")] = None,
    store: Annotated[
        Path | None, typer.Option(help="Store folder (default: $SOCCERAI_STORE_DIR or out/store).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Re-ingest even when the sources are unchanged.")] = False,
    simulated: Annotated[
        bool, typer.Option(help="Mark the tracking as simulated (e.g. provider files soccerai synthesize wrote).")
    ] = False,
) -> None:
    """Ingest provider tracking files into the parquet store (unchanged matches are skipped)."""
    groups = group_match_files(paths)
    if not groups:
        raise InvalidInputError("no tracking files found (nothing any provider reader recognises)", paths[0])
    target = store or store_dir()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("ingesting", total=len(groups))

        def advance(result: IngestResult) -> None:
            progress.update(task, advance=1, description=f"{result.match_id}: {result.status}")

        results = ingest_paths(
            groups, target, provider=provider, force=force, on_result=advance, simulated=True if simulated else None
        )
    console.print(results_table(results))
    failed = sum(not r.ok for r in results)
    console.print(f"{len(results) - failed} ok, {failed} failed; store: {target}")
    if failed:
        raise typer.Exit(code=1)


def _load_for_info(paths: list[Path]) -> Match:
    from soccerai.data.load import load_any

    return load_any(paths)


def info_command(
    match: Annotated[
        list[Path], typer.Argument(help="A stored .parquet match, or one match's provider files.")
    ],
) -> None:
    """Print the data-quality summary of one match."""
    console.print(quality_table(quality_summary(_load_for_info(match))))


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_command)
    app.command("info")(info_command)
