"""Who is who in a scene: player names from the metadata and the roles of the C-OBSO setup (the per-player table
is :func:`soccerai.replay.tables.player_table`).

Roles (:func:`roles`) are THE assignment of :func:`soccerai.evaluate.cobso.shot_agents` (never a second copy):

* a **shot moment** (the scene knows its shooter, ``scene.shooter_id``, from the shot table): ONE assignment for the
  whole moment, read at the scene frame before the shot, so every frame shows the same shooter, A1, D1 and D2 as
  :func:`soccerai.evaluate.match_obso.shot_roles` does;
* elsewhere (attacks, free navigation): the ball carrier (the valid attacker nearest the ball,
  :func:`soccerai.evaluate.obso.on_ball_attacker`) and the assignment at the frame shown.

* **A1**: among the C-OBSO candidates (:func:`soccerai.evaluate.cobso.select_cobso_agents`: off-ball attackers in
  the attacking third, not the goalkeeper), the one with the highest OBSO;
* **D1**: A1's nearest defender; **D2**: the shooter's nearest defender.

Labels name players as the metadata does: ``"A1 - Müller (#25, RW)"``, never by an internal agent index.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from soccerai.errors import InvalidTrackingError
from soccerai.evaluate.cobso import CobsoAgents, shot_agents
from soccerai.evaluate.obso import obso
from soccerai.evaluate.pitch_control import Grid
from soccerai.replay.scene import MAX_LABEL, Scene, scene_tensors, shooter_at
from soccerai.windows.container import BALL_INDEX, N_PER_TEAM

MAX_NAME = 32
"""Player names shown are cut to this many characters (provider text is data, not layout)."""


@dataclass(frozen=True)
class PlayerInfo:
    """A player of a scene as the metadata names him (``slot`` is the agent index in the scene)."""

    slot: int
    object_id: str
    name: str
    short_name: str
    jersey: int | None
    position: str | None
    side: str  # "home" | "away"
    team: str  # the team's name

    def label(self, role: str | None = None) -> str:
        """``"A1 - Müller (#25, RW)"`` (``"Müller (#25, RW)"`` without a role)."""
        details = ", ".join(p for p in (f"#{self.jersey}" if self.jersey is not None else None,
                                        self.position if self.position not in (None, "", "UNK") else None) if p)
        text = f"{self.short_name} ({details})" if details else self.short_name
        return f"{role} - {text}" if role else text


def player_info(scene: Scene, slot: int) -> PlayerInfo | None:
    """The metadata of the player in agent ``slot`` (None for the ball or an empty slot)."""
    if not 0 <= slot < BALL_INDEX or scene.object_ids[slot] is None:
        return None
    object_id = str(scene.object_ids[slot])
    row = _player_rows(scene).get(object_id, {})
    name = str(row.get("name") or "").strip()[:MAX_NAME] or f"player {object_id[:MAX_LABEL]}"
    jersey = row.get("jersey")
    side = scene.side_of(slot)
    return PlayerInfo(slot, object_id, name, _short(name), None if jersey is None else int(jersey),
                      row.get("position"), side, scene.teams.get(side, side))


def _player_rows(scene: Scene) -> dict[str, dict]:
    if scene.players is None or scene.players.height == 0:
        return {}
    return {str(r["object_id"]): r for r in scene.players.iter_rows(named=True)}


def _short(name: str) -> str:
    """The surname as a label shows it: the last word of a full name ("Thomas Müller" -> "Müller")."""
    words = name.split()
    return words[-1] if len(words) > 1 and not name.startswith("player ") else name


@dataclass(frozen=True)
class Roles:
    """The roles at scene frame ``frame``: each a :class:`PlayerInfo` or None when the frame has no such player."""

    frame: int
    shooter: PlayerInfo | None
    a1: PlayerInfo | None
    d1: PlayerInfo | None
    d2: PlayerInfo | None
    agents: CobsoAgents | None
    reason: str | None = None
    """Why a shot moment has no shooter (e.g. the shot table's shooter was never visible), else None."""

    def items(self) -> list[tuple[str, PlayerInfo]]:
        """``[("shooter", info), ("A1", info), ...]`` for the roles that exist (D1 == D2 listed once as D1/D2)."""
        named = [("shooter", self.shooter), ("A1", self.a1), ("D1", self.d1), ("D2", self.d2)]
        if self.d1 is not None and self.d2 is not None and self.d1.slot == self.d2.slot:
            named = [("shooter", self.shooter), ("A1", self.a1), ("D1/D2", self.d1)]
        return [(role, info) for role, info in named if info is not None]

    def of(self, slot: int) -> str | None:
        """The role names of agent ``slot`` joined by "/" (None when he has none)."""
        names = [role for role, info in self.items() if info.slot == slot]
        return "/".join(names) or None

    def slots(self) -> dict[str, int]:
        """``{"shooter": slot, "A1": slot, "D1": slot, "D2": slot}`` for the roles that exist."""
        named = {"shooter": self.shooter, "A1": self.a1, "D1": self.d1, "D2": self.d2}
        return {role: info.slot for role, info in named.items() if info is not None}

    def labels(self) -> list[str]:
        """``["shooter - Lewandowski (#9, CF)", "A1 - Müller (#25, RW)", ...]``."""
        return [info.label(role) for role, info in self.items()]

    @property
    def predicted(self) -> list[int]:
        """The agents a C-OBSO simulation forecasts: A1, D1, D2 (D1 == D2 once); empty without A1."""
        return [] if self.agents is None else self.agents.replaced


def frame_obso(scene: Scene, frame: int, grid: Grid | None = None) -> np.ndarray:
    """Each agent's OBSO ``[23]`` at scene frame ``frame`` (:func:`soccerai.evaluate.obso.obso`; NaN where absent)."""
    frame = scene.check_index(frame)
    pos, vel, ok = scene_tensors(scene)
    sl = slice(frame, frame + 1)
    result = obso(pos[sl], vel[sl], ok[sl], grid or Grid.over(scene.pitch))
    return result.player_values[0].double().numpy()


def shot_index(scene: Scene) -> int | None:
    """The scene frame where a shot moment's roles are read: the last frame before the shot (None: not a shot)."""
    if scene.shot_frame is None:
        return None
    before = int(np.searchsorted(scene.frames, scene.shot_frame, side="left")) - 1
    return min(max(before, 0), len(scene) - 1)


def scene_shooter(scene: Scene) -> int | None:
    """A shot moment's shooter slot (the shot table's shooter); None when he is not in the scene's attackers."""
    if scene.shooter_id is None or scene.shooter_id not in scene.object_ids[:N_PER_TEAM]:
        return None
    return scene.object_ids.index(scene.shooter_id)


def roles(scene: Scene, frame: int, player_obso: np.ndarray | None = None,
          tracked_at: int | None = None) -> Roles:
    """Shooter, A1, D1 and D2 of scene frame ``frame`` (see the module docstring).

    ``player_obso [23]``: the agents' OBSO at the frame the roles are read (``frame``, or a shot moment's
    :func:`shot_index`) when already computed; computed for that one frame otherwise (a value given for another
    frame of a shot moment is not used). ``tracked_at``: only (A1, D1, D2) sets whose three players are tracked at
    that frame too (a simulation starting there can forecast only players it sees, as
    :func:`soccerai.evaluate.match_obso.seen_candidates` demands).
    """
    frame = scene.check_index(frame)
    read_at = shot_index(scene)
    if read_at is not None:
        shooter = scene_shooter(scene)
        if shooter is None:
            why = ("shooter not visible at the kick (the shot table names none)" if scene.shooter_id is None
                   else "the shot table's shooter is not tracked in this scene")
            return Roles(frame, None, None, None, None, None, why)
        values = player_obso if read_at == frame else None
        return replace(_roles_at(scene, read_at, shooter, values, tracked_at), frame=frame)
    try:
        shooter = shooter_at(scene, frame)
    except InvalidTrackingError:
        return Roles(frame, None, None, None, None, None)
    return _roles_at(scene, frame, shooter, player_obso, tracked_at)


def _roles_at(scene: Scene, frame: int, shooter: int | None, player_obso: np.ndarray | None,
              tracked_at: int | None) -> Roles:
    if shooter is None or not bool(scene.valid[frame, shooter]):
        return Roles(frame, None if shooter is None else player_info(scene, shooter), None, None, None, None)
    pos, _, ok = scene_tensors(scene)
    seen = None if tracked_at is None else scene.valid[scene.check_index(tracked_at)]
    values = frame_obso(scene, frame) if player_obso is None else np.asarray(player_obso, dtype=np.float64)
    best = shot_agents(pos[frame], ok[frame], shooter, values, scene.pitch.length, seen) \
        if bool(ok[frame, N_PER_TEAM:BALL_INDEX].any()) else None
    if best is None:
        return Roles(frame, player_info(scene, shooter), None, None, None, None)
    return Roles(frame, player_info(scene, shooter), player_info(scene, best.attacker),
                 player_info(scene, best.attacker_defender), player_info(scene, best.shooter_defender), best)
