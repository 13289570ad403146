"""The forecast benchmark on REAL play: every backbone (VRNN, GVRNN with each interaction encoder, AE, VAE, GAN,
DDPM, Transformer) trained from scratch on the SkillCorner first half under equal optimiser steps AND equal wall
time, GVRNN pre-trained on SIMULATED matches then fine-tuned on the real first half, the shipped pretrained GVRNN,
and constant velocity, scored on three real test sets and one independent simulated game
(:mod:`soccerai.evaluate.forecast_table`).

Data (:mod:`soccerai.windows.sources`; 2 s observed, 4 s predicted, 10 Hz):

* ``skillcorner_test``: REAL, the second half of Bayern v Dortmund (broadcast tracking), windows 2 s apart;
  training: the first half minus its last 10 minutes (validation), a window length apart from it;
* ``hawkeye``: REAL, the two Hawk-Eye minutes (optical, 50 Hz -> 10 Hz, other teams), never trained on;
* ``lastrow``: REAL, the Last Row clip (Liverpool goal), windows 1 s apart;
* ``simulated_game3``: SIMULATED, Game 3 with its own seed (the models trained on REAL play are scored on it).

Budgets (stated in every row's ``budget``): ``steps:N`` trains each model exactly ``N`` optimiser steps on the same
batches; ``wall:S`` gives each ``S`` seconds of wall time (on a shared CPU a noisy budget, so CPU seconds are kept
beside it). The shipped model's own budget comes from its checkpoint metadata. Training windows are mirrored
left/right half the time (:attr:`soccerai.training.loop.TrainConfig.mirror`).

Models (``ForecastBenchmarkConfig.models``, keys of :func:`backbone_entries`): ``vrnn``, ``gvrnn`` (MPNN encoder),
``gvrnn:<encoder>`` for the other encoders of :func:`soccerai.models.registry.encoder_names`, and the generators of
:data:`soccerai.models.registry.GENERATORS` (``diffusion`` is DDPM, scored with its ancestral sampler). Rows are
labelled ``<key> [steps:N]`` / ``<key> [wall:S]``; pre-trained + fine-tuned rows ``<key> [sim:P+steps:N]`` /
``<key> [sim:P+wall:S]`` (:func:`pretrain_finetune_rows`).
"""

from __future__ import annotations

import copy
import statistics
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import lightning as L
import polars as pl
import torch

from soccerai.bench.backbones import BenchmarkConfig, Entry, entries, train_with_budget
from soccerai.errors import InvalidParameterError
from soccerai.evaluate.forecast_table import CV, DCV, forecast_table, headline
from soccerai.evaluate.forecast_table import save as save_table
from soccerai.evaluate.metrics import defender_response
from soccerai.models import TrajectoryBatch, TrajectoryModel
from soccerai.models.baselines import DampedConstantVelocity, fit_damping
from soccerai.training import pretrained
from soccerai.windows import sources as datasets
from soccerai.windows.container import TrajectoryWindows
from soccerai.windows.sources import parquet_windows

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
    """Keys of :func:`backbone_entries` trained from scratch (``all``: every backbone)."""
    max_test_windows: int | None = None
    """Score at most this many windows per set, spread evenly (None: all; smoke runs only)."""
    scenarios: tuple[str, ...] = ("full_scene", "ghosting")
    """Scenarios of the table (the RESULT line reads ``full_scene``)."""
    extra_pretrained: tuple[str, ...] = ()
    """Other shipped models / checkpoint folders scored beside ``pretrained`` (e.g. the previous shipped model)."""
    pretrain_sim_steps: int = 0
    """> 0: also GVRNN pre-trained this many steps on SIMULATED Games 1 + 2, then fine-tuned on the real first half
    under both budgets (:func:`pretrain_finetune_rows`)."""

    def __post_init__(self) -> None:
        if "all" in self.models:
            self.models = tuple(backbone_entries(self))
        unknown = set(self.models) - set(backbone_entries(self))
        if unknown:
            raise InvalidParameterError(f"unknown forecast benchmark models {', '.join(sorted(unknown))}; choose "
                                        f"from {', '.join(backbone_entries(self))} or all")
        if self.steps < 1 or self.budget_s <= 0 or self.pretrain_sim_steps < 0:
            raise InvalidParameterError(f"need steps >= 1, budget_s > 0, pretrain_sim_steps >= 0; got {self.steps}, "
                                        f"{self.budget_s}, {self.pretrain_sim_steps}")

    def budgets(self) -> tuple[BenchmarkConfig, BenchmarkConfig]:
        """(equal steps, equal wall) training budgets with this run's sizes."""
        common = {"hidden": self.hidden, "latent": self.latent, "batch_size": self.batch_size,
                  "learning_rate": self.learning_rate, "seed": self.seed}
        return (BenchmarkConfig(budget_s=None, steps=self.steps, **common),
                BenchmarkConfig(budget_s=self.budget_s, steps=None, **common))


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


def backbone_entries(config: ForecastBenchmarkConfig) -> dict[str, Entry]:
    """Every trainable backbone by key (``vrnn``, ``gvrnn``, ``gvrnn:<encoder>``, the generators), built by the
    backbone benchmark's :func:`soccerai.bench.backbones.entries` with this run's sizes (one list of models)."""
    keyed: dict[str, Entry] = {}
    for entry in entries(BenchmarkConfig(budget_s=None, steps=1, hidden=config.hidden, latent=config.latent)):
        if entry.family == "baseline":
            continue
        if entry.family == "gvrnn":
            keyed["gvrnn" if entry.encoder == "mpnn" else f"gvrnn:{entry.encoder}"] = entry
        else:
            keyed[entry.family] = entry
    return keyed


def train_rows(train: TrajectoryWindows, config: ForecastBenchmarkConfig, say=print) -> list[TrainedRow]:
    """Each model of ``config.models`` trained from scratch twice: ``steps`` steps and ``budget_s`` seconds."""
    rows = []
    built = backbone_entries(config)
    for key in config.models:
        for budget in config.budgets():
            L.seed_everything(config.seed, verbose=False)
            model = built[key].build()
            record = train_with_budget(model, train, budget)
            rows.append(TrainedRow(f"{key} [{budget.budget_label}]", model.eval(), budget.budget_label,
                                   record.steps, record.seconds, record.cpu_seconds))
            say(f"trained {rows[-1].label}: {record.steps} steps, {record.seconds:.0f} s wall, "
                f"{record.cpu_seconds:.0f} CPU s")
    return rows


def pretrain_finetune_rows(
    sim_source: TrajectoryWindows | Sequence[str | Path],
    real_train: TrajectoryWindows,
    config: ForecastBenchmarkConfig | None = None,
    pretrain_steps: int | None = None,
    model: str = "gvrnn",
    say=print,
) -> list[TrainedRow]:
    """``model`` pre-trained ``pretrain_steps`` optimiser steps on SIMULATED windows, then fine-tuned on REAL ones.

    ``sim_source``: simulated windows, or stored simulated matches (parquet paths, e.g.
    :func:`soccerai.synth.cache.simulated_match_path`), cut into 2 s + 4 s windows every second. The model is
    pre-trained once (seeded with ``config.seed``, mirror augmentation, ``config``'s sizes and learning rate), then
    two copies are fine-tuned on ``real_train`` under the run's two budgets: ``config.steps`` steps and
    ``config.budget_s`` wall seconds, the same budgets as the from-scratch rows of :func:`train_rows` (so
    ``<model> [sim:P+steps:N]`` sits beside ``<model> [steps:N]``). Each row's ``steps`` / ``wall_s`` / ``cpu_s``
    count pre-training and fine-tuning together.

    Raises:
        InvalidParameterError: ``pretrain_steps`` < 1, an unknown model, or simulated windows of another length.
    """
    config = config or ForecastBenchmarkConfig(pretrained=None, simulated=False)
    steps = config.pretrain_sim_steps if pretrain_steps is None else pretrain_steps
    if steps < 1:
        raise InvalidParameterError(f"pretrain_steps must be at least 1, got {steps}")
    built = backbone_entries(config)
    if model not in built:
        raise InvalidParameterError(f"unknown model {model!r}; choose from {', '.join(built)}")
    sim = sim_source if isinstance(sim_source, TrajectoryWindows) else parquet_windows(
        [Path(p) for p in sim_source], OBS, PRED, stride=10)
    if (sim.obs_len, sim.pred_len) != (real_train.obs_len, real_train.pred_len):
        raise InvalidParameterError(f"simulated windows are {sim.obs_len}+{sim.pred_len} frames, real ones "
                                    f"{real_train.obs_len}+{real_train.pred_len}")
    by_steps, by_wall = config.budgets()
    L.seed_everything(config.seed, verbose=False)
    base = built[model].build()
    pre = train_with_budget(base, sim, replace(by_steps, steps=steps))
    say(f"pre-trained {model} on {len(sim)} {'simulated' if sim.simulated else 'REAL(!)'} windows: {pre.steps} "
        f"steps, {pre.seconds:.0f} s wall, {pre.cpu_seconds:.0f} CPU s")
    rows = []
    for budget in (by_steps, by_wall):
        tuned = copy.deepcopy(base)
        record = train_with_budget(tuned, real_train, budget)
        label = f"sim:{pre.steps}+{budget.budget_label}"
        rows.append(TrainedRow(f"{model} [{label}]", tuned.eval(), label, pre.steps + record.steps,
                               pre.seconds + record.seconds, pre.cpu_seconds + record.cpu_seconds))
        say(f"fine-tuned {rows[-1].label}: {record.steps} real steps, {record.seconds:.0f} s wall, "
            f"{record.cpu_seconds:.0f} CPU s")
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
    rows = train_rows(train, config, say)
    if config.pretrain_sim_steps > 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sim_train, _ = datasets.simulated_sets(OBS, PRED, stride=10, duration_s=config.sim_duration_s)
        rows += pretrain_finetune_rows(sim_train, train, config, say=say)
    gamma = fit_damping(train)
    say(f"damped constant velocity: gamma {gamma:g} per 0.1 s, fitted on the {len(train)} REAL training windows")
    models: dict[str, TrajectoryModel] = {DCV: DampedConstantVelocity(gamma), **{row.label: row.model for row in rows}}
    budgets = {CV: ("none", 0, 0.0, 0.0), DCV: (f"fitted gamma={gamma:g}", 0, 0.0, 0.0),
               **{r.label: (r.budget, r.steps, r.wall_s, r.cpu_s) for r in rows}}
    if config.pretrained:
        model, record = pretrained.load(config.pretrained, sets["skillcorner_test"])
        label = f"{record['model']} [pretrained {config.pretrained}]"
        meta = record["metadata"]
        models[label] = model
        kept = f", kept {meta['best_step']}" if "best_step" in meta else ""
        budgets[label] = (f"shipped:{meta.get('steps', '?')} steps{kept}", int(meta.get("steps", 0)),
                          float(meta.get("train_wall_s", 0.0)), float(meta.get("train_cpu_s", 0.0)))
    history = TrajectoryBatch.from_windows(sets["skillcorner_test"], slice(0, 1)).history()
    timings = {label: time_sampling(m, history) for label, m in models.items()
               if label.startswith("gvrnn [") or "pretrained" in label}
    say("sampling 20 x 23 agents x 4 s, one window, 1 CPU thread (shared machine), median ms: "
        + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()))
    for extra in config.extra_pretrained:
        model, record = pretrained.load(extra, sets["skillcorner_test"])
        models[f"{record['model']} [pretrained {extra}]"] = model
        budgets[f"{record['model']} [pretrained {extra}]"] = (f"shipped:{record['metadata'].get('steps', '?')} "
                                                               "steps", int(record["metadata"].get("steps", 0)),
                                                               0.0, 0.0)
    table = forecast_table(models, sets, config.n_samples, config.seed, config.n_boot, tuple(config.scenarios))
    gvrnn = next((label for label in models if "pretrained" in label), None)
    if gvrnn is not None:
        slope_model, slope_data, pairs = defender_response(models[gvrnn], sets["skillcorner_test"], seed=config.seed)
        timings["response_model"], timings["response_data"] = slope_model, slope_data
        say(f"defender response (REAL SkillCorner test half, attackers given, {pairs} defender-attacker pairs): "
            f"slope of D's 4 s displacement on his nearest attacker's: model {slope_model:.3f}, data {slope_data:.3f}")
    timings["pipeline_skillcorner_windows"] = float(pipeline_window_count())
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
    gvrnn = next((m for m in table["model"].unique(maintain_order=True) if "pretrained" in m), f"gvrnn [{wall}]")
    models_here = set(table["model"])
    vrnn = f"vrnn [{wall}]" if f"vrnn [{wall}]" in models_here else f"vrnn [{steps}]"
    parts = {
        "real_cv_minade20": cell("skillcorner_test", CV),
        "real_dcv_minade20": cell("skillcorner_test", DCV) if DCV in models_here else "nan",
        "real_vrnn_minade20": cell("skillcorner_test", vrnn) if vrnn in models_here else "nan",
        "real_gvrnn_minade20": cell("skillcorner_test", gvrnn),
        "real_gvrnn_ade1": cell("skillcorner_test", gvrnn, "ade_1"),
        "real_gvrnn_agent_minade20": cell("skillcorner_test", gvrnn, f"agent_min_ade_{k}"),
        "real_gvrnn_sade20": cell("skillcorner_test", gvrnn, f"sade_{k}"),
        "real_cv_energy": cell("skillcorner_test", CV, "energy"),
        "real_dcv_energy": cell("skillcorner_test", DCV, "energy") if DCV in models_here else "nan",
        "real_gvrnn_energy": cell("skillcorner_test", gvrnn, "energy"),
        "real_gvrnn_spread4s": cell("skillcorner_test", gvrnn, "spread_4s"),
        "real_gvrnn_cover90": cell("skillcorner_test", gvrnn, "cover90"),
        "real_gvrnn_wins_vs_cv": cell("skillcorner_test", gvrnn, "win_vs_cv"),
        "hawkeye_cv_minade20": cell("hawkeye", CV),
        "hawkeye_gvrnn_minade20": cell("hawkeye", gvrnn),
        "lastrow_cv_minade20": cell("lastrow", CV),
        "lastrow_gvrnn_minade20": cell("lastrow", gvrnn),
    }
    for budget in (steps, wall):
        for name in config.models:
            key = name.replace(":", "_")
            parts[f"real_{key}_{budget.split(':')[0]}_minade20"] = cell("skillcorner_test", f"{name} [{budget}]")
    for model in table["model"].unique(maintain_order=True):
        if "[sim:" in model:
            budget = model.split("+")[1].split(":")[0]
            parts[f"real_gvrnn_simft_{budget}_minade20"] = cell("skillcorner_test", model)
    if "simulated_game3" in set(table["data"]):
        parts["sim_cv_minade20"] = cell("simulated_game3", CV)
        parts["sim_gvrnn_minade20"] = cell("simulated_game3", gvrnn)
    gvrnn_ms = timings.get(gvrnn, float("nan"))
    parts["gvrnn_infer_ms"] = f"{gvrnn_ms:.0f}"
    parts["real_response_model"] = f"{timings.get('response_model', float('nan')):.3f}"
    parts["real_response_data"] = f"{timings.get('response_data', float('nan')):.3f}"
    parts["pipeline_skillcorner_windows"] = f"{timings.get('pipeline_skillcorner_windows', float('nan')):.0f}"
    return "RESULT " + " ".join(f"{k}={v}" for k, v in parts.items()) + " data=real"


def pipeline_window_count(stride_s: float = 2.0) -> int:
    """Windows the pipeline's ``windows`` step cuts from the REAL SkillCorner match (2 s + 4 s, every ``stride_s``,
    ``min_players`` = the pipeline's default)."""
    from soccerai.pipeline.config import WindowsConfig
    from soccerai.windows.cutter import make_windows
    from soccerai.windows.sources import SKILLCORNER, data_dir, real_match_10hz

    w = WindowsConfig()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        match = real_match_10hz(data_dir() / SKILLCORNER)
        return len(make_windows(match, obs_s=w.obs_s, pred_s=w.pred_s, stride_s=stride_s, min_players=w.min_players))


def save(table: pl.DataFrame, out_dir: Path, config: ForecastBenchmarkConfig) -> tuple[Path, Path]:
    """Markdown + parquet of the table under ``out_dir`` (``forecast.md`` / ``forecast.parquet``)."""
    return save_table(table, out_dir, "forecast", config.n_samples)
