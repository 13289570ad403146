"""The forecast benchmark on REAL play: VRNN and GVRNN trained from scratch on the SkillCorner first half under equal
optimiser steps AND equal wall time, the shipped pretrained GVRNN, and constant velocity, scored on three real test
sets and one independent simulated game (:mod:`soccerai.evaluate.forecast_table`).

Data (:mod:`soccerai.datasets`; 2 s observed, 4 s predicted, 10 Hz):

* ``skillcorner_test``: REAL, the second half of Bayern v Dortmund (broadcast tracking), windows 2 s apart;
  training: the first half minus its last 10 minutes (validation), a window length apart from it;
* ``hawkeye``: REAL, the two Hawk-Eye minutes (optical, 50 Hz -> 10 Hz, other teams), never trained on;
* ``lastrow``: REAL, the Last Row clip (Liverpool goal), windows 1 s apart;
* ``simulated_game3``: SIMULATED, Game 3 with its own seed (the models trained on REAL play are scored on it).

Budgets (stated in every row's ``budget``): ``steps:N`` trains each model exactly ``N`` optimiser steps on the same
batches; ``wall:S`` gives each ``S`` seconds of wall time (on a shared CPU a noisy budget, so CPU seconds are kept
beside it). The shipped model's own budget comes from its checkpoint metadata.
"""

from __future__ import annotations

import statistics
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import lightning as L
import polars as pl
import torch

from soccerai import datasets, pretrained
from soccerai.backbone_benchmark import BenchmarkConfig, train_with_budget
from soccerai.evaluate.forecast_table import CV, forecast_table, headline
from soccerai.models import TrajectoryBatch, TrajectoryModel, build_model
from soccerai.trajectory_windows import TrajectoryWindows

OBS, PRED = 20, 40


@dataclass
class ForecastBenchmarkConfig:
    """Budgets and sizes (defaults: about 20-30 minutes on a shared 2-core CPU)."""

    steps: int = 60
    budget_s: float = 240.0
    hidden: int = 32
    latent: int = 16
    batch_size: int = 32
    learning_rate: float = 2e-3
    train_stride: int = 5
    n_samples: int = 20
    n_boot: int = 1000
    seed: int = 0
    pretrained: str | None = pretrained.DEFAULT_MODEL
    simulated: bool = True
    sim_duration_s: float = 600.0
    sim_test_windows: int = 40
    models: tuple[str, ...] = ("vrnn", "gvrnn")
    max_test_windows: int | None = None
    """Score at most this many windows per set, spread evenly (None: all; smoke runs only)."""


@dataclass
class TrainedRow:
    label: str
    model: TrajectoryModel
    budget: str
    steps: int
    wall_s: float
    cpu_s: float


def test_sets(config: ForecastBenchmarkConfig) -> tuple[TrajectoryWindows, dict[str, TrajectoryWindows]]:
    """(REAL training windows, test sets by name)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skipped windows are counted in the sets' warnings, shown by the CLI
        train, _, test = datasets.skillcorner_sets(obs_len=OBS, pred_len=PRED, train_stride=config.train_stride)
        sets = {"skillcorner_test": test, "hawkeye": datasets.hawkeye_test_set(obs_len=OBS, pred_len=PRED),
                "lastrow": datasets.lastrow_test_set(obs_len=OBS, pred_len=PRED)}
        if config.simulated:
            _, sim = datasets.simulated_sets(OBS, PRED, stride=20, duration_s=config.sim_duration_s)
            sets["simulated_game3"] = _evenly(sim, config.sim_test_windows)
    if config.max_test_windows is not None:
        sets = {name: _evenly(w, config.max_test_windows) for name, w in sets.items()}
    return train, sets


def _evenly(windows: TrajectoryWindows, n: int) -> TrajectoryWindows:
    step = max(1, len(windows) // n)
    return windows.subset(list(range(0, len(windows), step))[:n])


def train_rows(train: TrajectoryWindows, config: ForecastBenchmarkConfig) -> list[TrainedRow]:
    """Each model of ``config.models`` trained from scratch twice: ``steps`` steps and ``budget_s`` seconds."""
    rows = []
    for name in config.models:
        for budget in (BenchmarkConfig(budget_s=None, steps=config.steps, hidden=config.hidden, latent=config.latent,
                                       batch_size=config.batch_size, learning_rate=config.learning_rate,
                                       seed=config.seed),
                       BenchmarkConfig(budget_s=config.budget_s, steps=None, hidden=config.hidden,
                                       latent=config.latent, batch_size=config.batch_size,
                                       learning_rate=config.learning_rate, seed=config.seed)):
            L.seed_everything(config.seed, verbose=False)
            model = build_model(name, {"hidden": config.hidden, "latent": config.latent})
            record = train_with_budget(model, train, budget)
            rows.append(TrainedRow(f"{name} [{budget.budget_label}]", model.eval(), budget.budget_label,
                                   record.steps, record.seconds, record.cpu_seconds))
    return rows


def time_sampling(model: TrajectoryModel, history: TrajectoryBatch, repeats: int = 5, threads: int = 1) -> float:
    """Median ms of 20 samples x 23 agents x 40 steps for one window (``threads`` CPU threads)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        model.sample(history, PRED, 20)
        timings = []
        for _ in range(repeats):
            start = time.perf_counter()
            model.sample(history, PRED, 20)
            timings.append((time.perf_counter() - start) * 1e3)
        return statistics.median(timings)
    finally:
        torch.set_num_threads(previous)


def run(config: ForecastBenchmarkConfig, say=print) -> tuple[pl.DataFrame, dict[str, float]]:
    """Train, score and time; returns the table (with budget columns) and the timings."""
    train, sets = test_sets(config)
    say(f"data: REAL SkillCorner first half {len(train)} training windows; test sets "
        + ", ".join(f"{name} {len(w)} ({'simulated' if w.simulated else 'real'})" for name, w in sets.items()))
    rows = train_rows(train, config)
    for row in rows:
        say(f"trained {row.label}: {row.steps} steps, {row.wall_s:.0f} s wall, {row.cpu_s:.0f} CPU s")
    models: dict[str, TrajectoryModel] = {row.label: row.model for row in rows}
    budgets = {CV: ("none", 0, 0.0, 0.0), **{r.label: (r.budget, r.steps, r.wall_s, r.cpu_s) for r in rows}}
    if config.pretrained:
        model, record = pretrained.load(config.pretrained, sets["skillcorner_test"])
        label = f"{record['model']} [pretrained {config.pretrained}]"
        meta = record["metadata"]
        models[label] = model
        budgets[label] = (f"shipped:{meta.get('steps', '?')} steps", int(meta.get("steps", 0)),
                          float(meta.get("train_wall_s", 0.0)), float(meta.get("train_cpu_s", 0.0)))
    history = TrajectoryBatch.from_windows(sets["skillcorner_test"], slice(0, 1)).history()
    timings = {label: time_sampling(m, history) for label, m in models.items() if "gvrnn" in label}
    say("sampling 20 x 23 agents x 4 s, one window, 1 CPU thread (shared machine), median ms: "
        + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()))
    table = forecast_table(models, sets, config.n_samples, config.seed, config.n_boot)
    budget_frame = pl.DataFrame([{"model": k, "budget": v[0], "train_steps": v[1], "train_wall_s": v[2],
                                  "train_cpu_s": v[3]} for k, v in budgets.items()])
    return table.join(budget_frame, on="model", how="left"), timings


def result_line(table: pl.DataFrame, timings: dict[str, float], config: ForecastBenchmarkConfig) -> str:
    """``RESULT real_cv_ade=.. ... data=real``: full scene, visible players, 4 s; the shipped GVRNN as ``gvrnn``
    (from-scratch rows under their budget names), VRNN under the equal-wall budget."""
    k = config.n_samples
    col = f"min_ade_{k}_4s"

    def cell(data: str, model: str, column: str = col) -> str:
        return f"{headline(table, data, model, column):.2f}"

    wall, steps = f"wall:{config.budget_s:g}", f"steps:{config.steps}"
    gvrnn = next((m for m in table["model"].unique() if "pretrained" in m), f"gvrnn [{wall}]")
    parts = {
        "real_cv_ade": cell("skillcorner_test", CV, "ade_1"),
        "real_cv_minade20": cell("skillcorner_test", CV),
        "real_vrnn_minade20": cell("skillcorner_test", f"vrnn [{wall}]"),
        "real_gvrnn_minade20": cell("skillcorner_test", gvrnn),
        "real_gvrnn_agent_minade20": cell("skillcorner_test", gvrnn, f"agent_min_ade_{k}"),
        "real_gvrnn_wins_vs_cv": cell("skillcorner_test", gvrnn, "win_vs_cv"),
        "hawkeye_cv_minade20": cell("hawkeye", CV),
        "hawkeye_gvrnn_minade20": cell("hawkeye", gvrnn),
        "lastrow_cv_minade20": cell("lastrow", CV),
        "lastrow_gvrnn_minade20": cell("lastrow", gvrnn),
    }
    for budget in (steps, wall):
        for name in config.models:
            parts[f"real_{name}_{budget.split(':')[0]}_minade20"] = cell("skillcorner_test", f"{name} [{budget}]")
    if "simulated_game3" in set(table["data"]):
        parts["sim_cv_minade20"] = cell("simulated_game3", CV)
        parts["sim_gvrnn_minade20"] = cell("simulated_game3", gvrnn)
    gvrnn_ms = timings.get(gvrnn, next(iter(timings.values()), float("nan")))
    parts["gvrnn_infer_ms"] = f"{gvrnn_ms:.0f}"
    return "RESULT " + " ".join(f"{k}={v}" for k, v in parts.items()) + " data=real"


def save(table: pl.DataFrame, out_dir: Path, config: ForecastBenchmarkConfig) -> tuple[Path, Path]:
    """Markdown + parquet of the table under ``out_dir`` (``forecast.md`` / ``forecast.parquet``)."""
    from soccerai.evaluate.forecast_table import save as save_table

    return save_table(table, out_dir, "forecast", config.n_samples)
