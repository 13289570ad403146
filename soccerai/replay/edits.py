"""What-if edits of a scene: move a player (and his history) before simulating what follows.

Positions are pitch metres in the scene's frame (centre spot at 0, the attacking team towards +x), which is what
the replay figure's axes show, so a click or a drag on the chart is an edit as it is. An :class:`EditList` is
immutable and hashable (a cache key): ``add`` and ``undo`` return new lists and ``apply`` replays every edit, in
order, on the unedited scene, so undo restores the scene exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from soccerai.errors import InvalidParameterError
from soccerai.match.schema import MAX_PLAYER_SPEED
from soccerai.replay.players import player_info
from soccerai.replay.scene import Scene
from soccerai.windows.container import BALL_INDEX

OFF_PITCH_MARGIN_M = 5.0
"""A player may be placed up to this far beyond the touch and goal lines."""


def edit_player(scene: Scene, index: int, agent: int, position: tuple[float, float],
                velocity: tuple[float, float] | None = None) -> Scene:
    """A copy of ``scene`` with ``agent`` moved to ``position`` moving at ``velocity`` at frame ``index``.

    The agent's whole path up to ``index`` is translated by the same offset (so the history a model sees stays
    physically consistent) and his velocity at ``index`` is replaced (kept when ``velocity`` is None). Frames after
    ``index`` are left alone: they are what the simulation predicts.
    """
    index = scene.check_index(index)
    if isinstance(agent, bool) or not isinstance(agent, int | np.integer) or not 0 <= agent < BALL_INDEX \
            or not scene.valid[index, agent]:
        raise InvalidParameterError(f"agent {agent} is not a tracked player at frame index {index}")
    x, y = (float(v) for v in position)
    if not (np.isfinite([x, y]).all() and scene.pitch.contains(x, y, OFF_PITCH_MARGIN_M)):
        raise InvalidParameterError(f"position ({x:.1f}, {y:.1f}) m is off the pitch")
    velocity = tuple(scene.velocities[index, agent]) if velocity is None else velocity
    if not np.all(np.isfinite(velocity)) or np.hypot(*velocity) > MAX_PLAYER_SPEED:
        raise InvalidParameterError(f"velocity {velocity} m/s is not a human speed (max {MAX_PLAYER_SPEED:g} m/s)")
    positions, velocities = scene.positions.copy(), scene.velocities.copy()
    offset = np.asarray([x, y]) - positions[index, agent]
    positions[: index + 1, agent] += offset
    velocities[index, agent] = velocity
    info = player_info(scene, int(agent))
    who = info.label() if info is not None else scene.labels[agent]
    note = f"{who} moved to ({x:.1f}, {y:.1f}) m at {scene.clock(index)}"
    return replace(scene, positions=positions, velocities=velocities, edits=[*scene.edits, note])


@dataclass(frozen=True)
class Edit:
    """Agent slot ``agent`` placed at ``position`` (m) on scene frame ``frame``; ``velocity`` None keeps his own."""

    agent: int
    frame: int
    position: tuple[float, float]
    velocity: tuple[float, float] | None = None


@dataclass(frozen=True)
class EditList:
    """An immutable, hashable list of what-if edits with undo (see the module docstring)."""

    edits: tuple[Edit, ...] = ()

    def add(self, agent: int, frame: int, position: tuple[float, float],
            velocity: tuple[float, float] | None = None) -> EditList:
        """A new list with one more edit (checked when applied: :func:`edit_player`)."""
        x, y = (float(v) for v in position)
        vel = None if velocity is None else (float(velocity[0]), float(velocity[1]))
        return EditList((*self.edits, Edit(int(agent), int(frame), (x, y), vel)))

    def undo(self) -> EditList:
        """A new list without the last edit (the empty list stays empty)."""
        return EditList(self.edits[:-1])

    def apply(self, scene: Scene) -> Scene:
        """The scene with every edit applied in order (:func:`edit_player`); the scene itself is not changed."""
        for edit in self.edits:
            scene = edit_player(scene, edit.frame, edit.agent, edit.position, edit.velocity)
        return scene

    def check(self, scene: Scene) -> EditList:
        """``self`` when every edit applies to ``scene``; the first that does not raises :class:`InvalidParameterError`."""
        self.apply(scene)
        return self

    def __len__(self) -> int:
        return len(self.edits)

    def __iter__(self) -> Iterator[Edit]:
        return iter(self.edits)
