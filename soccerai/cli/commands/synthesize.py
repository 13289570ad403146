"""``soccerai synthesize``: write a full SIMULATED match in provider formats from a real or generated timeline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from soccerai.cli.output import FORMATS, Output
from soccerai.config import data_dir, output_dir
from soccerai.errors import InvalidParameterError

CHOICES = ("metrica-csv", "epts", "parquet", "all")


def synthesize(
    events: Annotated[
        Path | None,
        typer.Argument(
            help="Metrica event file (.csv, or .json beside its _metadata.xml); none: generated timeline"
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="metrica-csv | epts | parquet | all")] = "all",
    out: Annotated[Path | None, typer.Option(help="output folder (default <out>/simulated)")] = None,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same match)")] = 0,
    minutes: Annotated[
        float | None, typer.Option(help="simulate only this many minutes (split over both halves)")
    ] = None,
    report: Annotated[
        bool,
        typer.Option("--report", help="print the realism report: simulated vs the real SkillCorner and Hawk-Eye play"),
    ] = False,
    report_v3: Annotated[
        bool, typer.Option("--report-v3", help="with --report: add the uncalibrated (version 3) synthesizer's column")
    ] = False,
    table_format: Annotated[str, typer.Option(
        "--table-format", help=f"tables printed: {' | '.join(FORMATS)} (--format names the files written)")] = "table",
) -> None:
    """Synthesize a full 25 Hz match (SIMULATED tracking) driven by an event timeline."""
    from soccerai.synth import synthesize_match, write_match_files
    from soccerai.synth.match import load_or_generate_timeline

    if fmt not in CHOICES:
        raise InvalidParameterError(f"--format must be one of {', '.join(CHOICES)}, got {fmt!r}")
    if minutes is not None and minutes <= 0:
        raise InvalidParameterError(f"--minutes must be positive, got {minutes}")
    formats = ("metrica-csv", "epts", "parquet") if fmt == "all" else (fmt,)
    show = Output(table_format)
    timeline = load_or_generate_timeline(events, seed)
    duration = minutes * 60 if minutes is not None else None
    total = sum(
        min(b - a + 1, int(duration / 2 * 25)) if duration else b - a + 1 for _, a, b in timeline.periods
    )
    with Progress(
        TextColumn("[bold]simulating"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} frames"),
        TimeRemainingColumn(),
        console=show.err,
        disable=not show.err.is_terminal,
    ) as bar:
        task = bar.add_task("frames", total=total)
        match = synthesize_match(
            timeline, seed=seed, duration_s=duration, progress=lambda n: bar.advance(task, n)
        )
        bar.update(task, completed=total)
    written = write_match_files(match, out or output_dir() / "simulated", formats)
    show.say(f"[bold]SIMULATED[/] match {match.match_id} ({match.metadata.extra['timeline']}):")
    for kind, paths in written.items():
        for p in paths:
            show.say(f"  {kind:12s} {p}", markup=False)
    print_event_alignment(match, show)
    if report:
        v3 = None
        if report_v3:
            from soccerai.synth.behaviour import Behaviour

            v3 = synthesize_match(timeline, seed=seed, duration_s=duration, behaviour=Behaviour.v3())
        print_realism_report(match, seed, v3, show)
        print_workload_report(match, show)


def print_event_alignment(match, show: Output | None = None) -> None:
    """How close the simulated players came to the real events' spots, and the spots the timeline made unreachable."""
    extra = match.metadata.extra
    if "max_event_error_m" not in extra:
        return
    show = show or Output()
    unreachable = extra.get("unreachable_events", [])
    show.say(f"event alignment: worst player {extra['max_event_error_m']:.2f} m from his event spot; "
                  f"{len(unreachable)} spot(s) the real timeline makes unreachable")
    for row in unreachable[:5]:
        show.say(f"  {row['player']} period {row['period']} frame {row['frame']}: {row['gap_m']:.1f} m in "
                      f"{row['gap_s']:.2f} s needs {row['needs_m_s']:.1f} m/s; missed by {row['error_m']:.2f} m")


def print_realism_report(match, seed: int = 0, v3=None, show: Output | None = None) -> None:
    """The realism report (:mod:`soccerai.synth.realism`): the SIMULATED match through each real source's
    measurement model against the REAL SkillCorner match and Hawk-Eye minutes, one rich table per real source."""
    from soccerai.synth.realism import real_statistics, realism_report, simulated_statistics

    variants = {"SIMULATED": simulated_statistics(match, seed)}
    if v3 is not None:
        variants = {"v3 SIMULATED": simulated_statistics(v3, seed), "calibrated SIMULATED": variants["SIMULATED"]}
    real = real_statistics(data_dir())
    table = realism_report(variants, real)
    for source in real:
        short = source.split(" (")[0]
        cols = ["statistic", *[c for c in table.columns if short in c]]
        (show or Output()).table(table.select(cols), f"Realism: SIMULATED match vs {source}", "{}")


def print_workload_report(match, show: Output | None = None) -> None:
    """Each outfield player's physical workload (medians over the match) against the published match figures.

    Only a full match gives meaningful per-90 figures (the real clips last seconds), so this compares the
    simulated match with the literature rather than with the clips (:mod:`soccerai.synth.workload`).
    """
    from soccerai.synth.workload import PUBLISHED, match_workload

    played_min = match.tracking.select(pl.struct("period", "frame").n_unique()).item() / match.metadata.frame_rate / 60
    summary = match_workload(match, min_minutes=45.0 if played_min >= 80 else 0.0)  # short matches: everyone
    rows = [{"statistic": key, "simulated": round(float(value), 2),
             "published": f"{PUBLISHED[key][0]:g}-{PUBLISHED[key][1]:g}" if key in PUBLISHED else ""}
            for key, value in summary.items()]
    (show or Output()).table(pl.DataFrame(rows), "Workload: SIMULATED match vs published elite match figures", "{}")


def register(app: typer.Typer) -> None:
    app.command("synthesize")(synthesize)
