"""Spearman's physics-based pitch control, vectorised over frames x cells x players with torch.

Frames are tensors in the modelling agent order of :mod:`soccerai.windows.container`: ``positions [F, 23, 2]``,
``velocities [F, 23, 2]``, ``valid [F, 23]``; agents 0..10 attack (slot 0 = goalkeeper), 11..21 defend
(slot 11 = goalkeeper), 22 is the ball; attack towards ``+x``; pitch centred on the centre spot, metres.

The model (Spearman 2018, "Beyond Expected Goals", as parameterised by Shaw's public implementation)
    For a target cell ``r`` and player ``j`` at ``p_j`` moving with ``v_j``: he keeps running at ``v_j`` for the
    reaction time ``t_r``, then runs straight at ``v_max``, so his expected time to intercept is
    ``tau_j(r) = t_r + |r - (p_j + v_j t_r)| / v_max``. The ball reaches ``r`` at ``t_b(r) = |r - p_ball| / v_ball``.
    His probability of having arrived by time ``T`` is logistic,
    ``P_j(T) = 1 / (1 + exp(-a (T - tau_j)))`` with ``a = pi / (sqrt(3) sigma)``.
    Control accumulates from ``T = t_b`` by the ODE ``dPPCF_j/dT = (1 - sum_k PPCF_k) P_j(T) lambda_j``,
    stepped at ``T_k = t_b + k dt`` (``k = 0 .. max_time/dt - 1``). ``lambda_j`` is ``lambda_att`` for attackers,
    ``lambda_def`` for defenders and ``lambda_def * gk_factor`` for the defending goalkeeper (only him: an
    attacking keeper is an ordinary attacker). Attackers in an offside position (beyond both the second-last
    defender and the ball, in the opponents' half, by more than ``offside_tolerance``) are removed.

    Two deliberate departures from the usual plain-Euler loop, both in the test reference too:
      * each step is exponential Euler (exact for rates held constant over the step, see :func:`_euler_steps`):
        plain Euler overshoots to a summed control of up to ~1.1 when a goalkeeper and a few defenders are near;
      * a cell stops once its free mass ``1 - sum PPCF`` is at most ``1 - converged`` (0.01); the free mass left
        is then split by that last step's team rates ("closing the books"). So attack + defence = 1 everywhere,
        and the result does not jump by up to 0.01 when float rounding moves the stopping step by one.
    The result is the attacking team's control per cell.

Speed
    Per cell only team sums matter: ``d(att)/dT = (1 - att - def) * sum_{j in att} lambda_j P_j(T)``. With
    ``u_j = exp(a (tau_j - t_b))``, ``P_j(T_k) = 1 / (1 + u_j rho^k)``, ``rho = exp(-a dt)``. The tensor
    ``1 + u_j rho^k`` is kept and moved to the next step by one in-place ``lerp`` towards 1, so each step costs one
    reciprocal, one lerp and one row-block sum over ``[22, N]`` plus nine ``[N]`` operations, on all live cells of a
    chunk of frames. The state per cell is just (attack, free): a stopped cell closes its books in the step it stops
    and its free mass becomes exactly 0, so stopped cells are found with ``free != 0`` and dropped from the working
    set every few steps (exact: a stopped cell no longer changes). Frames are processed in chunks so the working set
    stays ~100 MB at the default chunk size (the output of a 54,000-frame match on 50 x 32 is 2 x 345 MB of
    float32). Measured on the benchmark (``benchmarks/pitch_control.py``) this is ~2x faster than one
    ``[2, 22] @ [22, N]`` rate product per step with separate attack/defence/share states.

Engines
    On the CPU the default is a numba kernel (``engine="numba"``, :func:`_cell_control`): one fused float64 loop per
    cell, in parallel over frames, that sums the idle steps before anyone is near in closed form, keeps players
    with a negligible arrival probability out of the step loop until they matter and uses a polynomial ``exp``; it
    matches the loop reference to ~1e-5 (mean ~1e-7). The torch passes above (``engine="torch"``) remain the GPU
    engine. Measured on a loaded 2-core machine (``benchmarks/pitch_control.py``): ~800 frames/s on 2 threads, about
    60 CPU s for a 54,000-frame match, against ~36 frames per CPU second for the torch engine in the same run.

Bad input: frames with a missing or non-finite ball, a non-finite position/velocity of a valid player, or no
valid player on a team are *skipped* — their surface is NaN and :func:`usable_frames` counts them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
import torch

try:  # the fast CPU engine; without numba the torch engine runs everywhere
    import numba
except ImportError:  # pragma: no cover - numba is a dependency; kept importable for minimal installs
    numba = None

from soccerai.errors import InvalidParameterError
from soccerai.match.pitch import Pitch
from soccerai.match.schema import DEFAULT_PITCH
from soccerai.windows.container import BALL_INDEX, N_AGENTS, N_PER_TEAM
from soccerai.windows.layout import FrameTensors, frame_tensors

ATTACK_SLOTS = slice(0, N_PER_TEAM)
DEFENCE_SLOTS = slice(N_PER_TEAM, 2 * N_PER_TEAM)
DEFENDING_GOALKEEPER = N_PER_TEAM
N_PLAYERS = 2 * N_PER_TEAM


@dataclass(frozen=True)
class PitchControlParams:
    """Parameters of Spearman's pitch control (defaults: Spearman 2018, as documented in docs/concepts/scoring.md).

    Times in seconds, speeds in m/s, rates per second.
    """

    max_player_speed: float = 5.0
    reaction_time: float = 0.7
    tti_sigma: float = 0.45
    lambda_att: float = 4.3
    lambda_def: float = 4.3
    gk_factor: float = 3.0
    ball_speed: float = 15.0
    dt: float = 0.04
    max_time: float = 10.0
    converged: float = 0.99
    remove_offside: bool = True
    offside_tolerance: float = 0.2

    def __post_init__(self) -> None:
        positive = (
            "max_player_speed",
            "tti_sigma",
            "lambda_att",
            "lambda_def",
            "gk_factor",
            "ball_speed",
            "dt",
        )
        for name in positive:
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise InvalidParameterError(
                    f"pitch control parameter {name}={value} must be a positive number"
                )
        if not (math.isfinite(self.reaction_time) and self.reaction_time >= 0):
            raise InvalidParameterError(f"pitch control reaction_time={self.reaction_time} must be >= 0")
        if not (math.isfinite(self.max_time) and self.max_time >= self.dt):
            raise InvalidParameterError(
                f"pitch control max_time={self.max_time} must be at least dt={self.dt}"
            )
        if not 0.0 < self.converged < 1.0:
            raise InvalidParameterError(f"pitch control converged={self.converged} must be in (0, 1)")
        if not (math.isfinite(self.offside_tolerance) and self.offside_tolerance >= 0):
            raise InvalidParameterError(f"offside_tolerance={self.offside_tolerance} must be >= 0")

    @property
    def logistic_rate(self) -> float:
        """``a = pi / (sqrt(3) sigma)``: the slope of the arrival-time logistic."""
        return math.pi / (math.sqrt(3.0) * self.tti_sigma)

    @property
    def n_steps(self) -> int:
        """Euler steps at most (``max_time / dt``)."""
        return max(1, int(round(self.max_time / self.dt)))

    @classmethod
    def spearman_fitted(cls) -> PitchControlParams:
        """Spearman's own fitted values: sigma 0.54 s, lambda 3.99 /s, defender advantage 1.72."""
        return cls(tti_sigma=0.54, lambda_att=3.99, lambda_def=3.99 * 1.72)


@dataclass(frozen=True)
class Grid:
    """A regular grid of cell centres over a centred pitch; surfaces are ``[ny, nx]`` (row = y, column = x)."""

    nx: int = 50
    ny: int = 32
    length: float = DEFAULT_PITCH[0]
    width: float = DEFAULT_PITCH[1]

    def __post_init__(self) -> None:
        if not (isinstance(self.nx, int) and isinstance(self.ny, int)) or self.nx < 1 or self.ny < 1:
            raise InvalidParameterError(
                f"grid must have at least 1 x 1 cells, got nx={self.nx}, ny={self.ny}"
            )
        if self.nx * self.ny > 1_000_000:
            raise InvalidParameterError(
                f"grid of {self.nx} x {self.ny} cells is absurdly fine (max 1e6 cells)"
            )
        if not (
            self.length > 0 and self.width > 0 and math.isfinite(self.length) and math.isfinite(self.width)
        ):
            raise InvalidParameterError(f"grid pitch size {self.length} x {self.width} must be positive")

    @classmethod
    def over(cls, pitch: Pitch, nx: int = 50, ny: int = 32) -> Grid:
        """An ``nx`` x ``ny`` grid over ``pitch``."""
        return cls(nx, ny, pitch.length, pitch.width)

    @property
    def cell_size(self) -> tuple[float, float]:
        return self.length / self.nx, self.width / self.ny

    def xs(self) -> torch.Tensor:
        """Cell-centre x coordinates ``[nx]`` (float64)."""
        dx = self.length / self.nx
        return -self.length / 2 + dx / 2 + dx * torch.arange(self.nx, dtype=torch.float64)

    def ys(self) -> torch.Tensor:
        """Cell-centre y coordinates ``[ny]`` (float64)."""
        dy = self.width / self.ny
        return -self.width / 2 + dy / 2 + dy * torch.arange(self.ny, dtype=torch.float64)

    def cells(self, dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu") -> torch.Tensor:
        """Cell centres ``[ny * nx, 2]`` in row-major (y-major) order."""
        yy, xx = torch.meshgrid(self.ys(), self.xs(), indexing="ij")
        return torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=-1).to(dtype=dtype, device=device)

    def cell_index(self, points: torch.Tensor) -> torch.Tensor:
        """Flat index (into ``cells()``) of the cell containing each point ``[..., 2]``; clamped to the pitch."""
        dx, dy = self.cell_size
        ix = torch.floor((points[..., 0] + self.length / 2) / dx).clamp(0, self.nx - 1)
        iy = torch.floor((points[..., 1] + self.width / 2) / dy).clamp(0, self.ny - 1)
        return (iy * self.nx + ix).nan_to_num(0).long()


@dataclass
class ControlSurfaces:
    """Both teams' control; ``attack[f]``/``defence[f]`` are NaN where ``usable[f]`` is False."""

    attack: torch.Tensor  # [F, ny, nx]
    defence: torch.Tensor  # [F, ny, nx]
    usable: torch.Tensor  # [F] bool

    @property
    def skipped(self) -> int:
        return int((~self.usable).sum())


def check_frames(positions: torch.Tensor, velocities: torch.Tensor, valid: torch.Tensor) -> None:
    """Raise :class:`InvalidParameterError` unless the three frame tensors have the agreed shapes."""
    if positions.ndim != 3 or positions.shape[1:] != (N_AGENTS, 2):
        raise InvalidParameterError(f"positions must be [F, {N_AGENTS}, 2], got {tuple(positions.shape)}")
    if velocities.shape != positions.shape:
        raise InvalidParameterError(
            f"velocities {tuple(velocities.shape)} must match positions {tuple(positions.shape)}"
        )
    if valid.shape != positions.shape[:2]:
        raise InvalidParameterError(f"valid must be [F, {N_AGENTS}], got {tuple(valid.shape)}")


def usable_frames(positions: torch.Tensor, velocities: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Frames pitch control can use ``[F]``: ball present and finite, every valid player finite, both teams present."""
    check_frames(positions, velocities, valid)
    valid = valid.bool()
    finite = torch.isfinite(positions).all(-1) & torch.isfinite(velocities).all(-1)
    ball_ok = valid[:, BALL_INDEX] & torch.isfinite(positions[:, BALL_INDEX]).all(-1)
    players_ok = (~valid[:, :N_PLAYERS] | finite[:, :N_PLAYERS]).all(-1)
    teams_ok = valid[:, ATTACK_SLOTS].any(-1) & valid[:, DEFENCE_SLOTS].any(-1)
    return ball_ok & players_ok & teams_ok


def offside_attackers(positions: torch.Tensor, valid: torch.Tensor, tolerance: float) -> torch.Tensor:
    """Attackers ``[F, 11]`` in an offside position (attack towards +x).

    Offside: ``x > max(second-last defender x, ball x, 0) + tolerance``. With fewer than two valid defenders the
    defender term is dropped (only the ball and halfway line count).
    """
    def_x = positions[:, DEFENCE_SLOTS, 0].masked_fill(~valid[:, DEFENCE_SLOTS], -math.inf)
    second_last = def_x.topk(2, dim=-1).values[:, 1]
    line = torch.maximum(second_last, positions[:, BALL_INDEX, 0]).clamp(min=0.0)
    return valid[:, ATTACK_SLOTS] & (positions[:, ATTACK_SLOTS, 0] > line[:, None] + tolerance)


MAX_LOG_ARRIVAL = 69.0
"""Cap on ``a (tau_j - t_b)``: ``u_j <= e^69 ~ 1e30``, finite so the step recurrence never meets ``inf - inf``.
A capped (or inactive) player's arrival probability stays below ``1e-30 e^{a max_time}`` (~3e-13 with the
defaults): nil."""


def _shifted_arrivals(
    positions: torch.Tensor,
    velocities: torch.Tensor,
    active: torch.Tensor,
    cells: torch.Tensor,
    reaction_time: float,
    max_player_speed: float,
    ball_speed: float,
    logistic_rate: float,
) -> torch.Tensor:
    """``y[j, f * C + c] = 1 + u_j`` with ``u_j = exp(a (tau_j(c) - t_b(c)))``, as ``[22, F * C]`` (players-major:
    rows 0..10 attack, 11..21 defend, so team sums run over contiguous rows); capped at ``1 + e^69`` for far players
    and for players not taking part."""
    react = (positions[:, :N_PLAYERS] + velocities[:, :N_PLAYERS] * reaction_time).transpose(
        0, 1
    )  # [22, F, 2]
    run = torch.hypot(cells[None, None, :, 0] - react[..., 0:1], cells[None, None, :, 1] - react[..., 1:2])
    ball = torch.hypot(
        cells[None, :, 0] - positions[:, BALL_INDEX, 0:1], cells[None, :, 1] - positions[:, BALL_INDEX, 1:2]
    )  # [F, C]
    exponent = (
        run * (1.0 / max_player_speed) + (reaction_time - ball[None] * (1.0 / ball_speed))
    ) * logistic_rate
    exponent = torch.where(active.transpose(0, 1)[..., None], exponent, MAX_LOG_ARRIVAL)
    return exponent.clamp_(max=MAX_LOG_ARRIVAL).exp_().add_(1.0).reshape(N_PLAYERS, -1)


COMPACT_EVERY = 8
"""Steps between checks for converged cells (they leave the working set when under 75 % are still running)."""


def _euler_steps(
    shifted: torch.Tensor,
    attack: torch.Tensor,
    free: torch.Tensor,
    params: PitchControlParams,
    n_steps: int,
    close_at_end: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n_steps`` steps of the control ODE (exponential Euler) on ``N`` cells; ``shifted`` ``[22, N]`` is
    advanced in place; returns the new (attack, free) ``[N]``. With ``close_at_end`` the last step closes every
    cell's books (``max_time`` is reached).

    At step ``k``, ``shifted = 1 + u_j rho^k`` and ``P_j = 1 / shifted`` (one reciprocal over ``[22, N]``); the
    next step's is ``rho shifted + (1 - rho)`` (one in-place ``lerp`` towards 1). Team rates
    ``A = lambda_att sum_att P_j`` and ``D = lambda_def (sum_def P_j + (gk_factor - 1) P_gk)`` come from one
    row-block sum; ``S = A + D``. The free mass decays as ``free' = free exp(-S dt)`` and the attack gains
    ``(free - free') A / S``: exact for rates held constant over the step, where plain Euler overshoots past 1
    whenever ``S dt > 1`` (a goalkeeper's 12.9 /s plus three defenders at 4.3 /s already gives ``S > 1/dt``); for
    small ``S dt`` the two agree to ``O((S dt)^2)``. When ``free'`` is at most ``1 - converged`` the cell stops and
    closes its books in the same step: the attack takes ``free A / S`` in all and ``free'`` becomes exactly 0, so a
    stopped cell never changes again and needs no state of its own.
    (A torch.compile'd loop was tried earlier: 4x slower on CPU than these in-place passes.)
    """
    rho, dt, still_free = math.exp(-params.logistic_rate * params.dt), params.dt, 1.0 - params.converged
    n = shifted.shape[1]
    arrival = torch.empty_like(shifted)
    team = torch.empty(2, n, dtype=shifted.dtype, device=shifted.device)
    towards = torch.ones((), dtype=shifted.dtype, device=shifted.device)
    defence_weight = params.lambda_def / params.lambda_att
    for step in range(n_steps):
        torch.reciprocal(shifted, out=arrival)  # P_j(T_k)
        shifted.lerp_(towards, 1.0 - rho)  # 1 + u_j rho^(k+1)
        torch.sum(arrival.view(2, N_PER_TEAM, n), dim=1, out=team)
        attack_sum = team[0]
        defence_sum = team[1].add_(arrival[DEFENDING_GOALKEEPER], alpha=params.gk_factor - 1.0)
        total = torch.add(attack_sum, defence_sum, alpha=defence_weight)  # S / lambda_att
        share = attack_sum.div_(total)  # A / S
        new_free = torch.mul(free, total.mul_(-dt * params.lambda_att).exp_())
        last = close_at_end and step == n_steps - 1
        new_free = torch.nn.functional.threshold(new_free, math.inf if last else still_free, 0.0)
        attack.addcmul_(free.sub_(new_free), share)
        free = new_free
    return attack, free


def _integrate(shifted: torch.Tensor, params: PitchControlParams) -> torch.Tensor:
    """Integrate the control ODE for ``N`` independent cells from ``shifted = 1 + u`` ``[22, N]`` (consumed);
    returns the attacking control ``[N]`` (the defending control is ``1 -`` it).

    A cell stops once its free mass is at most ``1 - converged`` (or at ``max_time``); the free mass left is then
    split by the team rates of its last step ("closing the books"), so attack + defence = 1 and the result does not
    jump when rounding moves the stop by one step. Stopped cells leave the working set every few steps, for speed.
    """
    n = shifted.shape[1]
    attack_out = torch.zeros(n, dtype=shifted.dtype, device=shifted.device)
    live = torch.arange(n, device=shifted.device)
    attack, free = attack_out.clone(), torch.ones_like(attack_out)
    for first in range(0, params.n_steps, COMPACT_EVERY):
        n_block = min(COMPACT_EVERY, params.n_steps - first)
        attack, free = _euler_steps(shifted, attack, free, params, n_block, first + n_block == params.n_steps)
        keep = free.nonzero().squeeze(1)
        if keep.numel() < 0.75 * live.numel():  # save every live cell, carry on with the running ones
            attack_out[live] = attack
            if keep.numel() == 0:
                return attack_out
            live, attack, free = (t.index_select(0, keep) for t in (live, attack, free))
            shifted = shifted.index_select(1, keep)
    attack_out[live] = attack
    return attack_out


# --------------------------------------------------------------------------------------------------------------
# numba engine (CPU): one fused loop per cell, in float64


SKIP_MASS = 0.01
"""The steps before ``k0`` are summed in closed form while their total control stays under this (see
:func:`_cell_control`)."""
IDLE_ARRIVAL = 1e6
"""Players whose ``u_j rho^k`` exceeds this (arrival probability < 1e-6) sit out the step loop until it drops
under it, unless within :data:`IDLE_ARRIVAL` of the first arrival (so the share of a cell closed at ``max_time``
keeps every player that weighs in it)."""

if numba is not None:

    @numba.njit(cache=True, fastmath=True, inline="always")
    def _exp_neg(z):
        """``exp(-z)`` for ``z >= 0`` to ~1e-8 relative (``z`` clamped at 8: ``e^-8 < 1 - converged``
        already stops a cell): a polynomial, cheaper than the libm call in the step loop."""
        z = min(z, 8.0) * (1.0 / 32.0)
        q = 1.0 - z * (
            1.0 - z * (0.5 - z * (1.0 / 6.0 - z * (1.0 / 24.0 - z * (1.0 / 120.0 - z * (1.0 / 720.0)))))
        )
        q = q * q
        q = q * q
        q = q * q
        q = q * q
        return q * q

    @numba.njit(cache=True, fastmath=True, inline="always")
    def _cell_control(cx, cy, bx, by, rx, ry, la, ld, n, tr, inv_vmax, inv_vb, a, dt, rho, n_steps,  # noqa: N803
                      still_free, m_max, ln_x_abs, ln_r, E, x, pla, pld, entry):
        """Attacking control of one cell: the steps of :func:`_euler_steps` for one cell, with the idle work cut.

        ``E_j = a (tau_j - t_b) = ln u_j``. Start: the steps ``k < k0`` before anyone is near are summed in closed
        form (``P_j = 1 / (1 + x)`` with ``x = u_j rho^k > 20`` is ``1/x - 1/x^2 + 1/x^3``, a geometric series in
        ``k``), their control split by the summed team rates; ``k0`` is the last step where that skipped mass stays
        under ``m_max`` (its split errs by ~``m_max^2``). Players: only those that matter run in the step loop
        (``u_j rho^k`` at most ``max(x_abs, R x_top)``), the others join at the step they cross ``x_abs``.
        Steps: exponential Euler as in the torch engine, stopping and closing the books at ``1 - converged``.
        """
        tb = math.sqrt((cx - bx) ** 2 + (cy - by) ** 2) * inv_vb
        emin = 1e300
        for i in range(n):
            e = min(a * (tr + math.sqrt((cx - rx[i]) ** 2 + (cy - ry[i]) ** 2) * inv_vmax - tb), 69.0)
            E[i] = e
            emin = min(emin, e)
        adt = a * dt
        cut = emin + ln_r
        # players within ln_r of the first arrival: w = x_top / x_i
        m = 0
        wsum = 0.0
        for i in range(n):
            if E[i] <= cut:
                w = math.exp(emin - E[i])
                x[m] = w
                pla[m] = la[i]
                pld[m] = ld[i]
                wsum += (la[i] + ld[i]) * w
                m += 1
                entry[i] = -1
            else:
                entry[i] = 0
        g = dt * rho / (1.0 - rho)
        k0 = 0
        kmax = min((emin - math.log(g * wsum / m_max)) / adt, (emin - 3.0) / adt)
        if kmax >= 1.0:
            k0 = min(int(kmax), n_steps - 1)
        shift = adt * k0
        attack = 0.0
        free = 1.0
        top = math.exp(shift - emin)  # 1 / x_top(k0)
        if k0 > 0:
            rk = math.exp(-shift)
            c1 = rho * (1.0 - rk) / (1.0 - rho)
            c2 = rho * rho * (1.0 - rk * rk) / (1.0 - rho * rho)
            c3 = rho**3 * (1.0 - rk**3) / (1.0 - rho**3)
            sa = 0.0
            sd = 0.0
            for j in range(m):
                y = x[j] * top
                s = y * (c1 - y * (c2 - y * c3))
                sa += pla[j] * s
                sd += pld[j] * s
            ss = sa + sd
            free = math.exp(-dt * ss)
            attack = (1.0 - free) * sa / ss
        for j in range(m):
            x[j] = 1.0 / (x[j] * top)  # x_j(k0)
        next_entry = n_steps
        inv_adt = 1.0 / adt
        for i in range(n):
            if entry[i] == 0:
                k = k0 + max(0, int(math.ceil((E[i] - shift - ln_x_abs) * inv_adt)))
                entry[i] = k
                next_entry = min(next_entry, k)
        for k in range(k0, n_steps):
            if k >= next_entry:
                next_entry = n_steps
                for i in range(n):
                    if entry[i] >= 0:
                        if entry[i] <= k:
                            x[m] = math.exp(E[i] - adt * k)
                            pla[m] = la[i]
                            pld[m] = ld[i]
                            m += 1
                            entry[i] = -1
                        else:
                            next_entry = min(next_entry, entry[i])
            ra = 0.0
            rd = 0.0
            for j in range(m):
                p = 1.0 / (1.0 + x[j])
                x[j] *= rho
                ra += pla[j] * p
                rd += pld[j] * p
            s = ra + rd
            new_free = free * _exp_neg(s * dt)
            if new_free <= still_free or k == n_steps - 1:
                return attack + free * ra / s
            attack += (free - new_free) * ra / s
            free = new_free
        return attack

    @numba.njit(parallel=True, cache=True, fastmath=True)
    def _control_kernel(
        react,
        lam_att,
        lam_def,
        ball,
        usable,
        cxs,
        cys,
        out,
        tr,
        vmax,
        vb,
        a,
        dt,
        n_steps,
        converged,
        m_max,
        x_abs,
        ln_r,
    ):
        F = react.shape[0]
        C = cxs.shape[0]
        rho = math.exp(-a * dt)
        inv_vmax = 1.0 / vmax
        inv_vb = 1.0 / vb
        still_free = 1.0 - converged
        ln_x_abs = math.log(x_abs)
        for f in numba.prange(F):
            if not usable[f]:
                for c in range(C):
                    out[f, c] = np.nan
                continue
            rx = np.empty(22)
            ry = np.empty(22)
            la = np.empty(22)
            ld = np.empty(22)
            n = 0
            for j in range(22):
                if lam_att[f, j] + lam_def[f, j] > 0:
                    rx[n] = react[f, j, 0]
                    ry[n] = react[f, j, 1]
                    la[n] = lam_att[f, j]
                    ld[n] = lam_def[f, j]
                    n += 1
            E = np.empty(22)
            x = np.empty(22)
            pla = np.empty(22)
            pld = np.empty(22)
            entry = np.empty(22, dtype=np.int64)
            bx = ball[f, 0]
            by = ball[f, 1]
            for c in range(C):
                out[f, c] = _cell_control(cxs[c], cys[c], bx, by, rx, ry, la, ld, n, tr, inv_vmax, inv_vb, a,
                                          dt, rho, n_steps, still_free, m_max, ln_x_abs, ln_r, E, x, pla, pld, entry)


def _numba_attack(
    positions: torch.Tensor,
    velocities: torch.Tensor,
    valid: torch.Tensor,
    usable: torch.Tensor,
    grid: Grid,
    params: PitchControlParams,
    out: np.ndarray,
) -> None:
    """Attacking control ``out [F, C]`` (float32, NaN for unusable frames) of a chunk of frames by the numba kernel."""
    ok = valid.bool()
    pos, vel = positions.double().nan_to_num(0.0), velocities.double().nan_to_num(0.0)
    active = ok[:, :N_PLAYERS].clone()
    if params.remove_offside:
        active[:, ATTACK_SLOTS] &= ~offside_attackers(pos, ok, params.offside_tolerance)
    lam_att = torch.zeros(pos.shape[0], N_PLAYERS, dtype=torch.float64)
    lam_def = torch.zeros_like(lam_att)
    lam_att[:, ATTACK_SLOTS] = params.lambda_att
    lam_def[:, DEFENCE_SLOTS] = params.lambda_def
    lam_def[:, DEFENDING_GOALKEEPER] *= params.gk_factor
    react = pos[:, :N_PLAYERS] + vel[:, :N_PLAYERS] * params.reaction_time
    cells = grid.cells(torch.float64)
    _control_kernel(
        react.contiguous().numpy(),
        (lam_att * active).numpy(),
        (lam_def * active).numpy(),
        pos[:, BALL_INDEX].contiguous().numpy(),
        usable.numpy(),
        cells[:, 0].contiguous().numpy(),
        cells[:, 1].contiguous().numpy(),
        out,
        params.reaction_time,
        params.max_player_speed,
        params.ball_speed,
        params.logistic_rate,
        params.dt,
        params.n_steps,
        params.converged,
        SKIP_MASS,
        IDLE_ARRIVAL,
        math.log(IDLE_ARRIVAL),
    )


ENGINES = ("numba", "torch")
NUMBA_CHUNK_FRAMES = 2048
"""Frames per call of the numba kernel (between progress reports)."""


def control_surfaces(
    positions: torch.Tensor,
    velocities: torch.Tensor,
    valid: torch.Tensor,
    grid: Grid | None = None,
    params: PitchControlParams | None = None,
    *,
    chunk_cells: int = 131_072,
    dtype: torch.dtype = torch.float32,
    progress: Callable[[int], None] | None = None,
    engine: str | None = None,
) -> ControlSurfaces:
    """Attacking and defending control for every frame, on ``grid`` (see the module docstring for the maths).

    Args:
        positions, velocities, valid: ``[F, 23, 2]``, ``[F, 23, 2]``, ``[F, 23]`` (attack towards +x).
        chunk_cells: frames are processed in chunks of about this many (frame, cell) pairs.
        dtype: compute dtype (float32 is accurate to ~1e-5 here).
        progress: called with the number of frames finished after every chunk.
        engine: ``"numba"`` (one fused float64 loop per cell on the CPU, inputs and result stay on their device),
            ``"torch"`` (the tensor passes of :func:`_integrate`, any device, ``dtype``, ``chunk_cells``) or None:
            numba for CPU tensors when it is installed, torch otherwise (GPU). Both agree to ~1e-4 (the float32
            torch engine may stop a cell one step apart when its free mass lands on ``1 - converged``).
    """
    grid = grid or Grid()
    params = params or PitchControlParams()
    if chunk_cells < 1:
        raise InvalidParameterError(f"chunk_cells={chunk_cells} must be positive")
    usable = usable_frames(positions, velocities, valid)
    device = positions.device
    engine = engine or ("numba" if numba is not None and device.type == "cpu" else "torch")
    if engine not in ENGINES:
        raise InvalidParameterError(
            f"unknown pitch control engine {engine!r}; choose one of {', '.join(ENGINES)}"
        )
    if engine == "numba":
        if numba is None:
            raise InvalidParameterError("the numba pitch control engine needs numba installed")
        numba.set_num_threads(max(1, min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS)))
        n_frames, n_cells = positions.shape[0], grid.nx * grid.ny
        out = np.empty((n_frames, n_cells), dtype=np.float32)
        for start in range(0, n_frames, NUMBA_CHUNK_FRAMES):
            part = slice(start, min(start + NUMBA_CHUNK_FRAMES, n_frames))
            _numba_attack(
                positions[part].cpu(),
                velocities[part].cpu(),
                valid[part].cpu(),
                usable[part].cpu(),
                grid,
                params,
                out[part],
            )
            if progress is not None:
                progress(part.stop - part.start)
        attack = torch.from_numpy(out).to(device=device, dtype=dtype).view(n_frames, grid.ny, grid.nx)
        return ControlSurfaces(attack, 1.0 - attack, usable)
    cells = grid.cells(dtype, device)
    n_frames, n_cells = positions.shape[0], cells.shape[0]
    attack = torch.full((n_frames, n_cells), math.nan, dtype=dtype, device=device)
    frames_per_chunk = max(1, chunk_cells // n_cells)
    for start in range(0, n_frames, frames_per_chunk):
        stop = min(start + frames_per_chunk, n_frames)
        index = torch.arange(start, stop, device=device)[usable[start:stop]]
        if index.numel():
            pos = positions[index].to(dtype)
            vel = velocities[index].to(dtype)
            ok = valid[index].bool()
            active = ok[:, :N_PLAYERS].clone()
            if params.remove_offside:
                active[:, ATTACK_SLOTS] &= ~offside_attackers(pos, ok, params.offside_tolerance)
            shifted = _shifted_arrivals(
                pos.nan_to_num(0.0),
                vel.nan_to_num(0.0),
                active,
                cells,
                params.reaction_time,
                params.max_player_speed,
                params.ball_speed,
                params.logistic_rate,
            )
            attack[index] = _integrate(shifted, params).view(-1, n_cells)
        if progress is not None:
            progress(stop - start)
    shape = (n_frames, grid.ny, grid.nx)
    return ControlSurfaces(attack.view(shape), (1.0 - attack).view(shape), usable)


def pitch_control(
    positions: torch.Tensor,
    velocities: torch.Tensor,
    valid: torch.Tensor,
    grid: Grid | None = None,
    params: PitchControlParams | None = None,
    **kwargs,
) -> torch.Tensor:
    """The attacking team's control ``[F, ny, nx]`` (NaN for skipped frames); see :func:`control_surfaces`."""
    return control_surfaces(positions, velocities, valid, grid, params, **kwargs).attack


# --------------------------------------------------------------------------------------------------------------
# Canonical tracking table -> frame tensors


def frames_from_tracking(tracking_10hz: pl.DataFrame, players: pl.DataFrame, attacking_team: str) -> FrameTensors:
    """Frame tensors of a 10 Hz canonical slice for ``attacking_team``: :func:`soccerai.windows.layout.frame_tensors`.

    Slots 0 and 11 hold the teams' goalkeepers (empty when none is seen), slot 22 the ball; attack towards +x.
    """
    return frame_tensors(tracking_10hz, players, attacking_team)
