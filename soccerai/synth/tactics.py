"""The tactical model: where each of the 22 players WANTS to be, given the ball and everyone's positions.

Evaluated at a coarse rate (every few frames) by the engine; the kinematic follower
(:mod:`soccerai.synth.kinematics`) turns these targets into human motion. Everything is vectorised over the 22
slots (0-10 home, 11-21 away; slot 0 and 11 are the goalkeepers). Each team reasons in its **attacking frame**
(provider coordinates rotated so it attacks +x): ``a = s * p`` with ``s = +1`` or ``-1`` per team and period.

Rules (what a coach would recognise):
1. **Formation slots** (4-4-2, 4-3-3, 3-5-2): unit coordinates ``(fx, fy)`` scaled into a block of half-length L
   and half-width W centred at ``(cx, cy)``. The block **shifts** with the ball (``cx`` follows ball x, ``cy`` a
   third of ball y) and **compacts** out of possession (smaller L and W, deeper ``cx``).
2. **Offside line**: attackers stay level with the opponents' last outfield player...
3. ... unless **running in behind** (a stochastic run schedule per player): then the target is a few metres past
   that line. Other attackers drift **into space**, away from their nearest opponent.
4. **Recovery**: an out-of-possession outfield player the ball has got past (the ball nearer his own goal than he
   is, by more than ``RECOVERY_BEHIND_M``; defenders and midfielders, forwards stay up) sprints back to get goal-side of it, instead of jogging into shape.
5. **Pressing**: the defender nearest the ball goes to the ball; the second nearest covers goal-side of it.
6. **Marking**: other defenders mark the attacker nearest their zone when he is near the ball: goal-side of him,
   leading his velocity, so a marker's next move depends on the attacker he marks; a marker matches his man's
   pace (urgency ``|v_attacker| / TYPICAL_TOP_SPEED + MARK_PACE_MARGIN``), so a run in behind draws a recovery
   sprint from the defender tracking it.
7. **Goalkeepers** stand on the segment from the centre of their goal to the ball.
Targets are finally clipped to the pitch (plus a small margin).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from soccerai.match.schema import DEFAULT_PITCH

HALF_LENGTH, HALF_WIDTH = DEFAULT_PITCH[0] / 2, DEFAULT_PITCH[1] / 2
MARK_ZONE_M = 18.0
"""A defender marks the attacker nearest his zone target when that attacker is within this distance of it..."""
MARK_BALL_M = 40.0
"""...and within this distance of the ball."""
MARK_GOAL_SIDE_M = 1.5
MARK_PACE_MARGIN = 0.15
"""Extra fraction of top speed a marker uses on top of his attacker's pace (to stay goal-side of him)."""
TYPICAL_TOP_SPEED = 8.6
"""m/s: converts an attacker's speed into the fraction of top speed his marker needs."""
RUN_BEYOND_LINE_M = 10.0
"""A run in behind aims this far past the opponents' last outfield player."""
RECOVERY_BEHIND_M = 6.0
"""A player is caught upfield when the ball is this much nearer his own goal than he is (along the pitch)."""
RECOVERY_GOAL_SIDE_M = 3.0
"""A recovering player heads for this many metres goal-side of the ball (or his shape, if that is deeper)."""

FORMATIONS: dict[str, np.ndarray] = {
    # outfield (fx, fy): fx -1 back line, 0 midfield, +1 forward line; fy -1..1 across (right to left)
    "4-4-2": np.array(
        [
            (-1, -0.8),
            (-1, -0.27),
            (-1, 0.27),
            (-1, 0.8),
            (0, -0.8),
            (0, -0.27),
            (0, 0.27),
            (0, 0.8),
            (1, -0.3),
            (1, 0.3),
        ]
    ),
    "4-3-3": np.array(
        [
            (-1, -0.8),
            (-1, -0.27),
            (-1, 0.27),
            (-1, 0.8),
            (-0.1, -0.5),
            (-0.25, 0.0),
            (-0.1, 0.5),
            (1, -0.75),
            (1.1, 0.0),
            (1, 0.75),
        ]
    ),
    "3-5-2": np.array(
        [
            (-1, -0.5),
            (-1.05, 0.0),
            (-1, 0.5),
            (0.05, -0.9),
            (-0.15, -0.35),
            (-0.3, 0.0),
            (-0.15, 0.35),
            (0.05, 0.9),
            (1, -0.3),
            (1, 0.3),
        ]
    ),
}


@dataclass(frozen=True)
class BlockShape:
    """Block centre and size as a function of the ball in the team's attacking frame (metres)."""

    follow_x: float = 0.55  # d cx / d ball_x
    follow_y: float = 0.35
    attack_offset: float = 4.0  # cx = follow_x * ball_x + offset
    defend_offset: float = -13.0
    attack_half_length: float = 19.0
    defend_half_length: float = 13.5
    attack_half_width: float = 26.0
    defend_half_width: float = 18.0


@dataclass(frozen=True)
class Urgency:
    """Fraction of a player's top speed he is willing to use for each kind of target."""

    formation: float = 0.23
    formation_far: float = 0.15  # players far from the ball walk back into shape
    far_from_ball_m: float = 30.0
    press: float = 0.92
    cover: float = 0.55
    mark: float = 0.5
    run: float = 1.0
    recovery: float = 1.0
    goalkeeper: float = 0.55
    event: float = 1.0


@dataclass(frozen=True)
class TeamSetup:
    """Static per-slot facts for one match: team of each slot, goalkeeper mask, formation coordinates."""

    team: np.ndarray  # (22,) 0 home, 1 away
    is_keeper: np.ndarray  # (22,) bool
    fx: np.ndarray  # (22,) formation depth (0 for keepers)
    fy: np.ndarray  # (22,) formation width position


def team_setup(home_formation: str, away_formation: str) -> TeamSetup:
    """Slots 0 and 11 are keepers; slots 1-10 and 12-21 take the formation's outfield positions in order."""
    team = np.repeat([0, 1], 11)
    keeper = np.zeros(22, dtype=bool)
    keeper[[0, 11]] = True
    fx, fy = np.zeros(22), np.zeros(22)
    for offset, name in ((1, home_formation), (12, away_formation)):
        coords = FORMATIONS[name]
        fx[offset : offset + 10], fy[offset : offset + 10] = coords[:, 0], coords[:, 1]
    return TeamSetup(team=team, is_keeper=keeper, fx=fx, fy=fy)


def tactical_targets(
    setup: TeamSetup,
    pos: np.ndarray,
    vel: np.ndarray,
    ball: np.ndarray,
    owner: int,
    home_sign: float,
    running: np.ndarray,
    block_ball: np.ndarray | None = None,
    shape: BlockShape = BlockShape(),
    urgency: Urgency = Urgency(),
    block_offset: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Targets (22, 2) in provider coordinates and urgencies (22,) for one instant.

    ``owner`` is the team in possession (0 home, 1 away); ``home_sign`` is +1 when home attacks +x this period;
    ``running`` (22,) flags attackers currently making a run in behind; ``block_ball`` is the (slowly smoothed)
    ball position the blocks shift with (default: the ball itself); ``block_offset`` (22, 2) moves each slot's
    block centre by that much in his team's attacking frame (a team stepping up or sliding across together).
    """
    sign = np.where(setup.team == 0, home_sign, -home_sign)
    attacking = setup.team == owner
    outfield = ~setup.is_keeper
    target_a, urg = _formation_targets(
        setup, sign, attacking, ball if block_ball is None else block_ball, shape, urgency
    )
    if block_offset is not None:
        target_a[~setup.is_keeper] += block_offset[~setup.is_keeper]
    target_a = _offside_and_runs(setup, target_a, urg, pos, sign, attacking, outfield, running, urgency)
    caught = _recover(target_a, urg, pos, ball, sign, ~attacking & outfield & (setup.fx < 0.5), urgency)
    target = target_a * sign[:, None]
    target, urg = _into_space(target, urg, pos, attacking & outfield, ~attacking)
    target, urg = _press_and_mark(
        setup, target, urg, pos, vel, ball, sign, ~attacking & outfield, attacking & outfield, urgency
    )
    urg[caught] = np.maximum(urg[caught], urgency.recovery)  # a caught presser or marker still sprints
    target, urg = _goalkeepers(setup, target, urg, ball, sign, attacking, urgency)
    np.clip(target[:, 0], -HALF_LENGTH - 2.0, HALF_LENGTH + 2.0, out=target[:, 0])
    np.clip(target[:, 1], -HALF_WIDTH - 2.0, HALF_WIDTH + 2.0, out=target[:, 1])
    return target, urg


def _formation_targets(setup, sign, attacking, ball, shape: BlockShape, urgency: Urgency):
    ball_ax, ball_ay = sign * ball[0], sign * ball[1]
    cx = np.where(
        attacking,
        np.clip(shape.follow_x * ball_ax + shape.attack_offset, -24.0, 26.0),
        np.clip(shape.follow_x * ball_ax + shape.defend_offset, -37.0, 12.0),
    )
    cy = np.clip(shape.follow_y * ball_ay, -11.0, 11.0)
    half_l = np.where(attacking, shape.attack_half_length, shape.defend_half_length)
    half_w = np.where(attacking, shape.attack_half_width, shape.defend_half_width)
    target_a = np.stack([cx + setup.fx * half_l, cy + setup.fy * half_w], axis=1)
    far = np.hypot(target_a[:, 0] - ball_ax, target_a[:, 1] - ball_ay) > urgency.far_from_ball_m
    return target_a, np.where(far, urgency.formation_far, urgency.formation)


def _offside_and_runs(setup, target_a, urg, pos, sign, attacking, outfield, running, urgency: Urgency):
    """Attackers keep level with the last defender unless running in behind him."""
    for team in (0, 1):
        mates = (setup.team == team) & attacking & outfield
        if not mates.any():
            continue
        s = sign[mates][0]
        opponents = (setup.team != team) & outfield
        last_line = float(np.max(s * pos[opponents, 0]))  # deepest opponent, in this team's attacking frame
        last_line = max(last_line, 0.0)  # no offside in one's own half
        runners = mates & running
        keep = mates & ~running
        target_a[keep, 0] = np.minimum(target_a[keep, 0], last_line - 0.5)
        target_a[runners, 0] = np.clip(
            np.maximum(last_line + RUN_BEYOND_LINE_M, target_a[runners, 0]), None, HALF_LENGTH - 4.0
        )
        urg[runners] = urgency.run
    return target_a


def _recover(target_a, urg, pos, ball, sign, defenders, urgency: Urgency) -> np.ndarray:
    """Defenders the ball has got past sprint back goal-side of it (attacking frame: own goal at -x).

    Caught upfield: ``a_x(player) - a_x(ball) > RECOVERY_BEHIND_M``; the target becomes
    ``min(shape x, a_x(ball) - RECOVERY_GOAL_SIDE_M)`` at urgency ``recovery`` (in place). Returns the caught
    mask: pressing or marking may then change such a player's target, but not slow him down.
    """
    pos_ax, ball_ax = sign * pos[:, 0], sign * ball[0]
    caught = defenders & (pos_ax - ball_ax > RECOVERY_BEHIND_M)
    target_a[caught, 0] = np.minimum(target_a[caught, 0], ball_ax[caught] - RECOVERY_GOAL_SIDE_M)
    urg[caught] = urgency.recovery
    return caught


def _into_space(target, urg, pos, movers, opponents, comfort: float = 7.0):
    """Off-ball attackers drift away from their nearest opponent when closer than ``comfort`` metres."""
    if not movers.any() or not opponents.any():
        return target, urg
    diff = pos[movers, None, :] - pos[None, opponents, :]
    dist = np.hypot(diff[..., 0], diff[..., 1])
    nearest = np.argmin(dist, axis=1)
    d = dist[np.arange(nearest.size), nearest]
    away = diff[np.arange(nearest.size), nearest] / np.maximum(d, 1e-6)[:, None]
    push = np.clip(comfort - d, 0.0, None) * 0.8
    target[movers] += away * push[:, None]
    return target, urg


def _press_and_mark(setup, target, urg, pos, vel, ball, sign, defenders, attackers, urgency: Urgency):
    """Nearest defender presses, second covers; the rest mark attackers near their zone and near the ball."""
    d_idx = np.flatnonzero(defenders)
    a_idx = np.flatnonzero(attackers)
    if d_idx.size == 0:
        return target, urg
    to_ball = np.hypot(pos[d_idx, 0] - ball[0], pos[d_idx, 1] - ball[1])
    order = np.argsort(to_ball)
    own_goal = np.array([-sign[d_idx[0]] * HALF_LENGTH, 0.0])
    goal_dir = own_goal - ball
    goal_dir = goal_dir / max(float(np.hypot(*goal_dir)), 1e-6)
    presser, cover = d_idx[order[0]], d_idx[order[1]] if d_idx.size > 1 else -1
    target[presser] = ball + goal_dir * 1.0
    urg[presser] = urgency.press
    if cover >= 0 and to_ball[order[1]] < 18.0:
        target[cover] = ball + goal_dir * 6.0
        urg[cover] = urgency.cover
    markers = d_idx[order[2:]]
    if markers.size and a_idx.size:
        zone = target[markers]
        gap = np.hypot(zone[:, None, 0] - pos[None, a_idx, 0], zone[:, None, 1] - pos[None, a_idx, 1])
        nearest = a_idx[np.argmin(gap, axis=1)]
        near_zone = gap.min(axis=1) < MARK_ZONE_M
        near_ball = np.hypot(pos[nearest, 0] - ball[0], pos[nearest, 1] - ball[1]) < MARK_BALL_M
        active = near_zone & near_ball
        m, a = markers[active], nearest[active]
        if m.size:
            goal_side = own_goal[None, :] - pos[a]
            goal_side /= np.maximum(np.hypot(goal_side[:, 0], goal_side[:, 1]), 1e-6)[:, None]
            target[m] = pos[a] + 0.6 * vel[a] + MARK_GOAL_SIDE_M * goal_side
            pace = np.hypot(vel[a, 0], vel[a, 1]) / TYPICAL_TOP_SPEED + MARK_PACE_MARGIN
            urg[m] = np.clip(pace, urgency.mark, 1.0)
    return target, urg


def _goalkeepers(setup, target, urg, ball, sign, attacking, urgency: Urgency):
    """Keepers on the line from their goal's centre to the ball, further out when their team has the ball."""
    for k in np.flatnonzero(setup.is_keeper):
        goal = np.array([-sign[k] * HALF_LENGTH, 0.0])
        ray = ball - goal
        dist = max(float(np.hypot(*ray)), 1e-6)
        depth = min(max(0.2 * dist, 1.0), 22.0) if attacking[k] else min(max(0.1 * dist + 1.0, 1.0), 7.0)
        target[k] = goal + ray / dist * depth
        urg[k] = urgency.goalkeeper
    return target, urg
