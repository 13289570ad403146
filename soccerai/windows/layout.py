"""The one owner of "canonical match -> model rate (10 Hz) -> 23 agents in the attack frame".

Every part that needs agents in model order calls this module: windows (:mod:`soccerai.windows.cutter`), pitch
control's frame tensors (:func:`frame_tensors`), match OBSO (:mod:`soccerai.evaluate.match_obso`), the pipeline, replay and
the benchmarks.

**Model rate.** :func:`to_model_rate` resamples a canonical match to :data:`soccerai.windows.container.FPS` (10 Hz, the one model rate; ``DT = 1 / FPS``) with smoothed
velocities (:func:`soccerai.match.tracking.resample`, :func:`soccerai.match.tracking.add_velocities`). Frame numbers stay on
the *source clock* (a 25 Hz match resampled to 10 Hz has frames 0, 2/3, 5, ... rounded: every 2.5th source frame),
so events, shots and moments chosen on the source clock still point at the right row. The metadata says both:

* ``metadata.frame_rate``: the clock frame numbers count on (source Hz; unchanged by resampling);
* ``metadata.sample_rate``: how many rows per second there are (10 after :func:`to_model_rate`; ``None`` means
  "one row per clock frame", i.e. ``frame_rate``). :func:`sample_rate` reads it.

A duration in seconds becomes a frame-number offset with :func:`clock_frames` (``round(s * frame_rate)``), never
with the sample rate.

**The 23-agent layout** (index ``k``, :mod:`soccerai.windows.container`): 0..10 the attacking team, 11..21 the defending
team, 22 the ball. One keeper rule, for every caller (:func:`team_slots`):

* slot 0 of a team (0 and 11) is its goalkeeper: the player marked ``is_goalkeeper`` seen on the most frames
  (ties by object id); **empty and masked when no keeper of that team is seen** (pitch control strengthens slot 11,
  C-OBSO never picks slot 0 as A1, so an outfielder must never sit there);
* slots 1..10: the other players, at most 10 (with more, a substitution: the 10 seen on the most frames, ties by
  object id), ordered by object id; the remaining slots are empty.

An empty or untracked slot is never a player at (0, 0): a presence mask (``valid`` / ``mask``) travels with every
tensor; positions are NaN (frame tensors) or 0 *with the mask False* (model windows, which must be finite).
Broadcast tracking (12-19 players in view) uses the same rule: the players out of view are masked.

**Presence** (:func:`presence`, one rule for windows and frame tensors): an object is present on a frame where it
has a row whose speed is not flagged as a measurement error (``speed_flag``). A row whose velocity could not be
measured (a one-sample segment) is present with velocity 0.

**Dense layout.** :func:`dense_layout` lays a table out once as per-period ``[frames, objects, 4]`` arrays and a
presence mask (:class:`MatchCube`); :func:`cube_slots` picks the 23 slots over any span of frames and
:func:`gather_agents` gathers them in the attack frame. :func:`frame_tensors` (pitch control, replay, match OBSO)
and the window cutter (:mod:`soccerai.windows.cutter`) are both built on these three.

**Units.** Durations in this package's public APIs are in *seconds* where the argument ends in ``_s``
(``obs_s``, ``pred_s``, ``stride_s``: :mod:`soccerai.windows.cutter`); lengths are in *10 Hz frames* where it ends
in ``_len`` or is a ``stride`` (``obs_len``, ``pred_len``: :mod:`soccerai.windows.sources`,
:mod:`soccerai.training.datamodule`, ``TrajectoryWindows.obs_len``). Frame *numbers* (``frame``,
``start_frame``, ``obs_end_frame``) count on the source clock (see above).

**Attack frame.** Canonical tables are static (home attacks +x in every period). Where the away team attacks, every
position and velocity is rotated by 180 degrees, ``(x, y, vx, vy) -> (-x, -y, -vx, -vy)`` (:func:`attack_sign`,
:func:`orient_attack`), so the attacking team always plays towards +x.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import torch

from soccerai.errors import InvalidParameterError, InvalidTrackingError
from soccerai.match.schema import BALL_ID, MAX_PLAYER_SPEED, TEAMS, Match, MatchMetadata
from soccerai.match.tracking import add_velocities, resample
from soccerai.windows.container import FPS, N_PER_TEAM

# ----------------------------------------------------------------------------------------------------------------
# Model rate and the clock


def sample_rate(metadata: MatchMetadata) -> float:
    """Rows per second of a match: ``metadata.sample_rate`` when set, else the clock rate ``frame_rate``."""
    return metadata.frame_rate if metadata.sample_rate is None else metadata.sample_rate


def clock_frames(metadata: MatchMetadata, seconds: float) -> int:
    """A duration as an offset in frame numbers: ``round(seconds * frame_rate)`` (frames count on the source clock)."""
    return int(round(seconds * metadata.frame_rate))


def at_model_rate(match: Match) -> bool:
    """True when the match already has :data:`~soccerai.windows.container.FPS` rows per second and every velocity filled."""
    return (abs(sample_rate(match.metadata) - FPS) < 1e-6
            and match.tracking.get_column("vx").null_count() == 0)


def to_model_rate(match: Match) -> Match:
    """The match at 10 Hz with smoothed velocities (a no-op when :func:`at_model_rate`).

    Frame numbers stay on the source clock (``metadata.frame_rate`` unchanged); ``metadata.sample_rate`` becomes
    :data:`~soccerai.windows.container.FPS`.
    """
    if at_model_rate(match):
        return match
    tracking = add_velocities(resample(match.tracking, fps=FPS))
    metadata = dataclasses.replace(match.metadata, sample_rate=FPS)
    return Match(tracking=tracking, players=match.players, metadata=metadata, events=match.events)


# ----------------------------------------------------------------------------------------------------------------
# The 23-agent layout


def check_team(attacking_team: str) -> str:
    if attacking_team not in TEAMS:
        raise InvalidParameterError(f"attacking_team must be 'home' or 'away', got {attacking_team!r}")
    return attacking_team


def other_team(team: str) -> str:
    return "away" if check_team(team) == "home" else "home"


def goalkeepers(players: pl.DataFrame | None) -> set[str]:
    """Object ids marked ``is_goalkeeper`` in a players table (none when the column or the table is missing)."""
    if players is None or "is_goalkeeper" not in players.columns:
        return set()
    return set(players.filter(pl.col("is_goalkeeper").fill_null(False)).get_column("object_id").to_list())


def team_slots(seen: Mapping[str, int], keepers: Iterable[str]) -> list[str | None]:
    """The 11 slots of one team from ``seen`` (object id -> frames it is seen on, only ids seen at least once).

    Slot 0: the keeper seen most (ties by id), None when no keeper is seen. Slots 1..10: the other players, the 10
    seen most when there are more (ties by id), ordered by id; None fills the rest. See the module docstring.
    """
    keepers = set(keepers)
    in_goal = sorted((o for o in seen if o in keepers), key=lambda o: (-seen[o], o))
    outfield = sorted((o for o in seen if o not in keepers), key=lambda o: (-seen[o], o))[: N_PER_TEAM - 1]
    ids = sorted(outfield)
    return [in_goal[0] if in_goal else None, *ids, *([None] * (N_PER_TEAM - 1 - len(ids)))]


def agent_slots(seen: Mapping[str, int], teams: Mapping[str, str], keepers: Iterable[str],
                attacking_team: str) -> list[str | None]:
    """The 23 object ids in model order (attacking team, defending team, ball; None = empty slot).

    ``seen`` maps every object id present to the frames it is seen on, ``teams`` an object id to its team.
    """
    keepers = set(keepers)
    attack, defence = check_team(attacking_team), other_team(attacking_team)
    by_team = {t: {o: n for o, n in seen.items() if teams.get(o) == t} for t in (attack, defence)}
    return [*team_slots(by_team[attack], keepers), *team_slots(by_team[defence], keepers),
            BALL_ID if BALL_ID in seen else None]


def slot_goalkeepers(object_ids: list[str | None], keepers: Iterable[str]) -> np.ndarray:
    """Bool ``[23]``: which slots hold a goalkeeper (only 0 and 11 can, by :func:`team_slots`)."""
    keepers = set(keepers)
    return np.array([o is not None and o in keepers for o in object_ids])


# ----------------------------------------------------------------------------------------------------------------
# Attack frame


def attack_sign(attacking_team: str) -> float:
    """+1 when home attacks (canonical tables are home -> +x), -1 when away attacks: multiply x, y, vx, vy by it."""
    return 1.0 if check_team(attacking_team) == "home" else -1.0


def orient_attack(tracking: pl.DataFrame, attacking_team: str | pl.Series | pl.Expr) -> pl.DataFrame:
    """A canonical table rotated by 180 degrees (``x, y, vx, vy -> -x, -y, -vx, -vy``) where ``"away"`` attacks.

    ``attacking_team`` is ``"home"``/``"away"`` for the whole table, or a per-row series/expression (e.g.
    ``pl.col("ball_owning_team")``); rows whose attacking team is null are left as they are.
    """
    if isinstance(attacking_team, str):
        attacking_team = pl.lit(check_team(attacking_team))
    elif isinstance(attacking_team, pl.Series) and attacking_team.len() != tracking.height:
        raise InvalidParameterError(
            f"attacking_team has {attacking_team.len()} values for {tracking.height} rows"
        )
    flip = (pl.lit(attacking_team) if isinstance(attacking_team, pl.Series) else attacking_team) == "away"
    cols = [c for c in ("x", "y", "vx", "vy") if c in tracking.columns]
    return tracking.with_columns(
        pl.when(flip.fill_null(False)).then(-pl.col(c)).otherwise(pl.col(c)).alias(c) for c in cols
    )


# ----------------------------------------------------------------------------------------------------------------
# Dense layout: presence, the match laid out once, agents in model order


def presence(tracking: pl.DataFrame) -> pl.Expr:
    """THE presence rule: an object is present on a frame where it has a row whose speed is not flagged as a
    measurement error (``speed_flag``, :func:`soccerai.match.tracking.add_velocities`).

    A row whose velocity could not be measured (a one-sample segment: a player crossing the edge of a broadcast
    camera's view for one frame) is present, with velocity 0: the player was seen there, and leaving him out would
    hand his space to the other team. Positions are never null in canonical tracking.

    A table without the ``speed_flag`` column (a stored match: parquet keeps no derived flag) gets it from its
    velocities by :func:`soccerai.match.tracking.add_velocities`' rule (a player faster than
    :data:`soccerai.match.schema.MAX_PLAYER_SPEED`), so a match read back from the store lays out as it did before.
    """
    if "speed_flag" in tracking.columns:
        return ~pl.col("speed_flag").fill_null(False)
    speed = (pl.col("vx") ** 2 + pl.col("vy") ** 2).sqrt()
    return ~((pl.col("team") != "ball") & (speed > MAX_PLAYER_SPEED)).fill_null(False)


@dataclass
class PeriodFrames:
    """One period as dense arrays over the objects of a :class:`MatchCube`.

    ``features[F, O, 4]``: ``(x, y, vx, vy)`` in canonical (static) orientation, NaN where the object has no row,
    an unmeasured velocity as 0; ``tracked[F, O]``: the presence mask (:func:`presence`).
    """

    frames: np.ndarray  # [F] frame numbers, on the source clock
    times: np.ndarray  # [F] time_s
    features: np.ndarray
    tracked: np.ndarray


@dataclass
class MatchCube:
    """A canonical tracking table (one match, or a slice of it) laid out densely once (:func:`dense_layout`).

    ``periods[p].features[F, O, 4]`` holds ``(x, y, vx, vy)`` of object ``object_ids[o]`` at the ``f``-th frame of
    period ``p`` (NaN where absent), ``periods[p].tracked[F, O]`` whether it is present there.
    """

    match_id: str
    object_ids: list[str]
    teams: np.ndarray  # per object: "home" | "away" | "ball"
    goalkeepers: set[str]
    periods: dict[int, PeriodFrames]
    simulated: bool = False


def dense_layout(tracking: pl.DataFrame, players: pl.DataFrame | None, simulated: bool = False) -> MatchCube:
    """Every object of a canonical tracking table (with velocities) as dense per-period arrays (:class:`MatchCube`).

    Any sample rate; windows need 10 Hz (:mod:`soccerai.windows.cutter` checks it).
    """
    objects = tracking.group_by("object_id").agg(pl.col("team").first()).sort("object_id")
    object_index = objects.select("object_id").with_row_index("o")
    present = presence(tracking)
    periods = {}
    for (period,), part in tracking.group_by("period", maintain_order=True):
        clock = part.group_by("frame").agg(pl.col("time_s").first()).sort("frame").with_row_index("f")
        rows = part.join(clock.select("frame", "f"), on="frame").join(object_index, on="object_id")
        f = rows.get_column("f").to_numpy()
        o = rows.get_column("o").to_numpy()
        features = np.full((clock.height, object_index.height, 4), np.nan)
        features[f, o] = rows.select("x", "y", pl.col("vx").fill_null(0.0), pl.col("vy").fill_null(0.0)).to_numpy()
        tracked = np.zeros((clock.height, object_index.height), dtype=bool)
        tracked[f, o] = rows.select(present).to_series().to_numpy()
        periods[int(period)] = PeriodFrames(
            clock.get_column("frame").to_numpy(), clock.get_column("time_s").to_numpy(), features, tracked
        )
    return MatchCube(
        match_id=str(tracking.item(0, "match_id")) if "match_id" in tracking.columns else "",
        object_ids=objects.get_column("object_id").to_list(),
        teams=objects.get_column("team").to_numpy(),
        goalkeepers=goalkeepers(players),
        periods=periods,
        simulated=simulated,
    )


def cube_slots(cube: MatchCube, tracked: np.ndarray, attacking_team: str) -> list[int | None]:
    """The 23 object indices (into ``cube.object_ids``; None = empty slot) by :func:`agent_slots`, an object
    counting as seen on the frames of ``tracked [F, O]`` where it is present."""
    counts = tracked.sum(axis=0)
    seen = {cube.object_ids[o]: int(counts[o]) for o in np.flatnonzero(counts)}
    teams = dict(zip(cube.object_ids, cube.teams.tolist(), strict=True))
    index = {o: i for i, o in enumerate(cube.object_ids)}
    return [None if o is None else index[o] for o in agent_slots(seen, teams, cube.goalkeepers, attacking_team)]


def gather_agents(features: np.ndarray, tracked: np.ndarray, slots: list[int | None],
                  attacking_team: str) -> tuple[np.ndarray, np.ndarray]:
    """``features [F, O, 4]`` / ``tracked [F, O]`` of a :class:`MatchCube` period as ``(states [F, 23, 4], mask
    [F, 23])`` in the attack frame: agents in ``slots`` order, zero features where the mask is False."""
    index = np.array([o if o is not None else 0 for o in slots])
    filled = np.array([o is not None for o in slots])
    mask = tracked[:, index] & filled
    states = np.where(mask[..., None], features[:, index], 0.0) * attack_sign(attacking_team)
    return states, mask


# ----------------------------------------------------------------------------------------------------------------
# Frame tensors of a tracking slice


@dataclass
class FrameTensors:
    """Frames of one attacking team, in model agent order, attack towards +x (NaN position where absent)."""

    positions: torch.Tensor  # [F, 23, 2]
    velocities: torch.Tensor  # [F, 23, 2], 0 where absent
    valid: torch.Tensor  # [F, 23] bool: the presence mask
    periods: np.ndarray  # [F]
    frames: np.ndarray  # [F]
    object_ids: list[str | None] = field(default_factory=list)  # 23 entries, None for empty slots

    def __len__(self) -> int:
        return self.positions.shape[0]


def frame_tensors(tracking: pl.DataFrame, players: pl.DataFrame, attacking_team: str) -> FrameTensors:
    """Every frame of a canonical tracking slice (static orientation) as 23 agents for ``attacking_team``.

    Slots by :func:`agent_slots` over the whole slice; presence by :func:`presence`, the rule windows use (a row
    whose velocity could not be measured is present with velocity 0; a speed flagged as an error is absent).
    """
    check_team(attacking_team)
    if tracking.height == 0:
        raise InvalidTrackingError("tracking slice is empty: no frames to lay out")
    needed = ("period", "frame", "time_s", "object_id", "team", "x", "y", "vx", "vy")
    missing = [c for c in needed if c not in tracking.columns]
    if missing:
        raise InvalidTrackingError(f"tracking slice lacks columns {missing}")
    if tracking.get_column("vx").is_null().all():
        raise InvalidTrackingError("tracking slice has no velocities: fill them with soccerai.windows.layout.to_model_rate first")
    cube = dense_layout(tracking, players)
    order = sorted(cube.periods)
    parts = [cube.periods[p] for p in order]
    features = np.concatenate([part.features for part in parts])
    tracked = np.concatenate([part.tracked for part in parts])
    slots = cube_slots(cube, tracked, attacking_team)
    object_ids = [None if o is None else cube.object_ids[o] for o in slots]
    object_ids[-1] = BALL_ID  # the ball keeps its slot (masked) even when the slice never sees it
    states, valid = gather_agents(features, tracked, slots, attacking_team)
    positions = np.where(valid[..., None], states[..., :2], np.nan).astype(np.float32)
    period_dtype = tracking.get_column("period").to_numpy().dtype
    return FrameTensors(
        positions=torch.from_numpy(positions),
        velocities=torch.from_numpy(states[..., 2:].astype(np.float32)),
        valid=torch.from_numpy(valid),
        periods=np.repeat(np.array(order, dtype=period_dtype), [len(part.frames) for part in parts]),
        frames=np.concatenate([part.frames for part in parts]),
        object_ids=object_ids,
    )
