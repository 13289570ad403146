"""``soccerai ingest`` (provider files -> parquet store, cached by content hash) and ``soccerai info`` (quality)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from soccerai.cli.output import FormatOption, Output, rows_frame
from soccerai.config import store_dir
from soccerai.data.ingest import IngestResult, ingest_paths
from soccerai.errors import InvalidInputError
from soccerai.io.grouping import group_match_files
from soccerai.match.quality import quality_frame, quality_summary, quality_title
from soccerai.match.schema import Match

_STATUS_STYLE = {"ingested": "green", "unchanged": "cyan", "failed": "bold red"}


def results_frame(results: list[IngestResult]) -> pl.DataFrame:
    """One row per match: id, status, rows, seconds, and the error or the stored file (in full)."""
    return rows_frame([{"match": r.match_id, "status": r.status, "rows": r.rows, "seconds": round(r.seconds, 2),
                        "detail": r.error if r.error else (str(r.path) if r.path else "")} for r in results],
                      ("match", "status", "rows", "seconds", "detail"))


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
    fmt: FormatOption = "table",
) -> None:
    """Ingest provider tracking files into the parquet store (unchanged matches are skipped)."""
    groups = group_match_files(paths)
    if not groups:
        raise InvalidInputError("no tracking files found (nothing any provider reader recognises)", paths[0])
    target = store or store_dir()
    show = Output(fmt)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=show.err,
        transient=True,
        disable=not show.err.is_terminal,
    ) as progress:
        task = progress.add_task("ingesting", total=len(groups))

        def advance(result: IngestResult) -> None:
            progress.update(task, advance=1, description=f"{result.match_id}: {result.status}")

        results = ingest_paths(
            groups, target, provider=provider, force=force, on_result=advance, simulated=True if simulated else None
        )
    show.table(results_frame(results), "Ingest", styles={"status": _STATUS_STYLE})
    for line in filter(None, (r.error_line() for r in results)):
        show.err.print(line, markup=False, highlight=False, soft_wrap=True)  # one line per failing file, its path in full
    failed = sum(not r.ok for r in results)
    show.say(f"{len(results) - failed} ok, {failed} failed; store: {target}", markup=False)
    if failed:
        raise typer.Exit(code=1)


def _load_for_info(paths: list[Path]) -> Match:
    from soccerai.data.load import load_any

    return load_any(paths)


def info_command(
    match: Annotated[
        list[Path], typer.Argument(help="A stored .parquet match, or one match's provider files.")
    ],
    fmt: FormatOption = "table",
) -> None:
    """Print the data-quality summary of one match."""
    summary = quality_summary(_load_for_info(match))
    Output(fmt).table(quality_frame(summary), quality_title(summary))


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_command)
    app.command("info")(info_command)
