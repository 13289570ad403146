"""The backbone table: every generator and every interaction encoder (inside GVRNN) trained with the same budget on
the same split, then scored on held-out SIMULATED matches and on REAL Last Row clip windows.

Protocol (:func:`run_benchmark`):

1. Data. Train windows come from ``train_matches`` simulated matches (``soccerai.synth.synthesize_match`` driven by
   the real Metrica event timelines, then :func:`soccerai.windows.layout.to_model_rate` (10 Hz, smoothed velocities) and
   :func:`soccerai.windows.cutter.make_windows`); the simulated test set is windows of a DIFFERENT simulated match
   (another timeline and seed). The real test set is every window of the Last Row clips
   (:func:`soccerai.io.providers.lastrow.load_lastrow`, same pipeline, stride 0.2 s).
2. Training. Every trainable model is trained by :func:`soccerai.training.loop.fit` (the common Lightning module)
   with the same batch size, learning rate, seed and data order, under one of two budgets:

   - ``wall`` (default, ``steps=None``): the same wall-clock time ``budget_s`` each (Lightning's ``max_time``). On a
     CPU this ranks steps per second as much as architectures: a cheap model gets ~50x the optimiser steps of a GVRNN.
   - ``steps`` (``steps=N``): exactly ``N`` optimiser steps each (Lightning's ``max_steps``); ``budget_s``, when set,
     is a safety cap, and a model the cap stops before ``N`` steps is marked ``capped`` in the table.
3. Scoring (honest rollouts, :func:`soccerai.evaluate.metrics.forecast`): ADE, FDE, minADE_K, minFDE_K over the 22
   players at the full horizon (4 s), in two scenarios: ``full_scene`` (every agent predicted) and ``ghosting``
   (A1 / D1 / D2 predicted, the other 20 agents given their true future). Constant velocity is the first row.
   The trained diffusion model is scored twice: with its ancestral DDPM sampler and with a 10-step DDIM sampler,
   which measures the quality cost of the faster sampler (``sample_ms`` gives the speed side).

The result is one long table (``polars``): a row per (data, scenario, model), saved as markdown and parquet.
"""

from __future__ import annotations

import dataclasses
import re
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
import polars as pl
import torch

from soccerai.errors import InvalidParameterError
from soccerai.evaluate.metrics import agent_group_mask, forecast, score
from soccerai.files import atomic_path, write_parquet_atomic
from soccerai.io.providers.lastrow import load_lastrow
from soccerai.models.base import TrajectoryModel
from soccerai.models.baselines import ConstantVelocity
from soccerai.models.gvrnn import GVRNN
from soccerai.models.registry import GENERATORS, MODELS, encoder_names
from soccerai.models.vrnn import VRNN
from soccerai.synth.match import synthesize_match
from soccerai.training.loop import TrainConfig, fit
from soccerai.windows.container import TrajectoryWindows
from soccerai.windows.cutter import make_windows
from soccerai.windows.layout import to_model_rate

ENCODER_CHOICES = encoder_names()
"""The GVRNN encoders the benchmark can rank (from the one registry, :mod:`soccerai.models.registry`)."""
FAST_SAMPLER_STEPS = 10
Progress = Callable[[str], None]


@dataclass
class BenchmarkConfig:
    """Sizes of the benchmark run (defaults: about 10-15 minutes on 2 CPU cores)."""

    budget_s: float | None = 40.0
    """Wall seconds of training per model; with ``steps``: a safety cap per model (None: no cap)."""
    steps: int | None = None
    """Optimiser steps per model (equal-steps mode); None: equal wall time ``budget_s`` (the default mode)."""
    hidden: int = 32
    latent: int = 8
    batch_size: int = 32
    learning_rate: float = 1e-3
    train_matches: int = 2
    match_duration_s: float = 900.0
    test_windows: int = 64
    n_samples: int = 20
    obs_s: float = 2.0
    pred_s: float = 4.0
    seed: int = 0
    encoders: tuple[str, ...] = ENCODER_CHOICES
    generators: tuple[str, ...] = GENERATORS

    def __post_init__(self) -> None:
        checks = {
            "budget_s": (self.budget_s is None and self.steps is not None) or (
                self.budget_s is not None and self.budget_s > 0),
            "steps": self.steps is None or 1 <= self.steps <= 1_000_000,
            "hidden": self.hidden >= 4, "train_matches": 1 <= self.train_matches <= 3,
            "match_duration_s": self.match_duration_s >= 60, "test_windows": self.test_windows >= 1,
            "n_samples": self.n_samples >= 1, "batch_size": self.batch_size >= 1,
        }
        for name, ok in checks.items():
            if not ok:
                raise InvalidParameterError(f"benchmark {name}={getattr(self, name)!r} is out of range")
        unknown = (set(self.encoders) - set(ENCODER_CHOICES)) | (set(self.generators) - set(GENERATORS))
        if unknown:
            raise InvalidParameterError(f"unknown benchmark backbones: {', '.join(sorted(unknown))}")

    @property
    def horizon(self) -> int:
        return round(self.pred_s * 10)

    @property
    def budget_label(self) -> str:
        """``steps:N`` (equal optimiser steps) or ``wall:S`` (equal wall seconds): the mode, as tables and logs say."""
        return f"steps:{self.steps}" if self.steps is not None else f"wall:{self.budget_s:g}"

    def describe_budget(self) -> str:
        """One phrase for titles: ``60 optimiser steps each, wall cap 120 s`` or ``40 s training budget each``."""
        if self.steps is None:
            return f"{self.budget_s:g} s training budget each"
        cap = "no wall cap" if self.budget_s is None else f"wall cap {self.budget_s:g} s"
        return f"{self.steps} optimiser steps each, {cap}"


@dataclass
class Entry:
    """One row family of the table: a display name and how to build the model."""

    label: str
    family: str
    encoder: str
    build: Callable[[], TrajectoryModel]
    variants: dict[str, dict[str, Any]] = field(default_factory=dict)  # extra labels -> config overrides at test


@dataclass(frozen=True)
class TrainingRecord:
    """How one model's training went: wall and process-CPU seconds, optimiser steps, and whether the cap cut it.

    ``capped`` is True when the wall cap stopped the model before ``config.steps`` steps (equal-steps mode), False
    when it finished them, None in wall mode (the clock always ends the fit there) and for untrainable models.
    """

    seconds: float
    cpu_seconds: float
    steps: int
    capped: bool | None


@dataclass
class BenchmarkData:
    train: TrajectoryWindows
    tests: dict[str, TrajectoryWindows]


# -- data ----------------------------------------------------------------------------------------------------------
def simulated_windows(events: Path | None, seed: int, duration_s: float, config: BenchmarkConfig) -> TrajectoryWindows:
    """Windows of one simulated match (synthesizer -> 10 Hz -> velocities -> possession windows)."""
    match = synthesize_match(events, seed=seed, duration_s=duration_s)
    return _windows_of(match, config, stride_s=1.0)


def lastrow_windows(paths: Iterable[Path], config: BenchmarkConfig) -> TrajectoryWindows:
    """Windows of the real Last Row clips (stride 0.2 s: the clips are short)."""
    return TrajectoryWindows.concat([_windows_of(load_lastrow(p), config, stride_s=0.2) for p in paths])


def _windows_of(match: Any, config: BenchmarkConfig, stride_s: float) -> TrajectoryWindows:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # skipped-window counts
        return make_windows(to_model_rate(match), obs_s=config.obs_s, pred_s=config.pred_s, stride_s=stride_s)


def benchmark_data(config: BenchmarkConfig, events_dir: Path, clip_paths: list[Path]) -> BenchmarkData:
    """Train on ``train_matches`` simulated matches, test on another simulated match and on the real clips."""
    timelines = sorted(events_dir.glob("*RawEventsData.csv")) + sorted(events_dir.glob("*_events.json"))
    if len(timelines) < 2:
        raise InvalidParameterError(f"need at least two Metrica event timelines in {events_dir}")
    test_timeline, train_timelines = timelines[-1], timelines[:-1]
    train_parts = [
        simulated_windows(train_timelines[i] if i < len(train_timelines) else None, config.seed + i,
                          config.match_duration_s, config)
        for i in range(config.train_matches)
    ]
    test = simulated_windows(test_timeline, config.seed + 100, config.match_duration_s, config)
    pick = torch.linspace(0, len(test) - 1, min(config.test_windows, len(test))).round().long().unique().tolist()
    return BenchmarkData(
        train=TrajectoryWindows.concat(train_parts),
        tests={"simulated": test.subset(pick), "real (Last Row)": lastrow_windows(clip_paths, config)},
    )


# -- models --------------------------------------------------------------------------------------------------------
def entries(config: BenchmarkConfig) -> list[Entry]:
    """Constant velocity, VRNN (no graph), GVRNN with each encoder, then each generator (MPNN encoder)."""
    h, z, horizon = config.hidden, config.latent, config.horizon
    rows = [
        Entry("constant velocity", "baseline", "-", ConstantVelocity),
        Entry("vrnn (no graph)", "vrnn", "none", lambda: VRNN(VRNN.config_class(hidden=h, latent=z))),
    ]
    for encoder in config.encoders:
        rows.append(Entry(f"gvrnn [{encoder}]", "gvrnn", encoder,
                          lambda e=encoder: GVRNN(GVRNN.config_class(hidden=h, latent=z, encoder=e))))
    sizes: dict[str, dict[str, Any]] = {
        "ae": {"hidden": h, "horizon": horizon},
        "vae": {"hidden": h, "latent": z, "horizon": horizon},
        "gan": {"hidden": h, "noise": z, "horizon": horizon},
        "diffusion": {"hidden": h, "horizon": horizon},
        "transformer": {"hidden": h, "horizon": horizon},
    }
    for name in config.generators:
        cls = MODELS[name]
        variants = {}
        label = name
        if name == "diffusion":
            label = "diffusion [DDPM 100 steps]"
            variants = {f"diffusion [DDIM {FAST_SAMPLER_STEPS} steps]": {"sampler": "ddim",
                                                                        "sample_steps": FAST_SAMPLER_STEPS}}
        encoder = "-" if name == "transformer" else "mpnn"
        rows.append(Entry(label, name, encoder, lambda c=cls, s=sizes[name]: c(c.config_class(**s)), variants))
    return rows


def train_with_budget(model: TrajectoryModel, train: TrajectoryWindows, config: BenchmarkConfig) -> TrainingRecord:
    """Train ``model`` under the run's budget (``steps`` and / or ``budget_s``, see the module docstring)."""
    if not model.trainable:
        return TrainingRecord(0.0, 0.0, 0, None)
    L.seed_everything(config.seed, verbose=False)
    train_config = TrainConfig(
        epochs=-1, max_steps=config.steps or -1, max_time_s=config.budget_s, batch_size=config.batch_size,
        learning_rate=config.learning_rate, gradient_clip=5.0, seed=config.seed, accelerator="cpu",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wall, cpu = time.perf_counter(), time.process_time()
        result = fit(model, train, None, train_config)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    capped = None if config.steps is None else result.steps < config.steps
    return TrainingRecord(wall, cpu, result.steps, capped)


def evaluate_model(
    label: str, model: TrajectoryModel, tests: dict[str, TrajectoryWindows], config: BenchmarkConfig
) -> list[dict[str, Any]]:
    """Rows of scores (players, full horizon) per test set and scenario, with the sampling time per window."""
    rows = []
    players = agent_group_mask(23, "players")
    for data_name, windows in tests.items():
        for scenario in ("full_scene", "ghosting"):
            start = time.perf_counter()
            samples, truth, valid = forecast(model, windows, scenario, config.n_samples, config.seed)
            sample_ms = 1000 * (time.perf_counter() - start) / len(windows)
            s = score(samples, truth, valid & players, config.n_samples)
            rows.append({
                "data": data_name, "scenario": scenario, "model": label,
                "ade": s.ade, "fde": s.fde, f"min_ade_{s.k}": s.min_ade, f"min_fde_{s.k}": s.min_fde,
                "sample_ms": sample_ms, "windows": len(windows),
            })
    return rows


def run_benchmark(
    config: BenchmarkConfig, events_dir: Path, clip_paths: list[Path], progress: Progress | None = None
) -> pl.DataFrame:
    """Build the data, train and score every entry; returns the long table (see module docstring)."""
    say = progress or (lambda _message: None)
    say("simulating matches and cutting windows")
    data = benchmark_data(config, events_dir, clip_paths)
    rows: list[dict[str, Any]] = []
    for entry in entries(config):
        say(f"training {entry.label}")
        torch.manual_seed(config.seed)
        model = entry.build()
        training = train_with_budget(model, data.train, config)
        params = sum(p.numel() for p in model.parameters())
        cut = f" (capped: wall cap hit after {training.steps} of {config.steps} steps)" if training.capped else ""
        say(f"scoring {entry.label}{cut}")
        for label, overrides in {entry.label: {}, **entry.variants}.items():
            model.config = dataclasses.replace(model.config, **overrides) if overrides else model.config
            for row in evaluate_model(label, model, data.tests, config):
                rows.append({**row, "family": entry.family, "encoder": entry.encoder, "params": params,
                             "train_s": training.seconds, "train_cpu_s": training.cpu_seconds,
                             "train_steps": training.steps, "capped": training.capped})
    table = pl.DataFrame(rows).with_columns(pl.col("capped").cast(pl.Boolean))
    order = ["data", "scenario", "model", "family", "encoder"]
    return table.select(order + [c for c in table.columns if c not in order])


def with_context(table: pl.DataFrame, config: BenchmarkConfig) -> pl.DataFrame:
    """Add the run settings as constant columns (so a saved table says how it was made).

    ``budget`` is the mode (``steps:N`` / ``wall:S``); ``budget_s`` the wall budget or cap (null: none);
    ``budget_steps`` the step target (null in wall mode).
    """
    return table.with_columns(
        pl.lit(config.budget_label).alias("budget"),
        pl.lit(config.budget_s, dtype=pl.Float64).alias("budget_s"),
        pl.lit(config.steps, dtype=pl.Int64).alias("budget_steps"),
        pl.lit(config.hidden).alias("hidden"), pl.lit(config.pred_s).alias("horizon_s"),
    )


def to_markdown(table: pl.DataFrame, config: BenchmarkConfig) -> str:
    """The table as markdown: one block per (data, scenario), constant velocity first, then by ADE."""
    k = config.n_samples
    lines = [
        f"Backbones at {config.pred_s:g} s, {config.describe_budget()} (budget={config.budget_label}), "
        f"hidden {config.hidden}. "
        "`simulated` rows: a held-out simulated match (soccerai synthesizer); `real (Last Row)` rows: real tracking. "
        "Errors in metres over the 22 players. `capped`: the wall cap stopped the model before its steps "
        "(`-` in wall mode, where the clock always ends training, and for untrained models).",
        "",
        f"| data | scenario | model | ADE | FDE | minADE_{k} | minFDE_{k} | params | train s | train CPU s | steps "
        "| capped | sample ms/window |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    ranked = table.with_columns((pl.col("family") != "baseline").alias("_not_cv")).sort(
        ["data", "scenario", "_not_cv", "ade"], descending=[True, False, False, False]
    )
    for r in ranked.iter_rows(named=True):
        lines.append(
            f"| {r['data']} | {r['scenario']} | {r['model']} | {r['ade']:.2f} | {r['fde']:.2f} | "
            f"{r[f'min_ade_{k}']:.2f} | {r[f'min_fde_{k}']:.2f} | {r['params']:,} | {r['train_s']:.1f} | "
            f"{r['train_cpu_s']:.1f} | {r['train_steps']} | {capped_text(r['capped'])} | {r['sample_ms']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def capped_text(capped: bool | None) -> str:
    """``yes`` / ``no`` for the equal-steps mode, ``-`` in wall mode."""
    return "-" if capped is None else ("yes" if capped else "no")


def result_line(table: pl.DataFrame, config: BenchmarkConfig, data: str = "simulated",
                scenario: str = "ghosting") -> str:
    """``RESULT key=value ...``: the budget mode, the best model and minADE_K of every model on one block.

    ``budget=steps:N`` or ``budget=wall:S``; ``capped=a,b`` lists the models the wall cap stopped early, if any.
    """
    k = config.n_samples
    block = table.filter((pl.col("data") == data) & (pl.col("scenario") == scenario)).sort(f"min_ade_{k}")
    if block.height == 0:
        return f"RESULT data={data} scenario={scenario} budget={config.budget_label} models=0"
    keys = [re.sub(r"[^a-z0-9]+", "_", str(m).lower()).strip("_") for m in block.get_column("model")]
    values = block.get_column(f"min_ade_{k}").to_list()
    pairs = " ".join(f"{key}_minade{k}={value:.3f}" for key, value in zip(keys, values, strict=True))
    capped = []
    if "capped" in block.columns:
        capped = [key for key, cut in zip(keys, block.get_column("capped").to_list(), strict=True) if cut]
    cut = f" capped={','.join(capped)}" if capped else ""
    return f"RESULT data={data} scenario={scenario} best={keys[0]} budget={config.budget_label}{cut} {pairs}"


def save_table(table: pl.DataFrame, config: BenchmarkConfig, out_dir: Path) -> tuple[Path, Path]:
    """Write ``backbones.md`` and ``backbones.parquet`` atomically into ``out_dir``."""
    markdown, parquet = out_dir / "backbones.md", out_dir / "backbones.parquet"
    with atomic_path(markdown, ".md") as tmp:
        tmp.write_text(to_markdown(table, config))
    write_parquet_atomic(with_context(table, config), parquet)
    return markdown, parquet

