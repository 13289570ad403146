"""Scenes: the replayable slices of a match and the moments (shots, attacks) worth replaying.

A :class:`Scene` is a short slice of one match at 10 Hz in the modelling agent order of :mod:`soccerai.trajectory_windows`
(0..10 attackers, 11..21 defenders, 22 the ball; goalkeepers first), oriented so that the attacking team plays
towards ``+x``. The rate and the layout come from :mod:`soccerai.layout` (:func:`~soccerai.layout.to_model_rate`,
:func:`~soccerai.layout.frame_tensors`); shots from :func:`soccerai.shots.match_shots`; attacks from
:func:`soccerai.possession.attacks`. Every scene carries ``simulated`` so each view can say whether its tracking
was measured or written by soccerai's synthesizer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import polars as pl
import torch

from soccerai.errors import InvalidParameterError, InvalidTrackingError, SoccerAIError
from soccerai.evaluate.obso import on_ball_attacker
from soccerai.layout import frame_tensors, to_model_rate
from soccerai.possession import attacks
from soccerai.schema import DEFAULT_PITCH, Match
from soccerai.shots import match_shots
from soccerai.store import read_match
from soccerai.trajectory_windows import FPS

DT = 1.0 / FPS
MAX_LABEL = 16
"""Provider-given object ids shown as labels are cut to this many characters."""


@dataclass
class Moment:
    """Something worth replaying: a shot or an attack, on the match's own frame clock."""

    label: str
    kind: str  # "shot" | "attack"
    period: int
    frame: int  # the key frame (the shot, or the attack's last frame)
    team: str  # attacking team, "home" | "away"
    start_frame: int | None = None


@dataclass
class Scene:
    """A replayable slice of a match at 10 Hz, attack towards +x.

    Attributes:
        positions, velocities: ``[F, 23, 2]`` metres, m/s (NaN position where an agent is missing).
        valid: bool ``[F, 23]``.
        frames: provider frame number of each scene frame ``[F]``.
        labels: 23 short names (jersey numbers, "ball").
        key_index: index of the moment's key frame (the shot) in the scene.
    """

    positions: np.ndarray
    velocities: np.ndarray
    valid: np.ndarray
    frames: np.ndarray
    period: int
    attacking_team: str
    object_ids: list[str | None]
    labels: list[str]
    key_index: int
    simulated: bool
    match_id: str
    pitch: tuple[float, float] = DEFAULT_PITCH
    fps: float = FPS
    edits: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return self.positions.shape[0]

    @property
    def source(self) -> str:
        """'simulated tracking' or 'real tracking' (every figure says which)."""
        return "simulated tracking" if self.simulated else "real tracking"

    def check_index(self, index: int) -> int:
        if not 0 <= index < len(self):
            raise InvalidParameterError(f"frame index {index} is outside the scene (0..{len(self) - 1})")
        return index


def list_matches(store: Path) -> list[Path]:
    """The ``.parquet`` match files of the store folder, sorted by name (none when the folder is missing)."""
    return sorted(p for p in Path(store).glob("*.parquet") if p.is_file()) if Path(store).is_dir() else []


def load_match(path: Path) -> Match:
    """Read and validate a stored match; any problem becomes a one-line :class:`SoccerAIError`."""
    match = read_match(path)
    try:
        return match.validate()
    except SoccerAIError as exc:
        raise InvalidTrackingError(f"not valid tracking data: {exc}", path) from exc


def list_moments(match: Match) -> list[Moment]:
    """Shots (the match's events, else those found in its tracking: :func:`soccerai.shots.match_shots`), then
    attacks reaching the final third (:func:`soccerai.possession.attacks`)."""
    found = match_shots(match)
    shots = found.shots.filter(pl.col("team").is_in(["home", "away"]) & pl.col("frame").is_not_null())
    tag = " (detected)" if found.source == "detected" else ""
    moments = [Moment(f"shot {i + 1}{tag}: {r['team']}, period {r['period']}, {r['time_s'] or 0:.0f} s"
                      + (f", {r['result'].lower()}" if r["result"] else ""), "shot",
                      int(r["period"]), int(r["frame"]), r["team"])
               for i, r in enumerate(shots.sort("period", "frame").iter_rows(named=True))]
    found = attacks(match.tracking, zone="third", pitch_length=match.metadata.pitch_length)
    moments += [Moment(f"attack {i + 1}: {r['team']}, period {r['period']}, {r['duration']:.0f} s", "attack",
                       int(r["period"]), int(r["end_frame"]), r["team"], int(r["start_frame"]))
                for i, r in enumerate(found.sort("period", "start_frame").iter_rows(named=True))]
    return moments


def scene_for_moment(match: Match, moment: Moment, before_s: float = 6.0, after_s: float = 4.0) -> Scene:
    """The scene around ``moment``: ``before_s`` seconds before its key frame to ``after_s`` after, at 10 Hz."""
    if before_s < 0 or after_s < 0 or before_s + after_s <= 0:
        raise InvalidParameterError(f"scene span must be positive, got before={before_s}s after={after_s}s")
    rate = match.metadata.frame_rate
    lo, hi = moment.frame - int(before_s * rate), moment.frame + int(after_s * rate)
    sliced = match.tracking.filter((pl.col("period") == moment.period) & pl.col("frame").is_between(lo, hi))
    if sliced.height == 0:
        raise InvalidTrackingError(f"no tracking frames around frame {moment.frame} of period {moment.period}")
    sliced = to_model_rate(replace(match, tracking=sliced, events=None)).tracking
    # an object seen on one isolated frame has no velocity: absent there (broadcast flicker), never at rest
    sliced = sliced.filter(pl.col("vx").is_not_null() & pl.col("vy").is_not_null())
    tensors = frame_tensors(sliced, match.players, moment.team)
    labels = _labels(tensors.object_ids, match.players)
    frames = tensors.frames
    key = int(np.argmin(np.abs(frames - moment.frame)))
    return Scene(
        positions=tensors.positions.numpy().astype(np.float64), velocities=tensors.velocities.numpy().astype(np.float64),
        valid=tensors.valid.numpy(), frames=frames, period=moment.period, attacking_team=moment.team,
        object_ids=tensors.object_ids, labels=labels, key_index=key, simulated=match.metadata.simulated,
        match_id=match.match_id, pitch=(match.metadata.pitch_length, match.metadata.pitch_width),
    )


def _labels(object_ids: list[str | None], players: pl.DataFrame) -> list[str]:
    jersey = dict(zip(players.get_column("object_id").to_list(), players.get_column("jersey").to_list(), strict=True))
    return ["ball" if o == "ball" else "" if o is None else str(jersey.get(o) or o)[:MAX_LABEL] for o in object_ids]


def scene_tensors(scene: Scene) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Positions ``[F, 23, 2]``, velocities ``[F, 23, 2]`` (float32) and validity ``[F, 23]`` as tensors."""
    return (torch.from_numpy(scene.positions).float(), torch.from_numpy(scene.velocities).float(),
            torch.from_numpy(scene.valid))


def shooter_at(scene: Scene, index: int) -> int:
    """The on-ball attacker (nearest the ball) at frame ``index``."""
    scene.check_index(index)
    pos, ok = scene_tensors(scene)[0][index : index + 1], torch.from_numpy(scene.valid[index : index + 1])
    shooter = int(on_ball_attacker(pos, ok)[0])
    if shooter < 0:
        raise InvalidTrackingError(f"no ball or no attacker at frame {scene.frames[index]}")
    return shooter
