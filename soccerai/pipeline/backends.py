"""The one place where the pipeline calls the rest of soccerai.

Each step of :mod:`soccerai.pipeline.steps` calls exactly one function here, and each function here calls one
public function of another soccerai module. This module loads the model stack (torch, lightning): the step modules
import it on a worker's first step (:func:`soccerai.pipeline.steps.step_backends`), so that planning a run, ``pipeline
status`` and a cron job's start stay fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import polars as pl

from soccerai.data.load import load_any
from soccerai.data.store import read_match
from soccerai.errors import CheckpointError
from soccerai.evaluate.match_obso import match_cobso as score_match
from soccerai.evaluate.match_obso import shot_obso
from soccerai.evaluate.metrics import compare_models
from soccerai.match.schema import Match
from soccerai.models.registry import build_model
from soccerai.pipeline.artifacts import load_windows_file
from soccerai.training import pretrained
from soccerai.training.checkpoint import load_checkpoint, save_checkpoint
from soccerai.training.loop import TrainConfig, fit
from soccerai.windows.container import MIN_PLAYERS, TrajectoryWindows
from soccerai.windows.cutter import make_windows as cut_windows
from soccerai.windows.layout import to_model_rate


def load_match_files(files: Sequence[Path]) -> Match:
    """Read one match's provider files (or one canonical parquet file): :func:`soccerai.data.load.load_any`."""
    return load_any(list(files))


def make_windows(match_path: Path, obs_s: float, pred_s: float, stride_s: float,
                 min_players: int = MIN_PLAYERS) -> TrajectoryWindows:
    """Model windows of one stored match: at model rate (``soccerai.windows.layout.to_model_rate``), cut in windows
    where at least ``min_players`` of the 22 players are tracked (the others masked)."""
    return cut_windows(to_model_rate(read_match(match_path)), obs_s=obs_s, pred_s=pred_s, stride_s=stride_s,
                       min_players=min_players)


OBSO_SCHEMA = {
    "event_id": pl.String(),
    "source": pl.String(),
    "period": pl.Int64(),
    "frame": pl.Int64(),
    "scored_frame": pl.Int64(),
    "team": pl.String(),
    "shooter": pl.String(),
    "shooter_name": pl.String(),
    "result": pl.String(),
    "shooter_obso": pl.Float64(),
    "best_player": pl.String(),
    "best_obso": pl.Float64(),
    "tracking": pl.String(),
}


def match_obso(match_path: Path, options: dict[str, Any]) -> pl.DataFrame:
    """One row per shot of the match: OBSO of the shooter and of the best-placed attacker at the frame before it.

    Calls ``soccerai.evaluate.match_obso.shot_obso`` (the one per-shot OBSO: the last frame of the shot's C-OBSO window, so
    ``shooter_obso`` equals the C-OBSO step's ``real_obso``); ``options`` (the ``[obso]`` keys of
    ``soccerai.pipeline.config.OBSO_STEP_OPTIONS``) go to it. ``frame`` is the shot's frame, ``scored_frame`` the frame scored. A match without events (broadcast
    tracking, most providers) has its shots detected in the tracking (``soccerai.match.shots``); ``source`` says which
    (``events`` or ``detected``).
    """
    match = read_match(match_path)
    table = shot_obso(match, **options)
    return table.select(
        pl.col("shot_id").alias("event_id"),
        pl.col("shot_source").alias("source"),
        *[c for c in OBSO_SCHEMA if c not in ("event_id", "source", "tracking")],
        tracking=pl.lit(match.metadata.tracking_label),
    ).cast(OBSO_SCHEMA)


def match_cobso(match_path: Path, checkpoint: Path | None, options: dict[str, Any]) -> pl.DataFrame:
    """One row per (shot, off-ball attacker): C-OBSO with the model at ``checkpoint`` (None: constant velocity)."""
    model = load_checkpoint(checkpoint)[0] if checkpoint is not None else build_model("constant_velocity")
    match = read_match(match_path)
    pairs, _ = score_match(match, model, **options)
    return pairs.with_columns(pl.lit(match.metadata.tracking_label).alias("tracking"))


def _windows(files: Sequence[Path]) -> TrajectoryWindows:
    return TrajectoryWindows.concat([load_windows_file(p) for p in files])


def train_model(
    windows: Sequence[Path], out_dir: Path, settings: dict[str, Any], init: Path | None
) -> dict[str, Any]:
    """Train model ``settings["model"]`` from scratch (``init`` None) or fine-tune checkpoint ``init`` (a folder or a
    shipped model's name; it must hold a ``settings["model"]``); save to ``out_dir``.

    The fit is :func:`soccerai.training.loop.fit` (the one training loop): ``max_steps`` optimiser steps, no validation,
    no gradient clipping, seed 0 before a fresh model is built (reproducible weights); ``accelerator``/``devices``/
    ``strategy`` come from the settings (``strategy = "ddp_spawn"`` and ``devices = N`` for N GPUs from inside a
    pool worker). Returns what the model saw and its last loss.
    """
    data = _windows(windows)
    L.seed_everything(0, workers=True, verbose=False)  # before building: a fresh model's weights are seeded too
    if init is not None:
        init = pretrained.resolve(init)
        model = load_checkpoint(init)[0]
        if model.name != settings["model"]:
            raise CheckpointError(f"{init} holds a {model.name} model; the job trains {settings['model']}")
    else:
        model = build_model(settings["model"], settings.get("model_options") or None)
    config = TrainConfig(
        epochs=-1, max_steps=settings["max_steps"], batch_size=settings["batch_size"],
        learning_rate=settings["learning_rate"], gradient_clip=None, seed=0, accelerator=settings["accelerator"],
        devices=settings["devices"], strategy=settings["strategy"],
    )
    result = fit(model, data, None, config)
    record = {
        "model": settings["model"],
        "fine_tuned_from": str(init) if init else None,
        "n_windows": len(data),
        "matches": sorted(set(data.meta["match_id"].to_list())),
        "simulated": data.simulated,
        "steps": result.steps,
        "final_loss": result.final_loss,
    }
    save_checkpoint(result.model.cpu().eval(), out_dir, record)
    return record


def evaluate_model(checkpoint: Path, windows: Sequence[Path]) -> dict[str, float]:
    """Honest full-scene forecast errors (metres) of the checkpoint and of constant velocity on held-out windows."""
    model = load_checkpoint(checkpoint)[0].eval()
    data = _windows(windows)
    table = compare_models({"model": model, "cv": build_model("constant_velocity")}, data, n_samples=5)
    table = table.filter((pl.col("scenario") == "full_scene") & (pl.col("agents") == "players"))
    metrics: dict[str, float] = {"windows": float(len(data))}
    for row in table.to_dicts():
        for key in ("ade", "fde"):
            metrics[f"{key}_{row['model']}"] = float(row[key])
        min_ade = next(k for k in row if k.startswith("min_ade"))
        metrics[f"{min_ade}_{row['model']}"] = float(row[min_ade])
    return metrics
