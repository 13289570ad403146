"""The global steps: train (or fine-tune) the chosen model on every training match's windows, evaluate it on the
held-out matches. Each trained checkpoint is a version: an id, its parent, its metrics and the matches it saw.

Held-out matches are chosen by a stable hash of the match key when the pipeline first sees them
(:func:`assign_holdout`) and the choice is recorded in the ledger, so adding matches never moves an old match
between the training and the evaluation sets; evaluation also refuses any match in the model's lineage.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from soccerai.errors import SoccerAIError
from soccerai.pipeline.artifacts import write_json_atomic
from soccerai.pipeline.steps import StepOutcome, step_backends


def unit_hash(key: str) -> float:
    """A match key's stable position in [0, 1): the first 32 bits of its sha256 over 2^32."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 2**32


def assign_holdout(
    keys: list[str], fraction: float, assigned: dict[str, bool] | None = None, trained: set[str] | frozenset = frozenset()
) -> dict[str, bool]:
    """Every key's side (True: held out), keeping ``assigned`` (recorded earlier) exactly as it is.

    A new key is held out when ``unit_hash(key) < fraction``. Two exceptions, both only among the NEW keys (which
    no model has seen): a key in ``trained`` (a model already trained on it) goes to training, and when one side
    would be empty with two or more matches known, the new key with the extreme hash moves to it. A recorded key
    never moves, so a match trained on can never become a held-out match.
    """
    sides = dict(assigned or {})
    new = sorted(set(keys) - set(sides))
    fresh = {k: k not in trained and unit_hash(k) < fraction for k in new}
    sides.update(fresh)
    movable = [k for k in new if k not in trained]
    if len(sides) >= 2 and movable:
        if not any(sides.values()):
            sides[min(movable, key=unit_hash)] = True
        elif all(sides.values()):
            sides[max(movable, key=unit_hash)] = False
    return sides


def split_holdout(
    keys: list[str], fraction: float, assigned: dict[str, bool] | None = None
) -> tuple[list[str], list[str]]:
    """(train, holdout) of ``keys`` under :func:`assign_holdout`."""
    sides = assign_holdout(keys, fraction, assigned)
    keys = sorted(keys)
    return [k for k in keys if not sides[k]], [k for k in keys if sides[k]]


class HoldoutLeakError(SoccerAIError):
    """A model would be evaluated on a match it or one of its ancestors was trained on."""


@dataclass(frozen=True)
class TrainTask:
    """Train a new model version ``model_id`` into ``state_dir/models/<model_id>``."""

    model_id: str
    state_dir: Path
    windows: tuple[Path, ...]
    settings: dict[str, Any] = field(default_factory=dict)
    init_checkpoint: Path | str | None = None
    """The previous model (fine-tune), the job's ``base_model`` (a folder or shipped name), or None: fresh weights."""


def train(task: TrainTask) -> StepOutcome:
    """Train into a temporary folder, then rename it into place (a crash never leaves half a checkpoint)."""
    start = time.perf_counter()
    final = task.state_dir / "models" / task.model_id
    tmp = final.with_name(f".{task.model_id}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        info = step_backends().train_model(task.windows, tmp, task.settings, task.init_checkpoint)
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
    lineage_matches: frozenset[str] = frozenset()
    """Every match the model or an ancestor trained on (from the ledger); none may be evaluated on."""


def evaluate(task: EvaluateTask) -> StepOutcome:
    """Metrics of the model on the held-out matches -> ``models/<id>/metrics.json``."""
    start = time.perf_counter()
    leaked = sorted({p.parent.name for p in task.windows} & task.lineage_matches)
    if leaked:
        raise HoldoutLeakError(f"model {task.model_id} (or an ancestor) trained on {', '.join(leaked[:5])}; "
                               "refusing to evaluate it there")
    checkpoint = task.state_dir / "models" / task.model_id
    metrics = step_backends().evaluate_model(checkpoint, task.windows)
    path = write_json_atomic(
        {"model_id": task.model_id, "metrics": metrics, "holdout": [p.parent.name for p in task.windows]},
        checkpoint / "metrics.json",
    )
    return StepOutcome(
        {"metrics": path.relative_to(task.state_dir).as_posix()},
        {"metrics": metrics},
        time.perf_counter() - start,
    )
