"""Pretrained forecasters shipped with soccerai, loaded by name (``gvrnn-sim-skillcorner``, the default) or by folder.

Shipped models live in the repository's ``data/models/<name>/`` (a :mod:`soccerai.training.checkpoint` folder: safetensors
weights + JSON manifest whose metadata records the training data, split, steps and commit). ``soccerai predict /
evaluate / cobso --checkpoint gvrnn-skillcorner`` and the dashboard take either a name from :func:`available` or a
checkpoint folder.

A checkpoint records the frame rate and agent count it was trained on (``metadata.fps``, ``metadata.n_agents``,
written by :func:`soccerai.training.checkpoint.save_checkpoint`; a checkpoint without them is refused when read);
:func:`check_compatible` refuses windows of another rate or layout (a model trained at 25 Hz integrates
``p += v * 0.04 s``; used at 10 Hz it would move every agent 2.5x too far).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from soccerai.errors import CheckpointError, InvalidParameterError
from soccerai.models.base import TrajectoryModel
from soccerai.training.checkpoint import MANIFEST_FILE, PROVENANCE, load_checkpoint
from soccerai.windows.container import FPS, N_AGENTS, TrajectoryWindows

SHIPPED_DIR = Path(__file__).resolve().parents[2] / "data" / "models"
"""Where the repository keeps its shipped models."""
DEFAULT_MODEL = "gvrnn-sim-skillcorner"
"""Pre-trained on SIMULATED matches, fine-tuned on the REAL SkillCorner first half (``data/models/README.md``); it beat
``gvrnn-skillcorner`` (real first half only, one-step ELBO) on the real second half: energy score 3.25 vs 4.54,
per-scene minADE_20 2.98 vs 3.30 m (``benchmarks/forecast.py``)."""


def available() -> list[str]:
    """Names of the shipped models (folders of :data:`SHIPPED_DIR` holding a checkpoint manifest)."""
    if not SHIPPED_DIR.is_dir():
        return []
    return sorted(p.name for p in SHIPPED_DIR.iterdir() if (p / MANIFEST_FILE).is_file())


def resolve(name_or_path: str | Path) -> Path:
    """The checkpoint folder of a shipped model's name, or ``name_or_path`` itself when it is a folder."""
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return path
    shipped = SHIPPED_DIR / str(name_or_path)
    if str(name_or_path) in available():
        return shipped
    names = ", ".join(available()) or "none shipped"
    raise InvalidParameterError(f"{name_or_path!r} is neither a checkpoint folder nor a pretrained model ({names})")


def check_compatible(record: dict[str, Any], windows: TrajectoryWindows | None = None, fps: float = FPS,
                     aggregation: str | None = None) -> None:
    """Raise :class:`CheckpointError` when the checkpoint was trained at another frame rate or agent count than
    ``fps`` / the 23-agent layout, or for a horizon shorter than the windows' (when the model has one).

    The message aggregation is the model's own config (a ``sum`` checkpoint runs as ``sum``); only a caller that
    demands one (``aggregation="mean"``) gets a checkpoint of the other refused."""
    meta = record.get("metadata", {})
    lacking = [key for key in PROVENANCE if key not in meta]
    if lacking:
        raise CheckpointError(f"checkpoint lacks provenance {', '.join(lacking)}: cannot tell what it was trained on")
    trained_fps = float(meta["fps"])
    if abs(trained_fps - fps) > 1e-6:
        raise CheckpointError(f"checkpoint trained at {trained_fps:g} Hz, the data is at {fps:g} Hz")
    trained_agents = int(meta["n_agents"])
    if trained_agents != N_AGENTS:
        raise CheckpointError(f"checkpoint trained on {trained_agents} agents, the layout has {N_AGENTS}")
    trained_aggregation = record.get("config", {}).get("aggregation")
    if aggregation is not None and trained_aggregation is not None and trained_aggregation != aggregation:
        raise CheckpointError(f"checkpoint aggregation is {trained_aggregation!r}, {aggregation!r} was demanded")
    horizon = record.get("config", {}).get("horizon")
    if windows is not None and horizon is not None and windows.pred_len > int(horizon):
        raise CheckpointError(f"checkpoint forecasts {horizon} frames, the windows need {windows.pred_len}")


def load(name_or_path: str | Path, windows: TrajectoryWindows | None = None) -> tuple[TrajectoryModel, dict[str, Any]]:
    """Load a shipped model by name or a checkpoint folder, verified and checked against ``windows``."""
    model, record = load_checkpoint(resolve(name_or_path))
    check_compatible(record, windows)
    return model, record
