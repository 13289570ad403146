"""Model checkpoints without pickle: ``<dir>/model.safetensors`` (weights) + ``<dir>/config.json``.

``config.json`` records the model name, its config dataclass, the tensor names and shapes, the sha256 of the
weights file and free-form metadata (training data, epochs, metrics). Loading verifies the hash before reading
the weights and then loads them strictly; any mismatch raises :class:`soccerai.errors.CheckpointError`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from soccerai.errors import CheckpointError, SoccerAIError
from soccerai.models.base import TrajectoryModel
from soccerai.models.registry import build_model
from soccerai.store import atomic_path, write_json_atomic

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
FORMAT_VERSION = 1


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_checkpoint(model: TrajectoryModel, directory: str | Path, metadata: dict[str, Any] | None = None) -> Path:
    """Write weights then config (each atomically) into ``directory``; returns the directory."""
    directory = Path(directory)
    tensors = {name: t.detach().cpu().contiguous() for name, t in model.state_dict().items()}
    weights = directory / WEIGHTS_FILE
    with atomic_path(weights, suffix=".safetensors") as tmp:
        save_file(tensors, str(tmp))
    record = {
        "format_version": FORMAT_VERSION,
        "model": model.name,
        "config": model.config_dict(),
        "tensors": {name: list(t.shape) for name, t in tensors.items()},
        "weights_sha256": sha256_of(weights),
        "metadata": metadata or {},
    }
    write_json_atomic(record, directory / CONFIG_FILE)
    return directory


def read_checkpoint_record(directory: str | Path) -> dict[str, Any]:
    """The parsed ``config.json`` of a checkpoint (no weights read)."""
    config_path = Path(directory) / CONFIG_FILE
    if not config_path.is_file():
        raise CheckpointError("checkpoint config.json not found", config_path)
    try:
        record = json.loads(config_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"config.json is not valid JSON ({exc.__class__.__name__})", config_path) from exc
    missing = {"model", "config", "tensors", "weights_sha256"} - set(record)
    if missing:
        raise CheckpointError(f"config.json lacks {', '.join(sorted(missing))}", config_path)
    return record


def load_checkpoint(directory: str | Path) -> tuple[TrajectoryModel, dict[str, Any]]:
    """Rebuild the model from ``config.json`` and load verified weights; returns ``(model, record)``."""
    directory = Path(directory)
    record = read_checkpoint_record(directory)
    weights = directory / WEIGHTS_FILE
    if not weights.is_file():
        raise CheckpointError("checkpoint weights model.safetensors not found", weights)
    if sha256_of(weights) != record["weights_sha256"]:
        raise CheckpointError("weights sha256 does not match config.json (file changed or tampered with)", weights)
    try:
        model = build_model(record["model"], dict(record["config"]))
    except SoccerAIError as exc:
        raise CheckpointError(f"config.json describes no buildable model: {exc}", directory / CONFIG_FILE) from exc
    try:
        tensors = load_file(str(weights))
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"unreadable safetensors file ({exc})", weights) from exc
    _check_tensors(model, tensors, record, weights)
    model.load_state_dict(tensors, strict=True)
    model.eval()
    return model, record


def _check_tensors(model: TrajectoryModel, tensors: dict, record: dict[str, Any], weights: Path) -> None:
    expected = {name: list(t.shape) for name, t in model.state_dict().items()}
    found = {name: list(t.shape) for name, t in tensors.items()}
    if found != record["tensors"]:
        raise CheckpointError("tensors in the weights file differ from those listed in config.json", weights)
    if found != expected:
        missing = sorted(set(expected) - set(found))
        extra = sorted(set(found) - set(expected))
        wrong = sorted(n for n in set(found) & set(expected) if found[n] != expected[n])
        detail = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing[:3])}" if missing else "",
                f"unexpected {', '.join(extra[:3])}" if extra else "",
                f"shape mismatch {', '.join(wrong[:3])}" if wrong else "",
            )
            if part
        )
        raise CheckpointError(f"weights do not fit the {record['model']} config: {detail}", weights)
