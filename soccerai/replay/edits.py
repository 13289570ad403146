"""What-if edits of a scene: move a player (and his history) before simulating what follows."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from soccerai.errors import InvalidParameterError
from soccerai.replay.scene import Scene
from soccerai.trajectory_windows import BALL_INDEX


def edit_player(scene: Scene, index: int, agent: int, position: tuple[float, float],
                velocity: tuple[float, float]) -> Scene:
    """A copy of ``scene`` with ``agent`` moved to ``position`` moving at ``velocity`` at frame ``index``.

    The agent's whole path up to ``index`` is translated by the same offset (so the history a model sees stays
    physically consistent) and his velocity at ``index`` is replaced. Frames after ``index`` are left alone: they
    are what the simulation predicts.
    """
    scene.check_index(index)
    if not 0 <= agent < BALL_INDEX or not scene.valid[index, agent]:
        raise InvalidParameterError(f"agent {agent} is not a tracked player at frame index {index}")
    length, width = scene.pitch
    x, y = position
    if not (abs(x) <= length / 2 + 5 and abs(y) <= width / 2 + 5):
        raise InvalidParameterError(f"position ({x:.1f}, {y:.1f}) m is off the pitch")
    if not np.all(np.isfinite(velocity)) or np.hypot(*velocity) > 12.0:
        raise InvalidParameterError(f"velocity {velocity} m/s is not a human speed (max 12 m/s)")
    positions, velocities = scene.positions.copy(), scene.velocities.copy()
    offset = np.asarray(position) - positions[index, agent]
    positions[: index + 1, agent] += offset
    velocities[index, agent] = velocity
    note = f"{scene.labels[agent]} moved to ({x:.1f}, {y:.1f}) at {velocity[0]:.1f},{velocity[1]:.1f} m/s"
    return replace(scene, positions=positions, velocities=velocities, edits=[*scene.edits, note])


