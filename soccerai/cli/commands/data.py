"""``soccerai data list | path NAME | fetch NAME``: the public dataset catalog (``data/catalog.toml``).

Exit codes: 0 done; 1 the work failed (a download, a checksum, an ingest, or a dataset not on disk); 2 usage
(an unknown dataset name, a bad catalog), printed by :func:`soccerai.cli.main`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.text import Text

from soccerai.data import catalog

console = Console()
err_console = Console(stderr=True)

CatalogOption = Annotated[Path | None, typer.Option(help="Catalog file (default: $SOCCERAI_CATALOG or data/catalog.toml).")]
DestOption = Annotated[
    Path | None, typer.Option(help="Downloads folder (default: $SOCCERAI_OUT_DIR/datasets); one folder per dataset.")
]


def _on_disk(found: catalog.LocalCopy | None) -> str:
    if found is None:
        return "not on disk"
    return f"on disk: {found.source}" + ("" if found.complete else f" ({len(found.files)} of "
                                         f"{len(found.files) + len(found.missing)} files)")


def describe(ds: catalog.Dataset) -> Text:
    """A dataset as a short block: name and title, then kind, format, provider, licence, credit, hashes, disk."""
    text = Text()
    text.append(ds.name, style="bold cyan")
    text.append(f"  {ds.title}\n")
    for label, value in (("kind", f"{ds.kind}; {ds.format}"), ("provider", ds.provider), ("licence", ds.licence),
                         ("credit", ds.credit), ("source", f"{ds.homepage} ({ds.access}; sha256 known for "
                                                           f"{ds.hashes_known} of {len(ds.files)} files)"),
                         ("local", _on_disk(catalog.find_local(ds)))):
        text.append(f"    {label:<9}", style="dim")
        text.append(f"{value}\n")
    return text


def list_command(catalog_file: CatalogOption = None) -> None:
    """Print the catalog: every public dataset with its provider, format, licence, credit and where it lies."""
    datasets = catalog.load_catalog(catalog_file)
    for ds in datasets.values():
        console.print(describe(ds), soft_wrap=False)
    console.print(f"{len(datasets)} datasets in {catalog_file or catalog.catalog_path()}; "
                  "`soccerai data path NAME` finds one on disk, `soccerai data fetch NAME` downloads it.",
                  markup=False, highlight=False)


def path_command(name: Annotated[str, typer.Argument(help="Dataset name (see `soccerai data list`).")],
                 catalog_file: CatalogOption = None, dest: DestOption = None) -> None:
    """Print a dataset's files on disk, one a line; exit 1 when it is not (all) there."""
    dataset = catalog.get_dataset(name, catalog.load_catalog(catalog_file))
    found = catalog.find_local(dataset, dest)
    if found is None:
        err_console.print(f"error: {name} is not on disk (no download, no data-folder copy, not in kloppy's files); "
                          f"`soccerai data fetch {name}` downloads it", markup=False, highlight=False)
        raise typer.Exit(code=1)
    for path in found.files:
        console.print(str(path), markup=False, highlight=False, soft_wrap=True)
    if not found.complete:
        err_console.print(f"error: {name}: only part of it is on disk ({found.source}, {found.root}); missing: "
                          f"{', '.join(found.missing)}", markup=False, highlight=False)
        raise typer.Exit(code=1)
    err_console.print(f"{name}: {found.source}, {found.root}", markup=False, highlight=False)


def fetch_command(
    name: Annotated[str, typer.Argument(help="Dataset name (see `soccerai data list`).")],
    catalog_file: CatalogOption = None,
    dest: DestOption = None,
    ingest: Annotated[bool, typer.Option(help="Hand the downloaded files to `soccerai ingest` afterwards.")] = True,
    store: Annotated[Path | None, typer.Option(help="Store folder for the ingest (default: soccerai's store).")] = None,
    retries: Annotated[int, typer.Option(min=0, max=20, help="Resumed retries after a broken connection.")] = 3,
    timeout_s: Annotated[float, typer.Option(min=1.0, help="Seconds to wait for the server.")] = 30.0,
) -> None:
    """Download a dataset (resumable), verify its sha256, unpack it, then ingest it into the parquet store."""
    dataset = catalog.get_dataset(name, catalog.load_catalog(catalog_file))
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  console=err_console, transient=True) as bar:
        tasks: dict[str, int] = {}

        def progress(label: str, done: int, total: int | None) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total)
            bar.update(tasks[label], completed=done, total=total)

        try:
            files = catalog.fetch_dataset(dataset, dest, retries=retries, timeout_s=timeout_s, progress=progress)
        except catalog.DownloadError as exc:
            bar.stop()
            err_console.print(f"error: {name}: {exc}", markup=False, highlight=False)
            raise typer.Exit(code=1) from None
    folder = (dest or catalog.downloads_dir()) / dataset.name
    console.print(f"{name}: {len(files)} files in {folder}", markup=False, highlight=False)
    if ingest:
        from soccerai.cli.commands.ingest import ingest_command
        from soccerai.errors import SoccerAIError

        try:
            ingest_command([folder], store=store)
        except SoccerAIError as exc:  # the download worked, its ingest did not: the command's work failed
            err_console.print(f"error: {name}: ingest: {exc}", markup=False, highlight=False)
            raise typer.Exit(code=1) from None


def register(app: typer.Typer) -> None:
    data = typer.Typer(help="The public dataset catalog: list, find on disk, fetch.", no_args_is_help=True)
    data.command("list")(list_command)
    data.command("path")(path_command)
    data.command("fetch")(fetch_command)
    app.add_typer(data, name="data")
