"""One function per step per match: read the step's inputs, write its outputs atomically, return what it wrote.

Every step function takes a :class:`StepTask` (picklable: it crosses into worker processes or Ray tasks) and
returns a :class:`StepOutcome`. Steps never touch the ledger; the runner's parent process records outcomes.
Output paths are relative to the pipeline's state folder. A step that fails on bad input raises
:class:`soccerai.errors.InvalidInputError` / :class:`~soccerai.errors.InvalidTrackingError` (the runner
quarantines the match when that happens in ``ingest``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import polars as pl

from soccerai.data.store import read_match, write_match
from soccerai.match.schema import BALL_ID, SHOT
from soccerai.pipeline.artifacts import save_windows, write_json_atomic, write_parquet_atomic

MATCH_FILE = "match.parquet"



def step_backends() -> ModuleType:
    """:mod:`soccerai.pipeline.backends`, the step implementations, imported on a worker's first step.

    The one deferred import of the pipeline: the backends load the model stack (torch, lightning), which the
    planner, ``pipeline status`` and a cron job's start (``python -m soccerai.pipeline``) do not need.
    """
    from soccerai.pipeline import backends

    return backends


@dataclass(frozen=True)
class StepTask:
    """Everything one step needs for one match."""

    step: str
    match_key: str
    files: tuple[Path, ...]
    source_hash: str
    state_dir: Path
    params: dict[str, Any] = field(default_factory=dict)
    model_checkpoint: Path | None = None

    @property
    def match_dir(self) -> Path:
        return self.state_dir / "matches" / self.match_key

    def out(self, name: str) -> Path:
        return self.match_dir / name

    def rel(self, path: Path) -> str:
        return path.relative_to(self.state_dir).as_posix()


@dataclass(frozen=True)
class StepOutcome:
    """What a step wrote (name -> path relative to the state folder), a few facts for the report, its duration."""

    outputs: dict[str, str]
    info: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def ingest(task: StepTask) -> StepOutcome:
    """Provider files -> canonical, validated ``match.parquet`` (tagged with the source hash).

    ``params["tracking"]`` ("simulated"/"real") overrides the simulated flag, which only EPTS metadata can carry.
    """
    match = step_backends().load_match_files(task.files)
    label = task.params.get("tracking", "auto")
    if label != "auto" and match.metadata.simulated != (label == "simulated"):
        match = replace(match, metadata=replace(match.metadata, simulated=label == "simulated"))
    path = write_match(match, task.out(MATCH_FILE), source_hash=task.source_hash)
    info = {
        "match_id": match.match_id,
        "provider": match.metadata.provider,
        "simulated": match.metadata.simulated,
    }
    return StepOutcome({"match": task.rel(path)}, info)


def _speeds(tracking: pl.DataFrame, frame_rate: float) -> np.ndarray:
    """Player speeds (m/s) from consecutive observations: |dp| / (dframe / frame_rate), gaps respected."""
    moves = (
        tracking.filter(pl.col("object_id") != BALL_ID)
        .sort("object_id", "period", "frame")
        .with_columns(
            dx=pl.col("x").diff().over("object_id", "period"),
            dy=pl.col("y").diff().over("object_id", "period"),
            dt=(pl.col("frame").diff().over("object_id", "period") / frame_rate),
        )
        .drop_nulls(["dx", "dt"])
        .filter(pl.col("dt") > 0)
    )
    return ((moves["dx"] ** 2 + moves["dy"] ** 2).sqrt() / moves["dt"]).to_numpy()


def summary(task: StepTask) -> StepOutcome:
    """Facts about a stored match (size, coverage, speeds, mean positions) for the report -> ``summary.json``."""
    match = read_match(task.out(MATCH_FILE))
    tr, meta = match.tracking, match.metadata
    frames = tr.select("period", "frame").unique().height
    ball_frames = tr.filter(pl.col("object_id") == BALL_ID).select("period", "frame").unique().height
    speeds = _speeds(tr, meta.frame_rate)
    positions = (
        tr.filter(pl.col("object_id") != BALL_ID)
        .group_by("object_id", "team")
        .agg(pl.col("x").mean(), pl.col("y").mean())
        .sort("object_id")
    )
    shots = 0 if match.events is None else match.events.filter(pl.col("type") == SHOT).height
    facts = {
        "match_id": meta.match_id,
        "provider": meta.provider,
        "simulated": meta.simulated,
        "frames": frames,
        "duration_s": round(frames / meta.frame_rate, 1),
        "players": {team: positions.filter(pl.col("team") == team).height for team in ("home", "away")},
        "ball_coverage": round(ball_frames / frames, 4) if frames else 0.0,
        "shots": shots,
        "speed_p50": _quantile(speeds, 0.5),
        "speed_p99": _quantile(speeds, 0.99),
        "pitch": [meta.pitch_length, meta.pitch_width],
        "mean_positions": positions.to_dicts(),
    }
    path = write_json_atomic(facts, task.out("summary.json"))
    return StepOutcome({"summary": task.rel(path)}, {k: v for k, v in facts.items() if k != "mean_positions"})


def _quantile(values: np.ndarray, q: float) -> float | None:
    return round(float(np.quantile(values, q)), 3) if values.size else None


def windows(task: StepTask) -> StepOutcome:
    """The match's model windows (``obs_s`` + ``pred_s`` at 10 Hz, every ``stride_s``) -> ``windows.npz``."""
    p = task.params
    min_players = int(p.get("min_players", 6))
    wins = step_backends().make_windows(task.out(MATCH_FILE), p["obs_s"], p["pred_s"], p["stride_s"], min_players)
    path = save_windows(wins, task.out("windows.npz"))
    return StepOutcome({"windows": task.rel(path)},
                       {"windows": len(wins), "min_players": min_players, "simulated": wins.simulated})


def obso(task: StepTask) -> StepOutcome:
    """OBSO of every shot of the match (real or simulated tracking, as the match says) -> ``obso.parquet``."""
    table = step_backends().match_obso(task.out(MATCH_FILE), task.params)
    path = write_parquet_atomic(table, task.out("obso.parquet"))
    return StepOutcome({"obso": task.rel(path)}, {"rows": table.height})


def cobso(task: StepTask) -> StepOutcome:
    """C-OBSO of the match's off-ball attackers with the current model -> ``cobso.parquet``."""
    table = step_backends().match_cobso(task.out(MATCH_FILE), task.model_checkpoint, task.params)
    path = write_parquet_atomic(table, task.out("cobso.parquet"))
    return StepOutcome({"cobso": task.rel(path)}, {"rows": table.height})


MATCH_STEP_FUNCTIONS: dict[str, Callable[[StepTask], StepOutcome]] = {
    "ingest": ingest,
    "summary": summary,
    "windows": windows,
    "obso": obso,
    "cobso": cobso,
}
STEP_VERSIONS = {"ingest": 2, "summary": 1, "windows": 1, "obso": 3, "cobso": 2, "train": 1, "evaluate": 1}
"""Bump a step's version when its code changes what it writes: every match then reruns that step."""


def run_step(task: StepTask) -> StepOutcome:
    """Run one step (the function workers execute); times it."""
    start = time.perf_counter()
    outcome = MATCH_STEP_FUNCTIONS[task.step](task)
    return StepOutcome(outcome.outputs, outcome.info, time.perf_counter() - start)
