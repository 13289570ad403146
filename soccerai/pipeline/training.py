"""The global steps: train (or fine-tune) the chosen model on every training match's windows, evaluate it on the
held-out matches. Each trained checkpoint is a version: an id, its parent, its metrics and the matches it saw.

Held-out matches are chosen by a stable hash of the match key (:func:`is_holdout`), so adding matches never moves
an old match between the training and the evaluation sets.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from soccerai.pipeline import backends
from soccerai.pipeline.artifacts import write_json_atomic
from soccerai.pipeline.steps import StepOutcome


def _unit_hash(key: str) -> float:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 2**32


def split_holdout(keys: list[str], fraction: float) -> tuple[list[str], list[str]]:
    """(train, holdout): a match is held out when ``hash(key) < fraction`` (hash in [0, 1)).

    With two or more matches both sides are made non-empty (the extreme hashes move over).
    """
    keys = sorted(keys)
    holdout = [k for k in keys if _unit_hash(k) < fraction]
    if len(keys) >= 2 and not holdout:
        holdout = [min(keys, key=_unit_hash)]
    if len(keys) >= 2 and len(holdout) == len(keys):
        holdout.remove(max(holdout, key=_unit_hash))
    return [k for k in keys if k not in holdout], holdout


@dataclass(frozen=True)
class TrainTask:
    """Train a new model version ``model_id`` into ``state_dir/models/<model_id>``."""

    model_id: str
    state_dir: Path
    windows: tuple[Path, ...]
    settings: dict[str, Any] = field(default_factory=dict)
    init_checkpoint: Path | None = None


def train(task: TrainTask) -> StepOutcome:
    """Train into a temporary folder, then rename it into place (a crash never leaves half a checkpoint)."""
    start = time.perf_counter()
    final = task.state_dir / "models" / task.model_id
    tmp = final.with_name(f".{task.model_id}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        info = backends.train_model(task.windows, tmp, task.settings, task.init_checkpoint)
        write_json_atomic({"model_id": task.model_id, **info}, tmp / "model.json")
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rel = final.relative_to(task.state_dir).as_posix()
    return StepOutcome({"checkpoint": rel}, dict(info), time.perf_counter() - start)


@dataclass(frozen=True)
class EvaluateTask:
    """Evaluate checkpoint ``model_id`` on held-out windows."""

    model_id: str
    state_dir: Path
    windows: tuple[Path, ...]


def evaluate(task: EvaluateTask) -> StepOutcome:
    """Metrics of the model on the held-out matches -> ``models/<id>/metrics.json``."""
    start = time.perf_counter()
    checkpoint = task.state_dir / "models" / task.model_id
    metrics = backends.evaluate_model(checkpoint, task.windows)
    path = write_json_atomic(
        {"model_id": task.model_id, "metrics": metrics, "holdout": [p.parent.name for p in task.windows]},
        checkpoint / "metrics.json",
    )
    return StepOutcome(
        {"metrics": path.relative_to(task.state_dir).as_posix()},
        {"metrics": metrics},
        time.perf_counter() - start,
    )
