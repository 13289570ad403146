"""Human stochasticity of the simulated players: decisions at their own pace, intentions that change, styles.

The tactical model (:mod:`soccerai.synth.tactics`) says where a player *should* be; real players are not that
predictable. :class:`Behaviour` holds the parameters of the random sources layered on top of it. Each source draws
from its own seeded generator (:func:`behaviour_streams`: ``default_rng([seed, BEHAVIOUR_STREAM, k])`` for the
``k``-th name of :data:`SOURCES`), so a seed gives the same match and turning one source off leaves every other
source's draws unchanged:

1. **Reaction delays** (``decision_mean_s``): each player re-reads the situation on his own Poisson clock
   (probability ``dt_c / decision_mean_s`` per tactical step of ``dt_c`` seconds); in between he keeps chasing the
   target (and urgency) he chose last time, so he reacts to the ball and to his marker with a random delay of mean
   ``decision_mean_s`` (0 = every step, synchronised: the v3 synthesizer).
2. **Intentions that change** (``intention_rate_per_s``, ``intention_sigma_m``, ``intention_urgency_sigma``): at
   Poisson times (rate per second) a player picks a new personal offset ``o ~ N(0, (s_k sigma)^2 I)`` from his
   tactical target (checking away, offering, drifting into a channel) and a new urgency factor
   ``exp(N(0, intention_urgency_sigma^2))``; both hold until his next change. Out of possession the offset shrinks
   to ``defending_roam`` of itself (defenders keep their man and their shape).
3. **Individual styles** (``style_sigma``): per player, drawn once per match, a work-rate factor
   ``w_k = exp(N(0, style_sigma^2))`` on every urgency and a roaming factor ``s_k = exp(N(0, style_sigma^2))`` on
   his intention offsets. Goalkeepers roam ``KEEPER_ROAM`` as much.
4. **Foresight** (``foresight_s``): an off-ball player heads for his next event spot only once it is at most
   ``foresight_s`` ahead (what he can see coming: a pass on its way, a ball he is about to win); before that he
   plays his tactical role. The pinning bumps (:mod:`soccerai.synth.kinematics`) still make every reachable event
   exact. ``inf`` = unlimited foresight (v3).
5. **Team shifts** (``team_shift_sigma_m``, ``team_shift_tau_s``): real teams step up, drop off and slide across
   *together*; each team's block centre gets its own two-dimensional Ornstein-Uhlenbeck offset (in the team's
   attacking frame) ``u_c+1 = rho u_c + sigma sqrt(1 - rho^2) xi_c``, ``rho = exp(-dt_c / tau)``, shared by its
   ten outfield players, so the team centroid moves and the 1-4 s future gets less predictable without stretching
   the team (personal intentions are independent across players and average out in the centroid). The team out of
   possession answers the one in possession (``shift_mirror`` = m): its offset is ``(1 - m) u_own - m u_attack``
   (the minus turns the attackers' frame into the defenders'), i.e. it drops off when they push up and slides
   with them, so opponents stay close (:func:`team_offsets`).

Deterministic parameters calibrated with them: the target's slow Ornstein-Uhlenbeck wander (``drift_sigma_m``,
``drift_tau_s``), the ball's flight (``pass_bend_sigma``, ``touch_interval_s``, see :mod:`soccerai.synth.ball`), the
team blocks' size, lag and how far they follow the ball (``block_length_scale``, ``block_width_scale`` on
:class:`soccerai.synth.tactics.BlockShape`, ``block_tau_s`` the time constant of the ball position the blocks shift
with, ``block_follow_x`` / ``block_follow_y`` the block centre's shift per metre of ball; v3: 1, 1, 2.5 s, 0.55,
0.35), how eagerly players return to their shape (``formation_urgency_scale`` on
:class:`soccerai.synth.tactics.Urgency`), the run-in-behind rate (``run_rate_scale`` on the engine's per-role
rates) and acceleration (``accel_scale`` on each player's drawn ``a_max``).
:data:`CALIBRATED` holds the values fitted to the real SkillCorner and Hawk-Eye statistics by
``benchmarks/realism.py --search`` (see that script's docstring for the search, the objective and the result);
:meth:`Behaviour.v3` is the synthesizer before calibration.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from soccerai.synth.tactics import BlockShape, Urgency

KEEPER_ROAM = 0.2
"""Goalkeepers' intention offsets and drift are this fraction of an outfield player's."""
BEHAVIOUR_STREAM = 17
"""Behaviour generators are ``default_rng([seed, BEHAVIOUR_STREAM, k])``: independent of the v3 generator."""
SOURCES = ("style", "decision", "intention", "team_shift", "pass_bend", "touch")
"""The random sources, one generator each (``k`` = position in this tuple)."""


@dataclass(frozen=True)
class Behaviour:
    """Parameters of the players' random behaviour (see the module docstring)."""

    decision_mean_s: float = 0.0
    intention_rate_per_s: float = 0.0
    intention_sigma_m: float = 0.0
    intention_urgency_sigma: float = 0.0
    style_sigma: float = 0.0
    foresight_s: float = float("inf")
    drift_sigma_m: float = 1.5
    drift_tau_s: float = 8.0
    pass_bend_sigma: float = 0.0
    touch_interval_s: float = 0.0
    block_length_scale: float = 1.0
    block_width_scale: float = 1.0
    block_tau_s: float = 2.5
    block_follow_x: float = 0.55
    block_follow_y: float = 0.35
    formation_urgency_scale: float = 1.0
    defending_roam: float = 0.4
    team_shift_sigma_m: float = 0.0
    team_shift_tau_s: float = 4.0
    shift_mirror: float = 0.0
    run_rate_scale: float = 1.0
    accel_scale: float = 1.0

    def block_shape(self) -> BlockShape:
        """The team blocks' shape: the tactical default with its half-lengths and half-widths scaled and its
        ball-following slopes set."""
        base = BlockShape()
        return replace(
            base,
            follow_x=self.block_follow_x,
            follow_y=self.block_follow_y,
            attack_half_length=base.attack_half_length * self.block_length_scale,
            defend_half_length=base.defend_half_length * self.block_length_scale,
            attack_half_width=base.attack_half_width * self.block_width_scale,
            defend_half_width=base.defend_half_width * self.block_width_scale,
        )

    def urgency(self) -> Urgency:
        """The tactical urgencies with the return-to-shape ones scaled by ``formation_urgency_scale``."""
        base = Urgency()
        return replace(
            base,
            formation=min(base.formation * self.formation_urgency_scale, 1.0),
            formation_far=min(base.formation_far * self.formation_urgency_scale, 1.0),
        )

    @classmethod
    def v3(cls) -> Behaviour:
        """The synthesizer before calibration (version 3): every new source off."""
        return cls()

    def with_(self, **changes: float) -> Behaviour:
        return replace(self, **changes)

    @property
    def is_v3(self) -> bool:
        return self == Behaviour.v3()


CALIBRATED = Behaviour(
    decision_mean_s=0.81,
    intention_rate_per_s=0.039,
    intention_sigma_m=4.19,
    intention_urgency_sigma=0.074,
    style_sigma=0.246,
    foresight_s=1.39,
    drift_sigma_m=4.11,
    drift_tau_s=6.0,
    pass_bend_sigma=0.06,
    touch_interval_s=0.6,
    block_length_scale=0.739,
    block_width_scale=0.814,
    block_tau_s=1.14,
    block_follow_x=0.764,
    block_follow_y=0.362,
    formation_urgency_scale=1.645,
    defending_roam=0.115,
    team_shift_sigma_m=4.15,
    team_shift_tau_s=3.17,
    run_rate_scale=0.55,
    accel_scale=1.01,
)
"""The calibrated behaviour (synthesizer version 5), rounded from two runs of ``benchmarks/realism.py --search``
(scipy Latin hypercube + bounded Nelder-Mead on 10 simulated minutes of Game 1, seed 0): ``--candidates 16 --steps
60`` over every ``MOTION_SPACE`` parameter (the start point was a hand probe of the new mechanisms; objective 0.195
for v3 -> 0.094, mean |ln(simulated / real)| over both real sources), then ``--candidates 8 --steps 40 --params
shift_mirror,...`` over ten of them (0.090; no better point, ``shift_mirror`` stays 0). ``drift_tau_s``,
``pass_bend_sigma`` and ``touch_interval_s`` were not searched (set by hand)."""


def behaviour_streams(seed: int) -> dict[str, np.random.Generator]:
    """One generator per random source (:data:`SOURCES`): ``default_rng([seed, BEHAVIOUR_STREAM, k])``."""
    return {name: np.random.default_rng([seed, BEHAVIOUR_STREAM, k]) for k, name in enumerate(SOURCES)}


@dataclass(frozen=True)
class BehaviourDraws:
    """Per tactical step ``c`` and slot ``k``: ``decide[c, k]`` (he re-reads the situation), ``offset[c, k]`` (his
    current intention offset, metres), ``urgency[c, k]`` (work rate times the intention's urgency factor);
    ``team_shift[c, t]`` (team ``t``'s block offset in its attacking frame, metres)."""

    decide: np.ndarray
    offset: np.ndarray
    urgency: np.ndarray
    team_shift: np.ndarray


def draw_styles(rng: np.random.Generator, b: Behaviour, n: int = 22) -> tuple[np.ndarray, np.ndarray]:
    """(work rate (n,), roaming (n,)) log-normal factors of median 1, drawn once per match."""
    if b.style_sigma <= 0:
        return np.ones(n), np.ones(n)
    return np.exp(b.style_sigma * rng.standard_normal(n)), np.exp(b.style_sigma * rng.standard_normal(n))


def ou_series(rng: np.random.Generator, shape: tuple[int, ...], dt: float, sigma: float, tau: float) -> np.ndarray:
    """Stationary Ornstein-Uhlenbeck series along axis 0 (std ``sigma``, time constant ``tau``, step ``dt``):
    ``u_0 ~ N(0, sigma^2)``, ``u_c+1 = rho u_c + sigma sqrt(1 - rho^2) xi_c``, ``rho = exp(-dt / tau)``."""
    if sigma <= 0:
        return np.zeros(shape)
    rho = float(np.exp(-dt / max(tau, 1e-9)))
    xi = rng.standard_normal(shape)
    out = np.empty(shape)
    out[0] = sigma * xi[0]
    scale = sigma * np.sqrt(1.0 - rho**2)
    for c in range(1, shape[0]):
        out[c] = rho * out[c - 1] + scale * xi[c]
    return out


def team_offsets(shift: np.ndarray, owner: int, mirror: float) -> np.ndarray:
    """(2, 2) block offsets of the two teams, each in its own attacking frame, at one tactical step: the team in
    possession (``owner``) keeps its own shift ``u_o``, the other takes ``(1 - mirror) u_d - mirror u_o`` (the two
    attacking frames point opposite ways, so ``-u_o`` is the same displacement on the pitch)."""
    out = shift.copy()
    d = 1 - owner
    out[d] = (1.0 - mirror) * shift[d] - mirror * shift[owner]
    return out


def behaviour_draws(
    streams: dict[str, np.random.Generator],
    b: Behaviour,
    n_c: int,
    dt_c: float,
    is_keeper: np.ndarray,
    styles: tuple[np.ndarray, np.ndarray],
) -> BehaviourDraws:
    """The random decisions of one period (``n_c`` tactical steps of ``dt_c`` seconds) for the 22 slots, each
    source from its own generator of ``streams`` (:func:`behaviour_streams`)."""
    n = is_keeper.size
    work, roam = styles
    if b.decision_mean_s > 0:
        decide = streams["decision"].random((n_c, n)) < min(dt_c / b.decision_mean_s, 1.0)
        decide[0] = True
    else:
        decide = np.ones((n_c, n), dtype=bool)
    offset = np.zeros((n_c, n, 2))
    factor = np.ones((n_c, n))
    if b.intention_rate_per_s > 0 and (b.intention_sigma_m > 0 or b.intention_urgency_sigma > 0):
        rng = streams["intention"]
        change = rng.random((n_c, n)) < min(b.intention_rate_per_s * dt_c, 1.0)
        change[0] = True
        scale = b.intention_sigma_m * roam * np.where(is_keeper, KEEPER_ROAM, 1.0)
        fresh = rng.standard_normal((n_c, n, 2)) * scale[None, :, None]
        fresh_urgency = np.exp(b.intention_urgency_sigma * rng.standard_normal((n_c, n)))
        last = np.maximum.accumulate(np.where(change, np.arange(n_c)[:, None], 0), axis=0)
        cols = np.arange(n)[None, :]
        offset = fresh[last, cols]
        factor = fresh_urgency[last, cols]
    shift = ou_series(streams["team_shift"], (n_c, 2, 2), dt_c, b.team_shift_sigma_m, b.team_shift_tau_s)
    return BehaviourDraws(decide=decide, offset=offset, urgency=factor * work[None, :], team_shift=shift)
