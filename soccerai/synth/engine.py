"""The engine: one period of play from its events to 22 smooth trajectories and a ball path.

Per period:
1. the ball path (:mod:`soccerai.synth.ball`) and who owns the ball, frame by frame;
2. event constraints ("pins"): the event's player at its start position at its start frame, the receiver at the
   end position at the end frame (made reachable by :func:`soccerai.synth.kinematics.plan_pins`); a player heads
   for his next pin as soon as reaching it in time needs ``HURRY_FRACTION`` of his top speed, and a player
   holding the ball targets the ball;
3. a loop over frames: every ``COARSE_STEP`` frames the tactical model (:mod:`soccerai.synth.tactics`) sets
   targets from the current state (so markers react to the attackers they mark), then the acceleration-limited
   pursuit (:mod:`soccerai.synth.kinematics`) moves all 22 players at 25 Hz; runs in behind (the bursts) come
   from a per-role Poisson schedule plus transition runs the moment a team wins the ball;
4. pinning: smooth bumps make every constraint exact;
5. the ball is glued to the holder's feet while he has it (carries, receptions).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl
from scipy.optimize import linear_sum_assignment
from scipy.signal import lfilter

from soccerai.synth.ball import BallPath, bend_passes, build_ball_path, dribble_touches
from soccerai.synth.behaviour import Behaviour, BehaviourDraws, behaviour_draws, team_offsets
from soccerai.synth.kinematics import SpeedProfiles, UnreachablePin, pin_to_positions, plan_pins, pursuit_step
from soccerai.synth.tactics import TeamSetup, tactical_targets
from soccerai.synth.timeline import FRAME_RATE, Timeline

COARSE_STEP = 8
"""Frames between tactical decisions (0.32 s at 25 Hz: a player's reaction time)."""
PROGRESS_EVERY = 500
"""Coarse steps between progress callbacks."""
HURRY_FRACTION = 0.25
HURRY_GAIN = 1.6
HURRY_HORIZON_S = 1.5
HURRY_LOOKAHEAD_S = 1.0
FORCED_FRACTION = 0.3
DRIFT_SIGMA_M = 1.5
DRIFT_TAU_S = 8.0
RUN_RATE_PER_S = {"forward": 1.0 / 30.0, "midfielder": 1.0 / 60.0, "full-back": 1.0 / 80.0}
"""Runs in behind per second of play, by role (centre-backs and goalkeepers make none)."""
RUN_DURATION_S = 5.0
"""A run lasts this long: ~2 s to reach sprinting speed (see kinematics), then up to ~3 s of sprint."""
COUNTER_RUN_PROBABILITY = 0.25
"""Chance that a forward or midfielder breaks forward the moment his team wins the ball (transition run)."""
DEAD_BALL_URGENCY = 0.6
FOOT_OFFSET_M = 0.4
HOLD_LOOKAHEAD_S = 1.0
"""A ball holder targets the ball's position this far ahead (about his arrival time constant ``tau_arrive``): the
pursuit slows down near its target, so chasing the ball's current spot left him trailing by ~``tau_arrive * v``."""
HOLD_TYPES_SELF = ("CARRY", "RECOVERY", "SET PIECE", "CHALLENGE", "FAULT RECEIVED")


@dataclass(frozen=True)
class Occupancy:
    """Which player fills each of the 22 slots, as (player, first_frame, last_frame) stints."""

    stints: tuple[tuple[tuple[str, int, int], ...], ...]

    def slot_of(self, player: str | None, frame: int) -> int:
        if not player:
            return -1
        for slot, stints in enumerate(self.stints):
            for name, a, b in stints:
                if name == player and a <= frame <= b:
                    return slot
        return -1

    def name_at(self, slot: int, frame: int) -> str:
        """The player filling ``slot`` at ``frame`` (the slot's last stint after the end)."""
        for name, a, b in self.stints[slot]:
            if a <= frame <= b:
                return name
        return self.stints[slot][-1][0]

    def players(self) -> list[tuple[str, int]]:
        """Every (player, slot) that appears, in slot order."""
        return [(name, slot) for slot, stints in enumerate(self.stints) for name, _, _ in stints]


@dataclass(frozen=True)
class MissedEvent:
    """An event spot the timeline made unreachable (see :func:`plan_pins`): the slot, the dropped pin (frame index
    in the period) and the distance ``error_m`` between the simulated player and the event spot at that frame."""

    slot: int
    pin: UnreachablePin
    error_m: float


@dataclass(frozen=True)
class Humans:
    """The players' random behaviour for one match: its parameters, one generator per random source and the
    styles drawn once (:mod:`soccerai.synth.behaviour`); kept apart from the v3 generator so v3 draws stay as
    they were."""

    behaviour: Behaviour
    streams: dict[str, np.random.Generator]
    styles: tuple[np.ndarray, np.ndarray]


@dataclass
class PeriodResult:
    period: int
    first_frame: int
    home_sign: float
    pos: np.ndarray  # (n, 22, 2) provider orientation
    ball: BallPath
    pin_errors_m: np.ndarray  # residual errors at constraint frames (should be ~0)
    pre_pin_errors_m: np.ndarray  # how far the pursuit alone was from the event positions
    dropped_pins: int
    # the dropped pins and how far the player ended up from them:
    missed: list[MissedEvent] = field(default_factory=list)
    # player to event start spot at its start frame, for every event with a player and a position:
    event_errors_m: np.ndarray = field(default_factory=lambda: np.zeros(0))


def assign_slots(timeline: Timeline, setup: TeamSetup) -> Occupancy:
    """Starters (the goalkeeper and the 10 earliest-seen outfield players) take slots by role; substitutes take the
    slot of the teammate who left earliest before they came on."""
    stints: list[list[tuple[str, int, int]]] = [[] for _ in range(22)]
    first = min(p[1] for p in timeline.periods)
    last = max(p[2] for p in timeline.periods)
    for team, offset in (("home", 0), ("away", 11)):
        roster = timeline.roster.filter(pl.col("team") == team).sort("first_frame")
        keepers = roster.filter(pl.col("is_goalkeeper"))["player"].to_list()
        outfield = [p for p in roster["player"].to_list() if p not in keepers[:1]]
        keeper = keepers[0] if keepers else _invented(team, offset, 0)
        starters = outfield[:10] + [_invented(team, offset, k) for k in range(1, 11 - len(outfield[:10]))]
        stints[offset] = [(keeper, first, last)]
        order = _role_order(timeline, starters, setup, offset, team)
        for slot, player in zip(range(offset + 1, offset + 11), order, strict=True):
            stints[slot] = [(player, first, last)]
        info = {r["player"]: r for r in roster.iter_rows(named=True)}
        for sub in outfield[10:]:
            slot = min(
                range(offset + 1, offset + 11),
                key=lambda s: info.get(stints[s][-1][0], {"last_frame": last})["last_frame"],
            )
            name, a, _ = stints[slot][-1]
            leaves = info.get(name, {"last_frame": last})["last_frame"]
            switch = (
                (leaves + info[sub]["first_frame"]) // 2
                if leaves < info[sub]["first_frame"]
                else info[sub]["first_frame"] - 1
            )
            stints[slot][-1] = (name, a, switch)
            stints[slot].append((sub, switch + 1, last))
    return Occupancy(tuple(tuple(s) for s in stints))


def _invented(team: str, offset: int, k: int) -> str:
    return f"Player{90 + offset + k}"


def _role_order(
    timeline: Timeline, starters: list[str], setup: TeamSetup, offset: int, team: str
) -> list[str]:
    """Match starters to formation slots by their mean event position in their attacking frame (Hungarian)."""
    ev = timeline.events.filter(pl.col("team") == team)
    signs = {
        p: (1.0 if d else -1.0) * (1.0 if team == "home" else -1.0)
        for p, d in timeline.home_attacks_positive_x.items()
    }
    ev = ev.with_columns(pl.col("period").replace_strict(signs, default=1.0).alias("s"))
    mean = (
        ev.with_columns((pl.col("sx") * pl.col("s")).alias("ax"), (pl.col("sy") * pl.col("s")).alias("ay"))
        .filter(pl.col("ax").is_not_nan())
        .group_by("player")
        .agg(pl.col("ax").mean(), pl.col("ay").mean())
    )
    where = {r["player"]: (r["ax"], r["ay"]) for r in mean.iter_rows(named=True)}
    pts = np.array([where.get(p, (0.0, 0.0)) for p in starters])
    slots = np.stack(
        [setup.fx[offset + 1 : offset + 11] * 18.0, setup.fy[offset + 1 : offset + 11] * 22.0], axis=1
    )
    cost = np.hypot(pts[:, None, 0] - slots[None, :, 0], pts[:, None, 1] - slots[None, :, 1])
    rows, cols = linear_sum_assignment(cost)
    order = [""] * 10
    for r, c in zip(rows, cols, strict=True):
        order[c] = starters[r]
    return order


@dataclass
class _Script:
    """Per-period event-derived instructions on the period's frame index (0 = first frame)."""

    pins: dict[int, dict[int, tuple[float, float]]]
    override: np.ndarray  # (n_coarse, 22, 2) NaN where the tactical model decides
    holds: list[tuple[int, int, int]]  # (slot, first index, last index)
    # (slot, pin) for each constraint plan_pins dropped (the real timeline made it unreachable):
    unreachable: list[tuple[int, UnreachablePin]] = field(default_factory=list)

    @property
    def dropped_pins(self) -> int:
        """Constraints the real event data made unreachable."""
        return len(self.unreachable)


def _script(events: pl.DataFrame, occ: Occupancy, first_frame: int, n: int, frame_rate: float) -> _Script:
    n_c = (n + COARSE_STEP - 1) // COARSE_STEP
    override = np.full((n_c, 22, 2), np.nan)
    pins: dict[int, dict[int, tuple[float, float]]] = {s: {} for s in range(22)}
    holds: list[tuple[int, int, int]] = []
    rows = events.to_dicts()
    for i, ev in enumerate(rows):
        s, e = ev["start_frame"] - first_frame, ev["end_frame"] - first_frame
        p = occ.slot_of(ev["player"], ev["start_frame"])
        if p >= 0 and np.isfinite(ev["sx"]):
            pins[p][s] = (ev["sx"], ev["sy"])
        holder = p
        if ev["type"] == "PASS":
            r = occ.slot_of(ev["receiver"], ev["end_frame"])
            holder = r
            if r >= 0 and np.isfinite(ev["ex"]) and e > s:
                pins[r][e] = (ev["ex"], ev["ey"])
        elif ev["type"] not in HOLD_TYPES_SELF:
            holder = -1
        if ev["type"] == "CARRY" and p >= 0 and e > s:
            holds.append((p, s, e))
        nxt = rows[i + 1] if i + 1 < len(rows) else None
        if holder >= 0 and nxt is not None and occ.slot_of(nxt["player"], nxt["start_frame"]) == holder:
            a, b = max(e, s), nxt["start_frame"] - first_frame
            if b > a:
                holds.append((holder, a, b))
    unreachable: list[tuple[int, UnreachablePin]] = []
    for slot, wanted in pins.items():
        if wanted:
            frames = np.array(sorted(wanted), dtype=np.int64)
            frames, xy, lost = plan_pins(frames, np.array([wanted[f] for f in frames]), frame_rate)
            pins[slot] = {int(f): (float(a), float(b)) for f, (a, b) in zip(frames, xy, strict=True)}
            unreachable += [(slot, pin) for pin in lost]
    return _Script(pins=pins, override=override, holds=holds, unreachable=unreachable)


def run_rates(setup: TeamSetup) -> np.ndarray:
    """(22,) runs in behind per second for each slot, from his formation role (see ``RUN_RATE_PER_S``)."""
    forward = setup.fx >= 0.5
    midfielder = (setup.fx >= -0.5) & ~forward
    full_back = (setup.fx < -0.5) & (np.abs(setup.fy) >= 0.6)
    rates = np.select(
        [forward, midfielder, full_back],
        [RUN_RATE_PER_S["forward"], RUN_RATE_PER_S["midfielder"], RUN_RATE_PER_S["full-back"]],
        0.0,
    )
    return np.where(setup.is_keeper, 0.0, rates)


def possession_gains(owner_c: np.ndarray, team: np.ndarray) -> np.ndarray:
    """(n_c, 22) True at the coarse steps where the slot's team has just won the ball."""
    has = owner_c[:, None] == team[None, :]
    gained = np.zeros_like(has)
    gained[1:] = has[1:] & ~has[:-1]
    return gained


def _run_schedule(
    rng: np.random.Generator, n_c: int, frame_rate: float, rates: np.ndarray, gains: np.ndarray
) -> np.ndarray:
    """(n_c, 22) flags: runs in behind start as a Poisson process (``rates`` per second per slot) or, with
    probability ``COUNTER_RUN_PROBABILITY``, when the team wins the ball (``gains``) for forwards and midfielders
    (slots with a rate above the full-backs'); each lasts ``RUN_DURATION_S``."""
    dt_c = COARSE_STEP / frame_rate
    draws = rng.random((n_c, 22))
    counter = gains & (rates > RUN_RATE_PER_S["full-back"])[None, :] & (draws < COUNTER_RUN_PROBABILITY)
    starts = (draws < rates[None, :] * dt_c) | counter
    length = max(int(RUN_DURATION_S / dt_c), 1)
    counts = np.cumsum(starts, axis=0)
    counts[length:] -= counts[:-length].copy()
    return counts > 0


def _smoothed(xy: np.ndarray, tau_frames: float) -> np.ndarray:
    """Exponential moving average ``s_k = s_k-1 + (x_k - s_k-1) / tau`` (a block shifts with the ball, with lag)."""
    alpha = 1.0 / max(tau_frames, 1.0)
    return lfilter([alpha], [1.0, alpha - 1.0], xy, axis=0, zi=np.outer([1.0 - alpha], xy[0]))[0]


def _drift(
    rng: np.random.Generator, n_c: int, frame_rate: float, sigma: float = DRIFT_SIGMA_M, tau: float = DRIFT_TAU_S
) -> np.ndarray:
    """Ornstein-Uhlenbeck wander of each player's target (stationary std ``sigma``, time constant ``tau``, v3:
    ``DRIFT_SIGMA_M``, ``DRIFT_TAU_S``): x_{k+1} = rho x_k + sigma sqrt(1 - rho^2) xi_k."""
    rho = float(np.exp(-(COARSE_STEP / frame_rate) / tau))
    noise = rng.standard_normal((n_c, 22, 2))
    out = lfilter([sigma * np.sqrt(1 - rho**2)], [1.0, -rho], noise, axis=0)
    return out


def simulate_period(
    timeline: Timeline,
    period: int,
    first_frame: int,
    last_frame: int,
    setup: TeamSetup,
    occ: Occupancy,
    prof: SpeedProfiles,
    rng: np.random.Generator,
    progress=None,
    humans: Humans | None = None,
    trace: PeriodTrace | None = None,
) -> PeriodResult:
    """Simulate frames ``first_frame..last_frame`` of one period (``humans``: the players' random behaviour, None =
    the v3 synthesizer; ``trace``: filled with what a re-play needs, see :class:`PeriodTrace`)."""
    fr = FRAME_RATE
    events = timeline.events.filter(
        (pl.col("period") == period) & pl.col("start_frame").is_between(first_frame, last_frame)
    ).with_columns(pl.col("end_frame").clip(upper_bound=last_frame))
    n = last_frame - first_frame + 1
    ball = build_ball_path(events, first_frame, last_frame, fr)
    script = _script(events, occ, first_frame, n, fr)
    _holders_chase_ball(script, ball, fr)
    home_sign = 1.0 if timeline.home_attacks_positive_x.get(period, True) else -1.0
    pos = _simulate(setup, ball, script, prof, rng, home_sign, n, fr, progress, humans, trace)
    pre_pin, pin_errors = _apply_pins(pos, script.pins, fr, prof.v_max)
    b = humans.behaviour if humans is not None else None
    if b is not None and b.pass_bend_sigma > 0:
        bend_passes(ball, events, first_frame, humans.streams["pass_bend"], b.pass_bend_sigma)
    glue_ball_to_holders(ball, pos, script.holds)
    if b is not None and b.touch_interval_s > 0:
        dribble_touches(ball, script.holds, fr, humans.streams["touch"], b.touch_interval_s)
    pin_ball_to_events(ball, events, first_frame, fr)
    missed = missed_events(pos, script.unreachable)
    errors = event_errors(pos, events, occ, first_frame)
    result = PeriodResult(
        period, first_frame, home_sign, pos, ball, pin_errors, pre_pin, script.dropped_pins, missed, errors
    )
    if trace is not None:
        trace.result, trace.occ, trace.events = result, occ, events
    return result


def event_errors(pos: np.ndarray, events: pl.DataFrame, occ: Occupancy, first_frame: int) -> np.ndarray:
    """Distance (m) from each event's player to the event's start spot at its start frame, for every event with a
    player and a position: ``|pos[f, slot] - (sx, sy)|``, the figure an event-vs-tracking check measures."""
    out = []
    for frame, player, sx, sy in events.select("start_frame", "player", "sx", "sy").iter_rows():
        slot, k = occ.slot_of(player, frame), frame - first_frame
        if slot >= 0 and np.isfinite(sx) and 0 <= k < pos.shape[0]:
            out.append(float(np.hypot(pos[k, slot, 0] - sx, pos[k, slot, 1] - sy)))
    return np.array(out)


def missed_events(pos: np.ndarray, unreachable: list[tuple[int, UnreachablePin]]) -> list[MissedEvent]:
    """How far each slot ended up from the event spots it could not reach: ``|pos[frame, slot] - (x, y)|``."""
    out = []
    for slot, pin in unreachable:
        if 0 <= pin.frame < pos.shape[0]:
            gap = pos[pin.frame, slot] - (pin.x, pin.y)
            out.append(MissedEvent(slot, pin, float(np.hypot(*gap))))
    return out


def _simulate(
    setup, ball: BallPath, script: _Script, prof, rng, home_sign: float, n: int, fr: float, progress,
    humans: Humans | None = None, trace: PeriodTrace | None = None,
) -> np.ndarray:
    loop = period_loop(setup, ball, script, prof, rng, home_sign, n, fr, humans)
    state = loop.initial_state()
    out = np.empty((n, 22, 2))
    snapshots: list[LoopState] | None = [] if trace is not None else None
    loop.advance(state, n - 1, out, progress=progress, snapshots=snapshots)
    if trace is not None:
        trace.loop, trace.raw, trace.snapshots, trace.script = loop, out.copy(), snapshots, script
    return out


@dataclass
class LoopState:
    """The frame loop's full state after frame ``frame`` (period index; -1 = before the first): positions and
    velocities (22, 2), the target and urgency being chased (set at the last tactical step) and each player's held
    decision (``held_target``, ``held_urg``: what he chose when he last re-read the situation)."""

    frame: int
    pos: np.ndarray
    vel: np.ndarray
    target: np.ndarray
    urg: np.ndarray
    held_target: np.ndarray
    held_urg: np.ndarray

    def copy(self) -> LoopState:
        return LoopState(self.frame, *(a.copy() for a in (self.pos, self.vel, self.target, self.urg,
                                                          self.held_target, self.held_urg)))


@dataclass
class PeriodLoop:
    """Everything the frame loop of one period reads, the random draws included (drawn up front for the whole
    period: ``running`` run-in-behind flags, ``drift`` target wander, ``draws`` the behaviour draws), so the loop can
    be resumed from any :class:`LoopState` (:mod:`soccerai.synth.replay`)."""

    setup: TeamSetup
    prof: SpeedProfiles
    fr: float
    n: int
    home_sign: float
    behaviour: Behaviour
    ball_xy: np.ndarray  # (n, 2) the ball as the players see it (before bends and gluing)
    owner: np.ndarray  # (n,) team in possession
    alive: np.ndarray  # (n,) bool
    block_ball: np.ndarray  # (n, 2)
    running: np.ndarray  # (n_c, 22) bool
    drift: np.ndarray  # (n_c, 22, 2)
    draws: BehaviourDraws | None
    override: np.ndarray  # (n_c, 22, 2)
    next_frame: np.ndarray  # (n_c, 22)
    next_xy: np.ndarray  # (n_c, 22, 2)
    initial_pos: np.ndarray  # (22, 2)

    def initial_state(self) -> LoopState:
        z2 = np.zeros((22, 2))
        return LoopState(-1, self.initial_pos.copy(), z2.copy(), z2.copy(), np.zeros(22), z2.copy(), np.zeros(22))

    def decide(self, state: LoopState, c: int) -> None:
        """Tactical step ``c`` (frame ``c * COARSE_STEP``): new targets and urgencies from the current state."""
        setup, b, draws = self.setup, self.behaviour, self.draws
        f = c * COARSE_STEP
        owner = int(self.owner[f])
        shift = None
        if draws is not None:
            shift = team_offsets(draws.team_shift[c], owner, b.shift_mirror)[setup.team]
        target, urg = tactical_targets(
            setup, state.pos, state.vel, self.ball_xy[f], owner, self.home_sign, self.running[c],
            self.block_ball[f], shape=b.block_shape(), urgency=b.urgency(), block_offset=shift,
        )
        target += self.drift[c]
        if draws is not None:  # each player decides on his own clock, with his own intention and work rate
            decide = draws.decide[c]
            state.held_target[decide], state.held_urg[decide] = target[decide], urg[decide]
            roam = np.where(setup.team == owner, 1.0, b.defending_roam)
            target = state.held_target + draws.offset[c] * roam[:, None]
            urg = np.clip(state.held_urg * draws.urgency[c], 0.05, 1.0)
        if not self.alive[f]:
            urg = urg * DEAD_BALL_URGENCY
        _head_for_next_event(
            target, urg, state.pos, state.vel, f, self.next_frame[c], self.next_xy[c], self.prof, self.fr,
            b.foresight_s,
        )
        fixed = ~np.isnan(self.override[c, :, 0])
        target[fixed] = self.override[c, fixed]
        urg[fixed] = 1.0
        state.target, state.urg = target, urg

    def advance(self, state: LoopState, last: int, out: np.ndarray | None = None, hook=None, progress=None,
                snapshots: list[LoopState] | None = None, out_offset: int = 0) -> None:
        """Play frames ``state.frame + 1 .. last`` in place: a tactical step at every multiple of ``COARSE_STEP``,
        then one pursuit step per frame. ``out[k - out_offset]`` receives the positions of frame ``k``;
        ``hook(k, pos, vel)`` may change them after the pursuit step of frame ``k`` (forced players) before anyone
        sees them; ``snapshots`` collects a copy of the state just before each tactical step."""
        dt = 1.0 / self.fr
        n_c = self.override.shape[0]
        for k in range(state.frame + 1, last + 1):
            c = k // COARSE_STEP
            if k % COARSE_STEP == 0:
                if snapshots is not None:
                    snapshots.append(state.copy())
                self.decide(state, c)
            pursuit_step(state.pos, state.vel, state.target, state.urg, self.prof, dt)
            state.frame = k
            if hook is not None:
                hook(k, state.pos, state.vel)
            if out is not None:
                out[k - out_offset] = state.pos
            step_end = k % COARSE_STEP == COARSE_STEP - 1 or k == self.n - 1
            if progress is not None and step_end and (c % PROGRESS_EVERY == PROGRESS_EVERY - 1 or c == n_c - 1):
                progress(k + 1 - (c - c % PROGRESS_EVERY) * COARSE_STEP)


def period_loop(
    setup, ball: BallPath, script: _Script, prof, rng, home_sign: float, n: int, fr: float,
    humans: Humans | None = None,
) -> PeriodLoop:
    """Draw the period's random decisions (in the synthesizer's order) and set up its frame loop."""
    n_c = script.override.shape[0]
    owner = np.where(ball.owner < 0, 0, ball.owner)
    gains = possession_gains(owner[np.arange(n_c) * COARSE_STEP], setup.team)
    b = humans.behaviour if humans is not None else Behaviour.v3()
    running = _run_schedule(rng, n_c, fr, run_rates(setup) * b.run_rate_scale, gains)
    drift = _drift(rng, n_c, fr, b.drift_sigma_m, b.drift_tau_s)
    drift[:, setup.is_keeper] *= 0.2
    draws: BehaviourDraws | None = None
    if humans is not None:
        draws = behaviour_draws(humans.streams, b, n_c, COARSE_STEP / fr, setup.is_keeper, humans.styles)
    ball_xy = np.stack([ball.x, ball.y], axis=1)
    block_ball = _smoothed(ball_xy, b.block_tau_s * fr)
    pos, _ = tactical_targets(
        setup, np.zeros((22, 2)), np.zeros((22, 2)), np.zeros(2), int(owner[0]), home_sign, running[0],
        shape=b.block_shape(), urgency=b.urgency(),
    )
    sign = np.where(setup.team == 0, home_sign, -home_sign)
    pos[:, 0] = np.where(
        sign * pos[:, 0] > -1.0, -sign * 1.0, pos[:, 0]
    )  # kick-off: everyone in his own half
    next_frame, next_xy = _next_pins(script.pins, n_c)
    starts_at_event = next_frame[0] < 2 * fr  # kick-off taker and first receivers start on their spots
    pos[starts_at_event] = next_xy[0, starts_at_event]
    return PeriodLoop(
        setup, prof, fr, n, home_sign, b, ball_xy, owner, ball.alive.copy(), block_ball, running, drift, draws,
        script.override, next_frame, next_xy, pos,
    )


@dataclass
class PeriodTrace:
    """What :func:`simulate_period` keeps for a re-play when asked (``trace=``): the frame loop, the positions
    before pinning (``raw`` (n, 22, 2)), the loop state before every tactical step (``snapshots[c]``), the
    event script (pins and holds), the period's result (pinned positions, final ball), the slots' occupancy and
    the period's events (provider orientation)."""

    loop: PeriodLoop | None = None
    raw: np.ndarray | None = None
    snapshots: list[LoopState] | None = None
    script: _Script | None = None
    result: PeriodResult | None = None
    occ: Occupancy | None = None
    events: pl.DataFrame | None = None


def _next_pins(pins: dict[int, dict[int, tuple[float, float]]], n_c: int) -> tuple[np.ndarray, np.ndarray]:
    """For each coarse step and slot: the frame index and position of the slot's next constraint (or none)."""
    next_frame = np.full((n_c, 22), np.iinfo(np.int64).max // 2, dtype=np.int64)
    next_xy = np.zeros((n_c, 22, 2))
    now = np.arange(n_c) * COARSE_STEP
    for slot, wanted in pins.items():
        if not wanted:
            continue
        frames = np.array(sorted(wanted), dtype=np.int64)
        xy = np.array([wanted[f] for f in frames])
        k = np.searchsorted(frames, now, side="left")
        has = k < frames.size
        next_frame[has, slot] = frames[k[has]]
        next_xy[has, slot] = xy[k[has]]
    return next_frame, next_xy


def _head_for_next_event(
    target, urg, pos, vel, frame: int, next_frame, next_xy, prof: SpeedProfiles, fr: float,
    foresight_s: float = float("inf"),
) -> None:
    """Arrive on time: once reaching the next event spot needs more than ``HURRY_FRACTION`` of top speed (or it
    is less than ``HURRY_HORIZON_S`` away), the player heads there at the speed the remaining time asks for; only
    spots at most ``foresight_s`` ahead count (what a player can see coming), unless waiting any longer would
    need more than ``FORCED_FRACTION`` of his top speed (the play around him makes it obvious: without this the
    pinning bumps would push him past a human top speed)."""
    remaining = np.maximum((next_frame - frame) / fr, 0.2)
    coast = np.minimum(HURRY_LOOKAHEAD_S, remaining)[:, None]
    ahead = pos + vel * coast  # where his momentum carries him: decide before he runs the wrong way
    dist = np.maximum(
        np.hypot(next_xy[:, 0] - ahead[:, 0], next_xy[:, 1] - ahead[:, 1]),
        np.hypot(next_xy[:, 0] - pos[:, 0], next_xy[:, 1] - pos[:, 1]),
    )
    need = dist / remaining
    foreseen = (remaining <= foresight_s) | (need > FORCED_FRACTION * prof.v_max)
    hurry = ((need > HURRY_FRACTION * prof.v_max) | (remaining < HURRY_HORIZON_S)) & foreseen
    target[hurry] = next_xy[hurry]
    urg[hurry] = np.clip(HURRY_GAIN * need[hurry] / prof.v_max[hurry], 0.35, 1.0)


def _holders_chase_ball(script: _Script, ball: BallPath, frame_rate: float = FRAME_RATE) -> None:
    """While a player holds the ball (carry, reception until his next action) his target is where the ball will be
    ``HOLD_LOOKAHEAD_S`` later (never past the hold's end): he dribbles along its path instead of trailing it."""
    n = ball.x.size
    lead = int(round(HOLD_LOOKAHEAD_S * frame_rate))
    for slot, a, b in script.holds:
        coarse = np.arange(a // COARSE_STEP, min(b, n - 1) // COARSE_STEP + 1)
        frames = np.clip(coarse * COARSE_STEP + lead, 0, min(b, n - 1))
        script.override[coarse, slot, 0] = ball.x[frames]
        script.override[coarse, slot, 1] = ball.y[frames]


def _apply_pins(
    pos: np.ndarray, pins: dict[int, dict[int, tuple[float, float]]], fr: float, v_max: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pin every slot to its constraints (bumps kept under his top speed ``v_max[slot]`` where the gaps between
    his constraints allow); returns the distances to them before and after pinning (metres)."""
    errors, errors_before = [], []
    for slot, wanted in pins.items():
        if not wanted:
            continue
        frames = np.array(sorted(wanted), dtype=np.int64)
        frames = frames[(frames >= 0) & (frames < pos.shape[0])]
        targets = np.array([wanted[f] for f in frames])
        errors_before.append(np.hypot(*(pos[frames, slot] - targets).T))
        pos[:, slot] = pin_to_positions(pos[:, slot], frames, targets, fr, v_cap=float(v_max[slot]))
        errors.append(np.hypot(*(pos[frames, slot] - targets).T))
    if not errors:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(errors_before), np.concatenate(errors)


def glue_ball_to_holders(ball: BallPath, pos: np.ndarray, holds: list[tuple[int, int, int]]) -> None:
    """While a player has the ball, it is at his feet: his position plus up to ``FOOT_OFFSET_M`` ahead of him
    (zero at the ends of the hold, where he is pinned to the event's position)."""
    n = ball.x.size
    for slot, a, b in holds:
        a, b = max(a, 0), min(b, n - 1)
        if b - a < 2:
            continue
        track = pos[a : b + 1, slot]
        step = np.gradient(track, axis=0)
        norm = np.maximum(np.hypot(step[:, 0], step[:, 1]), 1e-9)[:, None]
        window = np.sin(np.pi * np.linspace(0.0, 1.0, b - a + 1))[:, None]
        ahead = track + step / norm * FOOT_OFFSET_M * window * (norm > 1e-3)
        ball.x[a : b + 1], ball.y[a : b + 1] = ahead[:, 0], ahead[:, 1]
        ball.z[a : b + 1] = 0.0


def pin_ball_to_events(ball: BallPath, events: pl.DataFrame, first_frame: int, fr: float) -> None:
    """After gluing, bend the ball path so it passes through every event's start position at its start frame
    (events sharing a frame, e.g. the two sides of a challenge, share their mean position)."""
    known = (
        events.filter(pl.col("sx").is_not_nan())
        .group_by("start_frame")
        .agg(pl.col("sx").mean(), pl.col("sy").mean())
        .sort("start_frame")
    )
    frames = known["start_frame"].to_numpy() - first_frame
    inside = (frames >= 0) & (frames < ball.x.size)
    if not inside.any():
        return
    track = np.stack([ball.x, ball.y], axis=1)
    targets = np.stack([known["sx"].to_numpy(), known["sy"].to_numpy()], axis=1)[inside]
    track = pin_to_positions(track, frames[inside], targets, fr)
    ball.x[:], ball.y[:] = track[:, 0], track[:, 1]
