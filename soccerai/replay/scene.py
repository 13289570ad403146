"""Scenes: the replayable slices of a match and the moments (shots, attacks) worth replaying.

A :class:`Scene` is a short slice of one match at 10 Hz in the modelling agent order of :mod:`soccerai.windows.container`
(0..10 attackers, 11..21 defenders, 22 the ball; goalkeepers first), oriented so that the attacking team plays
towards ``+x``. The rate and the layout come from :mod:`soccerai.windows.layout` (:func:`~soccerai.windows.layout.to_model_rate`,
:func:`~soccerai.windows.layout.frame_tensors`); shots from :func:`soccerai.match.shots.match_shots`; attacks from
:func:`soccerai.match.possession.attacks`. Every scene carries ``simulated`` so each view can say whether its tracking
was measured or written by soccerai's synthesizer.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
import torch

from soccerai.data.store import read_match
from soccerai.errors import InvalidParameterError, InvalidTrackingError, SoccerAIError
from soccerai.evaluate.obso import on_ball_attacker
from soccerai.match.clock import match_clock
from soccerai.match.names import team_name
from soccerai.match.pitch import Pitch
from soccerai.match.possession import attacks
from soccerai.match.schema import Match
from soccerai.match.shots import match_shots
from soccerai.windows.container import BALL_INDEX, FPS, N_PER_TEAM
from soccerai.windows.layout import check_team, clock_frames, frame_tensors, to_model_rate

MAX_LABEL = 16
"""Provider-given object ids shown as labels are cut to this many characters."""


MomentKind = Literal["shot", "attack", "free"]
MomentSource = Literal["event", "detected", "chosen"]
@dataclass(frozen=True)
class Moment:
    """Something worth replaying: a shot (goals are shots: :attr:`is_goal`), an attack, or a point chosen on the clock.

    ``frame`` is the key frame on the match's own frame clock (the shot, the attack's last frame); ``clock`` the
    match clock there (:func:`match_clock`); ``source`` says where it came from: the match's events, detected in
    its tracking (:mod:`soccerai.match.shots`, :func:`soccerai.match.possession.attacks`) or chosen by the user (free navigation).
    """

    label: str
    kind: str  # MomentKind
    period: int
    frame: int  # the key frame (the shot, or the attack's last frame)
    team: str  # attacking team, "home" | "away"
    start_frame: int | None = None
    time_s: float | None = None
    clock: str = ""
    source: str = "event"  # MomentSource
    player: str | None = None  # the shooter's object id where known
    result: str | None = None

    @property
    def is_goal(self) -> bool:
        return self.kind == "shot" and (self.result or "").upper() == "GOAL"


@dataclass
class Scene:
    """A replayable slice of a match at 10 Hz, attack towards +x.

    Attributes:
        positions, velocities: ``[F, 23, 2]`` metres, m/s (NaN position where an agent is missing).
        valid: bool ``[F, 23]``.
        frames: provider frame number of each scene frame ``[F]``.
        labels: 23 short names (jersey numbers, "ball").
        key_index: index of the moment's key frame (the shot) in the scene.
        times: seconds in the period of each scene frame ``[F]`` (the match clock: :meth:`clock`).
        teams: team names by side, ``{"home": ..., "away": ...}``.
        players: the match's players table (names, jerseys, positions: :mod:`soccerai.replay.roles`).
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
    pitch: Pitch = Pitch()
    fps: float = FPS
    edits: list[str] = field(default_factory=list)
    times: np.ndarray | None = None
    teams: dict[str, str] = field(default_factory=lambda: {"home": "Home", "away": "Away"})
    players: pl.DataFrame | None = None
    shooter_id: str | None = None
    """A shot moment's shooter as the shot table names him (roles take him, not the player nearest the ball)."""
    shot_frame: int | None = None
    """A shot moment's shot frame on the match's frame clock (roles are read at the scene frame before it)."""
    date: str | None = None
    """The match date and score where the metadata has them (``metadata.extra["date"]``, ``["score"]``)."""
    score: str | None = None

    def __len__(self) -> int:
        return self.positions.shape[0]

    @property
    def source(self) -> str:
        """'simulated tracking' or 'real tracking' (every figure says which)."""
        return "simulated tracking" if self.simulated else "real tracking"

    @property
    def defending_team(self) -> str:
        return "away" if self.attacking_team == "home" else "home"

    @property
    def title(self) -> str:
        """``"FC Bayern v Dortmund"``: home first."""
        return f"{self.teams['home']} v {self.teams['away']}"

    def check_index(self, index: int) -> int:
        if isinstance(index, bool) or not isinstance(index, int | np.integer) or not 0 <= index < len(self):
            raise InvalidParameterError(f"frame index {index!r} is outside the scene (0..{len(self) - 1})")
        return int(index)

    def clock(self, index: int) -> str:
        """The match clock ``"mm:ss"`` at scene frame ``index`` (``"P2 +12.3 s"``-free: :func:`match_clock`)."""
        index = self.check_index(index)
        if self.times is None or not np.isfinite(self.times[index]):
            return f"P{self.period} frame {self.frames[index]}"
        return match_clock(self.period, float(self.times[index]))

    def side_of(self, agent: int) -> str:
        """``"home"`` / ``"away"`` / ``"ball"`` of agent slot ``agent`` (slots 0..10 attack, 11..21 defend)."""
        return "ball" if agent == BALL_INDEX else self.attacking_team if agent < N_PER_TEAM else self.defending_team

    @property
    def key(self) -> str:
        """A short, hashable cache key of what the scene shows (match, period, frames, edits)."""
        edits = hashlib.sha1("\n".join(self.edits).encode()).hexdigest()[:12]
        return (f"{self.match_id}|P{self.period}|{self.frames[0] if len(self) else -1}-"
                f"{self.frames[-1] if len(self) else -1}|{self.attacking_team}|{edits}")


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


def frame_times(tracking: pl.DataFrame) -> pl.DataFrame:
    """One row per (period, frame) of a tracking table with its ``time_s`` (seconds in the period)."""
    return tracking.group_by("period", "frame").agg(pl.col("time_s").first()).sort("period", "frame")


def _time_at(times: pl.DataFrame, period: int, frame: int) -> float | None:
    """``time_s`` of the tracked frame nearest ``frame`` in ``period`` (None when the period has none)."""
    rows = times.filter(pl.col("period") == period)
    if rows.height == 0:
        return None
    i = int(np.argmin(np.abs(rows.get_column("frame").to_numpy() - frame)))
    value = rows.get_column("time_s")[i]
    return None if value is None else float(value)


def timeline(match: Match) -> list[Moment]:
    """Every shot, goal and attack of the match in match-time order, each with its clock and source.

    Shots and goals: :func:`soccerai.match.shots.match_shots` (the match's events; real tracking without events gets the
    shots detected in its tracking, labelled "detected"); a goal is a shot (``kind == "shot"``) whose result is
    ``GOAL`` (:attr:`Moment.is_goal`), labelled "goal". Attacks: the
    possessions reaching the final third (:func:`soccerai.match.possession.attacks`, always found in the tracking, so
    "detected"). Labels read ``"23:41 shot (detected) - FC Bayern Munchen"``.
    """
    times = frame_times(match.tracking)
    found = match_shots(match)
    source = "event" if found.source == "events" else "detected"
    moments: list[Moment] = []
    shots = found.shots.filter(pl.col("team").is_in(["home", "away"]) & pl.col("frame").is_not_null())
    for r in shots.iter_rows(named=True):
        period, frame = int(r["period"]), int(r["frame"])
        moments.append(_moment(match, times, "shot", source, period, frame, r["team"], None, r["player_id"],
                               r["result"]))
    found_attacks = attacks(match.tracking, zone="third", pitch_length=match.metadata.pitch_length)
    for r in found_attacks.iter_rows(named=True):
        moments.append(_moment(match, times, "attack", "detected", int(r["period"]), int(r["end_frame"]), r["team"],
                               int(r["start_frame"])))
    order = {"shot": 0, "attack": 1}
    return sorted(moments, key=lambda m: (m.period, m.time_s if m.time_s is not None else math.inf, m.frame,
                                          order.get(m.kind, 2)))


def _moment(match: Match, times: pl.DataFrame, kind: str, source: str, period: int, frame: int, team: str,
            start_frame: int | None = None, player: str | None = None, result: str | None = None) -> Moment:
    time_s = _time_at(times, period, frame)
    clock = match_clock(period, time_s) if time_s is not None else f"P{period}"
    tag = " (detected)" if source == "detected" else ""
    goal = kind == "shot" and (result or "").upper() == "GOAL"
    outcome = f", {result.lower()}" if result and not goal else ""
    label = f"{clock} {'goal' if goal else kind}{tag}{outcome} - {team_name(match.metadata, team)}"
    return Moment(label, kind, period, frame, team, start_frame, time_s, clock, source, player, result)


def scene_for_moment(match: Match, moment: Moment, before_s: float = 6.0, after_s: float = 4.0) -> Scene:
    """The scene around ``moment``: ``before_s`` seconds before its key frame to ``after_s`` after, at 10 Hz.

    The slice is brought to model rate (:func:`soccerai.windows.layout.to_model_rate`) and laid out for the moment's
    attacking team (:func:`soccerai.windows.layout.frame_tensors`).
    """
    if not (math.isfinite(before_s) and math.isfinite(after_s)) or before_s < 0 or after_s < 0 \
            or before_s + after_s <= 0:
        raise InvalidParameterError(f"scene span must be positive, got before={before_s}s after={after_s}s")
    lo = moment.frame - clock_frames(match.metadata, before_s)
    hi = moment.frame + clock_frames(match.metadata, after_s)
    sliced = match.tracking.filter((pl.col("period") == moment.period) & pl.col("frame").is_between(lo, hi))
    if sliced.height == 0:
        raise InvalidTrackingError(f"no tracking frames around frame {moment.frame} of period {moment.period}")
    sliced = to_model_rate(replace(match, tracking=sliced, events=None)).tracking
    tensors = frame_tensors(sliced, match.players, moment.team)
    frames = tensors.frames
    times = frame_times(sliced).get_column("time_s").to_numpy().astype(np.float64)
    key = int(np.argmin(np.abs(frames - moment.frame)))
    return Scene(
        positions=tensors.positions.numpy().astype(np.float64), velocities=tensors.velocities.numpy().astype(np.float64),
        valid=tensors.valid.numpy(), frames=frames, period=moment.period, attacking_team=moment.team,
        object_ids=tensors.object_ids, labels=_labels(tensors.object_ids, match.players), key_index=key,
        simulated=match.metadata.simulated, match_id=match.match_id,
        pitch=Pitch.of(match.metadata), times=times,
        teams={side: team_name(match.metadata, side) for side in ("home", "away")}, players=match.players,
        shooter_id=moment.player if moment.kind == "shot" else None,
        shot_frame=moment.frame if moment.kind == "shot" else None,
        date=_text(match.metadata.extra.get("date")), score=_text(match.metadata.extra.get("score")),
    )


def _text(value: object) -> str | None:
    return None if value in (None, "") else str(value)[:10] if "date" in str(type(value)).lower() else str(value)


def scene_at(match: Match, period: int, seconds: float, before_s: float = 6.0, after_s: float = 4.0,
             team: str | None = None) -> Scene:
    """Free navigation: the scene around ``seconds`` into ``period`` (any point of the match, not only moments).

    The key frame is the tracked frame nearest that time; the attacking team is ``team``, else the team owning
    the ball there (the ball's ``ball_owning_team``, the nearest frame that says), else home.
    """
    if not math.isfinite(seconds):
        raise InvalidParameterError(f"seconds must be finite, got {seconds!r}")
    rows = frame_times(match.tracking).filter(pl.col("period") == period)
    if rows.height == 0:
        periods = sorted(match.tracking.get_column("period").unique().to_list())
        raise InvalidParameterError(f"the match has no tracking in period {period} (periods {periods})")
    i = int(np.argmin(np.abs(rows.get_column("time_s").to_numpy() - seconds)))
    frame = int(rows.get_column("frame")[i])
    side = check_team(team) if team is not None else _owner_near(match.tracking, period, frame)
    time_s = float(rows.get_column("time_s")[i])
    clock = match_clock(period, time_s)
    moment = Moment(f"{clock} - {team_name(match.metadata, side)} attacking", "free", period, frame, side,
                    time_s=time_s, clock=clock, source="chosen")
    return scene_for_moment(match, moment, before_s, after_s)


def _owner_near(tracking: pl.DataFrame, period: int, frame: int) -> str:
    owned = (tracking.filter((pl.col("period") == period) & pl.col("ball_owning_team").is_in(["home", "away"]))
             .select("frame", "ball_owning_team"))
    if owned.height == 0:
        return "home"
    i = int(np.argmin(np.abs(owned.get_column("frame").to_numpy() - frame)))
    return str(owned.get_column("ball_owning_team")[i])


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
