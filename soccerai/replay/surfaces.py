"""Overlay surfaces of a scene: pitch control, OBSO and each player's OBSO per frame (:mod:`soccerai.evaluate.obso`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from soccerai.errors import InvalidParameterError
from soccerai.evaluate.obso import ScoreModel, obso
from soccerai.evaluate.obso import player_values as player_obso_values
from soccerai.evaluate.pitch_control import Grid
from soccerai.replay.scene import Scene, scene_tensors


@dataclass
class SceneSurfaces:
    """Overlay data of every scene frame: pitch control and OBSO ``[F, ny, nx]``, players' OBSO ``[F, 23]``."""

    grid: Grid
    control: np.ndarray
    obso: np.ndarray
    player_obso: np.ndarray


def scene_surfaces(scene: Scene, grid: Grid | None = None, score_model: ScoreModel = "potential",
                   stride: int = 1) -> SceneSurfaces:
    """Pitch control, OBSO and each player's OBSO for the scene (:func:`soccerai.evaluate.obso.obso`).

    ``stride > 1`` computes every ``stride``-th frame only and holds each surface until the next one (overlays at
    ``10 / stride`` Hz). Both score models are cheap now: OBSO with the "potential" model costs ~2 ms of CPU per
    frame on a 50 x 32 grid, the "distance" model ~1.5 ms (``benchmarks/obso.py``).
    """
    if stride < 1:
        raise InvalidParameterError(f"stride must be at least 1, got {stride}")
    grid = grid or Grid()
    positions, velocities, valid = scene_tensors(scene)
    keep = torch.arange(0, len(scene), stride)
    result = obso(positions[keep], velocities[keep], valid[keep], grid=grid, score_model=score_model)
    hold = torch.arange(len(scene)) // stride
    player = player_obso_values(result.surface[hold], positions, valid, grid)
    return SceneSurfaces(grid, result.control[hold].numpy(), result.surface[hold].numpy(), player.numpy())
