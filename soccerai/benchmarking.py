"""The backbone table: every generator and every interaction encoder (inside GVRNN) trained with the same budget on
the same split, then scored on held-out SIMULATED matches and on REAL Last Row clip windows.

Protocol (:func:`run_benchmark`):

1. Data. Train windows come from ``train_matches`` simulated matches (``soccerai.synth.synthesize_match`` driven by
   the real Metrica event timelines, then :func:`soccerai.tracking.resample` to 10 Hz, :func:`add_velocities`,
   :func:`soccerai.windowing.make_windows`); the simulated test set is windows of a DIFFERENT simulated match
   (another timeline and seed). The real test set is every window of the Last Row clips
   (:func:`soccerai.io.lastrow.load_lastrow`, same pipeline, stride 0.2 s).
2. Training. Every trainable model gets the same wall-clock budget ``budget_s`` with the common Lightning module of
   :mod:`soccerai.train` (``Trainer(max_time=...)``), same batch size, learning rate and seed.
3. Scoring (honest rollouts, :func:`soccerai.evaluate.metrics.forecast`): ADE, FDE, minADE_K, minFDE_K over the 22
   players at the full horizon (4 s), in two scenarios: ``full_scene`` (every agent predicted) and ``ghosting``
   (A1 / D1 / D2 predicted, the other 20 agents given their true future). Constant velocity is the first row.
   The trained diffusion model is scored twice: with its ancestral DDPM sampler and with a 10-step DDIM sampler,
   which measures the quality cost of the faster sampler (``sample_ms`` gives the speed side).

The result is one long table (``polars``): a row per (data, scenario, model), saved as markdown and parquet.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
import polars as pl
import torch

from soccerai.datamodule import WindowDataModule
from soccerai.errors import InvalidParameterError
from soccerai.evaluate.metrics import agent_group_mask, forecast, score
from soccerai.models.ae import AutoEncoder
from soccerai.models.base import TrajectoryModel
from soccerai.models.baselines import ConstantVelocity
from soccerai.models.diffusion import TrajectoryDiffusion
from soccerai.models.gan import TrajectoryGAN
from soccerai.models.gvrnn import GVRNN
from soccerai.models.transformer import TrajectoryTransformer
from soccerai.models.vae import ConditionalVAE
from soccerai.models.vrnn import VRNN
from soccerai.store import atomic_path, write_parquet_atomic
from soccerai.train import TrajectoryLightningModule
from soccerai.windows import TrajectoryWindows

ENCODER_CHOICES = ("mpnn", "gcn", "gat", "sage", "graphormer", "sat")
GENERATORS: dict[str, type[TrajectoryModel]] = {
    cls.name: cls for cls in (AutoEncoder, ConditionalVAE, TrajectoryGAN, TrajectoryDiffusion, TrajectoryTransformer)
}
FAST_SAMPLER_STEPS = 10
Progress = Callable[[str], None]


@dataclass
class BenchmarkConfig:
    """Sizes of the benchmark run (defaults: about 10-15 minutes on 2 CPU cores)."""

    budget_s: float = 40.0
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
    generators: tuple[str, ...] = tuple(GENERATORS)

    def __post_init__(self) -> None:
        checks = {
            "budget_s": self.budget_s > 0, "hidden": self.hidden >= 4, "train_matches": 1 <= self.train_matches <= 3,
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


@dataclass
class Entry:
    """One row family of the table: a display name and how to build the model."""

    label: str
    family: str
    encoder: str
    build: Callable[[], TrajectoryModel]
    variants: dict[str, dict[str, Any]] = field(default_factory=dict)  # extra labels -> config overrides at test


@dataclass
class BenchmarkData:
    train: TrajectoryWindows
    tests: dict[str, TrajectoryWindows]


# -- data ----------------------------------------------------------------------------------------------------------
def simulated_windows(events: Path | None, seed: int, duration_s: float, config: BenchmarkConfig) -> TrajectoryWindows:
    """Windows of one simulated match (synthesizer -> 10 Hz -> velocities -> possession windows)."""
    from soccerai.synth import synthesize_match

    match = synthesize_match(events, seed=seed, duration_s=duration_s)
    return _windows_of(match, config, stride_s=1.0)


def lastrow_windows(paths: Iterable[Path], config: BenchmarkConfig) -> TrajectoryWindows:
    """Windows of the real Last Row clips (stride 0.2 s: the clips are short)."""
    from soccerai.io.lastrow import load_lastrow

    return TrajectoryWindows.concat([_windows_of(load_lastrow(p), config, stride_s=0.2) for p in paths])


def _windows_of(match: Any, config: BenchmarkConfig, stride_s: float) -> TrajectoryWindows:
    from soccerai.tracking import add_velocities, resample
    from soccerai.windowing import make_windows

    tracking = add_velocities(resample(match.tracking, 10.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # skipped-window counts
        return make_windows(dataclasses.replace(match, tracking=tracking), obs_s=config.obs_s,
                            pred_s=config.pred_s, stride_s=stride_s)


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
        cls = GENERATORS[name]
        variants = {}
        label = name
        if name == "diffusion":
            label = "diffusion [DDPM 100 steps]"
            variants = {f"diffusion [DDIM {FAST_SAMPLER_STEPS} steps]": {"sampler": "ddim",
                                                                        "sample_steps": FAST_SAMPLER_STEPS}}
        encoder = "-" if name == "transformer" else "mpnn"
        rows.append(Entry(label, name, encoder, lambda c=cls, s=sizes[name]: c(c.config_class(**s)), variants))
    return rows


def train_with_budget(model: TrajectoryModel, train: TrajectoryWindows, config: BenchmarkConfig) -> tuple[float, int]:
    """Train with the common Lightning module for ``budget_s`` seconds; returns (seconds, optimiser steps)."""
    if not model.trainable:
        return 0.0, 0
    L.seed_everything(config.seed, verbose=False)
    module = TrajectoryLightningModule(model, config.learning_rate)
    data = WindowDataModule(train, None, batch_size=config.batch_size, seed=config.seed)
    levels = {n: logging.getLogger(n).level for n in ("lightning.pytorch", "lightning.fabric")}
    for name in levels:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trainer = L.Trainer(
                max_epochs=-1, max_time={"seconds": config.budget_s}, accelerator="cpu", devices=1,
                gradient_clip_val=5.0, enable_progress_bar=False, enable_model_summary=False,
                enable_checkpointing=False, logger=False, limit_val_batches=0, num_sanity_val_steps=0,
            )
            start = time.perf_counter()
            trainer.fit(module, datamodule=data)
            elapsed = time.perf_counter() - start
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    model.eval()
    return elapsed, int(trainer.global_step)


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
        train_s, steps = train_with_budget(model, data.train, config)
        params = sum(p.numel() for p in model.parameters())
        say(f"scoring {entry.label}")
        for label, overrides in {entry.label: {}, **entry.variants}.items():
            model.config = dataclasses.replace(model.config, **overrides) if overrides else model.config
            for row in evaluate_model(label, model, data.tests, config):
                rows.append({**row, "family": entry.family, "encoder": entry.encoder, "params": params,
                             "train_s": train_s, "train_steps": steps})
    table = pl.DataFrame(rows)
    order = ["data", "scenario", "model", "family", "encoder"]
    return table.select(order + [c for c in table.columns if c not in order])


def with_context(table: pl.DataFrame, config: BenchmarkConfig) -> pl.DataFrame:
    """Add the run settings as constant columns (so a saved table says how it was made)."""
    return table.with_columns(
        pl.lit(config.budget_s).alias("budget_s"), pl.lit(config.hidden).alias("hidden"),
        pl.lit(config.pred_s).alias("horizon_s"),
    )


def to_markdown(table: pl.DataFrame, config: BenchmarkConfig) -> str:
    """The table as markdown: one block per (data, scenario), constant velocity first, then by ADE."""
    k = config.n_samples
    lines = [
        f"Backbones at {config.pred_s:g} s, {config.budget_s:g} s training budget each, hidden {config.hidden}. "
        "`simulated` rows: a held-out simulated match (soccerai synthesizer); `real (Last Row)` rows: real tracking. "
        "Errors in metres over the 22 players.",
        "",
        f"| data | scenario | model | ADE | FDE | minADE_{k} | minFDE_{k} | params | train s | steps | sample ms/window |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    ranked = table.with_columns((pl.col("family") != "baseline").alias("_not_cv")).sort(
        ["data", "scenario", "_not_cv", "ade"], descending=[True, False, False, False]
    )
    for r in ranked.iter_rows(named=True):
        lines.append(
            f"| {r['data']} | {r['scenario']} | {r['model']} | {r['ade']:.2f} | {r['fde']:.2f} | "
            f"{r[f'min_ade_{k}']:.2f} | {r[f'min_fde_{k}']:.2f} | {r['params']:,} | {r['train_s']:.0f} | "
            f"{r['train_steps']} | {r['sample_ms']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def result_line(table: pl.DataFrame, config: BenchmarkConfig, data: str = "simulated",
                scenario: str = "ghosting") -> str:
    """``RESULT key=value ...``: minADE_K of every model on one (data, scenario) block, and the best model."""
    import re

    k = config.n_samples
    block = table.filter((pl.col("data") == data) & (pl.col("scenario") == scenario)).sort(f"min_ade_{k}")
    if block.height == 0:
        return f"RESULT data={data} scenario={scenario} models=0"
    keys = [re.sub(r"[^a-z0-9]+", "_", str(m).lower()).strip("_") for m in block.get_column("model")]
    values = block.get_column(f"min_ade_{k}").to_list()
    pairs = " ".join(f"{key}_minade{k}={value:.3f}" for key, value in zip(keys, values, strict=True))
    return f"RESULT data={data} scenario={scenario} best={keys[0]} {pairs}"


def save_table(table: pl.DataFrame, config: BenchmarkConfig, out_dir: Path) -> tuple[Path, Path]:
    """Write ``backbones.md`` and ``backbones.parquet`` atomically into ``out_dir``."""
    markdown, parquet = out_dir / "backbones.md", out_dir / "backbones.parquet"
    with atomic_path(markdown, ".md") as tmp:
        tmp.write_text(to_markdown(table, config))
    write_parquet_atomic(with_context(table, config), parquet)
    return markdown, parquet

