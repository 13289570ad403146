"""The one owner of "canonical match -> model rate (10 Hz) -> 23 agents in the attack frame".

Every part that needs agents in model order calls this module: windows (:mod:`soccerai.windows.cutter`), pitch
control's frame tensors (:func:`frame_tensors`), match OBSO (:mod:`soccerai.evaluate.match_obso`), the pipeline, replay and
the benchmarks.

**Model rate.** :func:`to_model_rate` resamples a canonical match to :data:`MODEL_HZ` (10 Hz) with smoothed
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
from soccerai.match.schema import BALL_ID, Match, MatchMetadata
from soccerai.match.tracking import add_velocities, resample
from soccerai.windows.container import FPS, N_AGENTS, N_PER_TEAM

MODEL_HZ = FPS
"""The model rate: rows per second of everything the models, windows and C-OBSO see."""
TEAMS = ("home", "away")


# ----------------------------------------------------------------------------------------------------------------
# Model rate and the clock


def sample_rate(metadata: MatchMetadata) -> float:
    """Rows per second of a match: ``metadata.sample_rate`` when set, else the clock rate ``frame_rate``."""
    return metadata.frame_rate if metadata.sample_rate is None else metadata.sample_rate


def clock_frames(metadata: MatchMetadata, seconds: float) -> int:
    """A duration as an offset in frame numbers: ``round(seconds * frame_rate)`` (frames count on the source clock)."""
    return int(round(seconds * metadata.frame_rate))


def at_model_rate(match: Match) -> bool:
    """True when the match already has :data:`MODEL_HZ` rows per second and every velocity filled."""
    return (abs(sample_rate(match.metadata) - MODEL_HZ) < 1e-6
            and match.tracking.get_column("vx").null_count() == 0)


def to_model_rate(match: Match) -> Match:
    """The match at 10 Hz with smoothed velocities (a no-op when :func:`at_model_rate`).

    Frame numbers stay on the source clock (``metadata.frame_rate`` unchanged); ``metadata.sample_rate`` becomes
    :data:`MODEL_HZ`.
    """
    if at_model_rate(match):
        return match
    tracking = add_velocities(resample(match.tracking, fps=MODEL_HZ))
    metadata = dataclasses.replace(match.metadata, sample_rate=MODEL_HZ)
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

    Slots by :func:`agent_slots` over the whole slice (a player counts as seen on each frame he has a row); an
    agent is valid on a frame where he has a row with a velocity (:func:`to_model_rate` fills them; a row whose
    velocity could not be measured, e.g. a single isolated sample, counts as absent).
    """
    check_team(attacking_team)
    if tracking.height == 0:
        raise InvalidTrackingError("tracking slice is empty: no frames to lay out")
    missing = [c for c in ("period", "frame", "object_id", "team", "x", "y", "vx", "vy") if c not in tracking.columns]
    if missing:
        raise InvalidTrackingError(f"tracking slice lacks columns {missing}")
    measured = tracking.filter(pl.col("vx").is_not_null() & pl.col("vy").is_not_null())
    if measured.height == 0:
        raise InvalidTrackingError("tracking slice has no velocities: fill them with soccerai.windows.layout.to_model_rate first")
    # A sample whose velocity cannot be measured (an object seen on one isolated frame, as broadcast tracking has
    # when a player crosses the camera's edge) is absent on that frame, never a player standing still.
    keys = tracking.select("period", "frame").unique().sort("period", "frame").with_row_index("row")
    tracking = measured
    counts = tracking.group_by("object_id").agg(pl.len(), pl.col("team").first())
    seen = dict(zip(counts["object_id"].to_list(), counts["len"].to_list(), strict=True))
    teams = dict(zip(counts["object_id"].to_list(), counts["team"].to_list(), strict=True))
    object_ids = agent_slots(seen, teams, goalkeepers(players), attacking_team)
    object_ids[-1] = BALL_ID  # the ball keeps its slot (masked) even when the slice never sees it
    slot_of = pl.DataFrame(
        {"object_id": [o for o in object_ids if o is not None],
         "slot": [i for i, o in enumerate(object_ids) if o is not None]},
        schema={"object_id": pl.String(), "slot": pl.Int64()},
    )
    rows = tracking.join(slot_of, on="object_id").join(keys, on=["period", "frame"])
    n = keys.height
    positions = np.full((n, N_AGENTS, 2), np.nan, dtype=np.float32)
    velocities = np.zeros((n, N_AGENTS, 2), dtype=np.float32)
    valid = np.zeros((n, N_AGENTS), dtype=bool)
    r, s = rows.get_column("row").to_numpy(), rows.get_column("slot").to_numpy()
    positions[r, s] = rows.select("x", "y").to_numpy()
    velocities[r, s] = rows.select("vx", "vy").to_numpy()
    valid[r, s] = True
    sign = attack_sign(attacking_team)
    return FrameTensors(
        positions=torch.from_numpy(positions * sign),
        velocities=torch.from_numpy(velocities * sign),
        valid=torch.from_numpy(valid),
        periods=keys.get_column("period").to_numpy(),
        frames=keys.get_column("frame").to_numpy(),
        object_ids=object_ids,
    )
