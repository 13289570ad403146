"""``soccerai benchmark``: train every backbone with the same budget and print / save the ranking table.

Two budgets: equal wall time (``--budget-s S``, the default, 40 s) or equal optimiser steps (``--steps N``, with
``--budget-s`` then an optional per-model safety cap; a model the cap stops early is marked ``capped``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from soccerai.bench.backbones import (
    ENCODER_CHOICES,
    BenchmarkConfig,
    capped_text,
    entries,
    result_line,
    run_benchmark,
    save_table,
)
from soccerai.cli.output import FormatOption, Output
from soccerai.config import clips_dir, metrica_events_dir, output_dir
from soccerai.errors import InvalidInputError, InvalidParameterError
from soccerai.models.registry import GENERATORS

DEFAULT_BUDGET_S = 40.0


def _names(value: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip()) if value else allowed


def benchmark(
    budget_s: Annotated[float | None, typer.Option(
        help="Training wall seconds per model (default 40); with --steps: a safety cap per model (default none)."
    )] = None,
    steps: Annotated[int | None, typer.Option(
        help="Equal-steps mode: every model trains exactly this many optimiser steps (same batches, same order)."
    )] = None,
    hidden: Annotated[int, typer.Option(help="Hidden width of every model.")] = 32,
    match_duration_s: Annotated[float, typer.Option(help="Seconds of each simulated match.")] = 900.0,
    train_matches: Annotated[int, typer.Option(help="Simulated training matches (1-3).")] = 2,
    test_windows: Annotated[int, typer.Option(help="Simulated test windows scored.")] = 64,
    samples: Annotated[int, typer.Option(help="Samples per window (minADE_K).")] = 20,
    encoders: Annotated[str, typer.Option(help=f"Comma list of {', '.join(ENCODER_CHOICES)} (default all).")] = "",
    generators: Annotated[str, typer.Option(help=f"Comma list of {', '.join(GENERATORS)} (default all).")] = "",
    seed: int = 0,
    out: Annotated[Path | None, typer.Option(help="Folder for backbones.md / .parquet (default <out>/benchmarks).")] = None,
    suite: Annotated[str, typer.Option(
        help="backbones (simulated + clip ranking) or forecast (REAL match: VRNN/GVRNN/pretrained vs CV).")] = "backbones",
    models: Annotated[str, typer.Option(
        help="--suite forecast: comma list of backbones (vrnn, gvrnn, gvrnn:gat, ae, ...) or all.")] = "vrnn,gvrnn",
    pretrain_sim_steps: Annotated[int, typer.Option(
        help="--suite forecast: also GVRNN pre-trained N steps on simulated matches, fine-tuned on real.")] = 0,
    fmt: FormatOption = "table",
) -> None:
    """Rank the generators and the GVRNN interaction encoders (simulated and real test windows).

    Default: equal wall time per model. --steps N: equal optimiser steps (fairer on CPU than equal time).
    ``--suite forecast``: the real-match forecast table of ``benchmarks/forecast.py`` (equal steps AND equal wall).
    """
    show = Output(fmt)
    if suite == "forecast":
        _forecast_suite(steps, budget_s, hidden, seed, out, _names(models, ("vrnn", "gvrnn")), pretrain_sim_steps,
                        show)
        return
    if suite != "backbones":
        raise InvalidParameterError(f"unknown --suite {suite!r}; choose backbones or forecast")
    config = BenchmarkConfig(
        budget_s=DEFAULT_BUDGET_S if budget_s is None and steps is None else budget_s, steps=steps, hidden=hidden, match_duration_s=match_duration_s, train_matches=train_matches,
        test_windows=test_windows, n_samples=samples, seed=seed,
        encoders=_names(encoders, ENCODER_CHOICES), generators=_names(generators, GENERATORS),
    )
    clips = sorted(p for p in (clips_dir() / "lastrow").glob("*.csv") if not p.name.endswith("_passes.csv"))
    if not clips:
        raise InvalidInputError("no Last Row clip CSV found (the real test set)", clips_dir() / "lastrow")
    steps = 2 * len(entries(config)) + 1
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=show.err) as bar:
        task = bar.add_task("benchmark", total=steps)

        def report(message: str) -> None:
            bar.update(task, description=escape(message), advance=1)
            if not show.err.is_terminal:  # logs and pipes get one line per stage
                show.err.log(escape(message))

        table = run_benchmark(config, metrica_events_dir(), clips, report)
    markdown, parquet = save_table(table, config, out or output_dir() / "benchmarks")
    _print(table, config, show)
    show.say(f"saved {markdown} and {parquet}", markup=False)
    print(result_line(table, config), flush=True)  # plain stdout: one machine-readable line, never wrapped


def _forecast_suite(steps: int | None, budget_s: float | None, hidden: int, seed: int, out: Path | None,
                    models: tuple[str, ...], pretrain_sim_steps: int, show: Output) -> None:
    from soccerai.bench import forecast as fb
    from soccerai.evaluate.forecast_table import markdown

    defaults = fb.ForecastBenchmarkConfig()
    config = fb.ForecastBenchmarkConfig(steps=steps or defaults.steps, budget_s=budget_s or defaults.budget_s,
                                        hidden=hidden, seed=seed, models=models,
                                        pretrain_sim_steps=pretrain_sim_steps)
    table, timings = fb.run(config, say=lambda message: show.err.log(escape(message)))
    md, parquet = fb.save(table, out or output_dir() / "benchmarks", config)
    if show.fmt in ("table", "md"):
        show.say(markdown(table, config.n_samples), markup=False)
    else:
        show.table(table, "forecast benchmark")
    show.say(f"saved {md} and {parquet}", markup=False)
    print(fb.result_line(table, timings, config), flush=True)


def _print(table: pl.DataFrame, config: BenchmarkConfig, show: Output) -> None:
    """The ranking table: one row per (data, scenario, model)."""
    k = config.n_samples
    view = table.select(
        "data", "scenario", "model", pl.col("ade").alias("ADE"), pl.col("fde").alias("FDE"),
        pl.col(f"min_ade_{k}").alias(f"minADE_{k}"), pl.col(f"min_fde_{k}").alias(f"minFDE_{k}"), "params",
        pl.col("train_s").round(0).cast(pl.Int64).alias("train s"), pl.col("train_steps").alias("steps"),
        pl.col("capped").map_elements(capped_text, return_dtype=pl.String), pl.col("sample_ms").alias("sample ms"))
    show.table(view, f"backbones at {config.pred_s:g} s ({config.describe_budget()}, budget={config.budget_label}; "
                     "metres, 22 players)")


def register(app: typer.Typer) -> None:
    app.command("benchmark")(benchmark)
