"""Human stochasticity of the simulated players: decisions at their own pace, intentions that change, styles.

The tactical model (:mod:`soccerai.synth.tactics`) says where a player *should* be; real players are not that
predictable. :class:`Behaviour` holds the parameters of four random sources layered on top of it, each drawn from
its own seeded generator (:func:`behaviour_draws`), so a seed gives the same match and turning a source off leaves
the others' draws unchanged:

1. **Reaction delays** (``decision_mean_s``): each player re-reads the situation on his own Poisson clock
   (probability ``dt_c / decision_mean_s`` per tactical step of ``dt_c`` seconds); in between he keeps chasing the
   target (and urgency) he chose last time, so he reacts to the ball and to his marker with a random delay of mean
   ``decision_mean_s`` (0 = every step, synchronised: the v3 synthesizer).
2. **Intentions that change** (``intention_rate_per_s``, ``intention_sigma_m``, ``intention_urgency_sigma``): at
   Poisson times (rate per second) a player picks a new personal offset ``o ~ N(0, (s_k sigma)^2 I)`` from his
   tactical target (checking away, offering, drifting into a channel) and a new urgency factor
   ``exp(N(0, intention_urgency_sigma^2))``; both hold until his next change.
3. **Individual styles** (``style_sigma``): per player, drawn once per match, a work-rate factor
   ``w_k = exp(N(0, style_sigma^2))`` on every urgency and a roaming factor ``s_k = exp(N(0, style_sigma^2))`` on
   his intention offsets. Goalkeepers roam ``KEEPER_ROAM`` as much.
4. **Foresight** (``foresight_s``): an off-ball player heads for his next event spot only once it is at most
   ``foresight_s`` ahead (what he can see coming: a pass on its way, a ball he is about to win); before that he
   plays his tactical role. The pinning bumps (:mod:`soccerai.synth.kinematics`) still make every reachable event
   exact. ``inf`` = unlimited foresight (v3).

The target's slow Ornstein-Uhlenbeck wander (``drift_sigma_m``, ``drift_tau_s``), the ball's flight
(``pass_bend_sigma``, ``touch_interval_s``, see :mod:`soccerai.synth.ball`) and the team blocks' size and lag
(``block_length_scale``, ``block_width_scale`` on :class:`soccerai.synth.tactics.BlockShape`, ``block_tau_s`` the
time constant of the ball position the blocks shift with; v3: 1, 1, 2.5 s) are calibrated with them.
:data:`CALIBRATED` holds the values fitted to the real SkillCorner and Hawk-Eye statistics by
``benchmarks/realism.py --search`` (see that script's docstring for the search, the objective and the result);
:meth:`Behaviour.v3` is the synthesizer before calibration.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from soccerai.synth.tactics import BlockShape

KEEPER_ROAM = 0.2
"""Goalkeepers' intention offsets and drift are this fraction of an outfield player's."""


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

    def block_shape(self) -> BlockShape:
        """The team blocks' shape: the tactical default with its half-lengths and half-widths scaled."""
        base = BlockShape()
        return replace(
            base,
            attack_half_length=base.attack_half_length * self.block_length_scale,
            defend_half_length=base.defend_half_length * self.block_length_scale,
            attack_half_width=base.attack_half_width * self.block_width_scale,
            defend_half_width=base.defend_half_width * self.block_width_scale,
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
    decision_mean_s=0.78,
    intention_rate_per_s=0.03,
    intention_sigma_m=7.03,
    intention_urgency_sigma=0.059,
    style_sigma=0.236,
    foresight_s=1.31,
    drift_sigma_m=4.0,
    drift_tau_s=6.0,
    pass_bend_sigma=0.06,
    touch_interval_s=0.6,
    block_length_scale=0.724,
    block_width_scale=0.804,
    block_tau_s=1.07,
)
"""The calibrated behaviour (synthesizer version 4): ``benchmarks/realism.py --search --candidates 12
--search-minutes 16`` (98 evaluations; objective 0.216 for v3 -> 0.146, mean |ln(simulated / real)| over both real
sources), rounded. ``drift_tau_s``, ``pass_bend_sigma`` and ``touch_interval_s`` were not searched (set by hand)."""


@dataclass(frozen=True)
class BehaviourDraws:
    """Per tactical step ``c`` and slot ``k``: ``decide[c, k]`` (he re-reads the situation), ``offset[c, k]`` (his
    current intention offset, metres), ``urgency[c, k]`` (work rate times the intention's urgency factor)."""

    decide: np.ndarray
    offset: np.ndarray
    urgency: np.ndarray


def draw_styles(rng: np.random.Generator, b: Behaviour, n: int = 22) -> tuple[np.ndarray, np.ndarray]:
    """(work rate (n,), roaming (n,)) log-normal factors of median 1, drawn once per match."""
    if b.style_sigma <= 0:
        return np.ones(n), np.ones(n)
    return np.exp(b.style_sigma * rng.standard_normal(n)), np.exp(b.style_sigma * rng.standard_normal(n))


def behaviour_draws(
    rng: np.random.Generator,
    b: Behaviour,
    n_c: int,
    dt_c: float,
    is_keeper: np.ndarray,
    styles: tuple[np.ndarray, np.ndarray],
) -> BehaviourDraws:
    """The random decisions of one period (``n_c`` tactical steps of ``dt_c`` seconds) for the 22 slots."""
    n = is_keeper.size
    work, roam = styles
    if b.decision_mean_s > 0:
        decide = rng.random((n_c, n)) < min(dt_c / b.decision_mean_s, 1.0)
        decide[0] = True
    else:
        decide = np.ones((n_c, n), dtype=bool)
    offset = np.zeros((n_c, n, 2))
    factor = np.ones((n_c, n))
    if b.intention_rate_per_s > 0 and (b.intention_sigma_m > 0 or b.intention_urgency_sigma > 0):
        change = rng.random((n_c, n)) < min(b.intention_rate_per_s * dt_c, 1.0)
        change[0] = True
        scale = b.intention_sigma_m * roam * np.where(is_keeper, KEEPER_ROAM, 1.0)
        fresh = rng.standard_normal((n_c, n, 2)) * scale[None, :, None]
        fresh_urgency = np.exp(b.intention_urgency_sigma * rng.standard_normal((n_c, n)))
        last = np.maximum.accumulate(np.where(change, np.arange(n_c)[:, None], 0), axis=0)
        cols = np.arange(n)[None, :]
        offset = fresh[last, cols]
        factor = fresh_urgency[last, cols]
    return BehaviourDraws(decide=decide, offset=offset, urgency=factor * work[None, :])
