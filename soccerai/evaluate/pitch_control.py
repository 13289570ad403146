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

Bad input: frames with a missing or non-finite ball, a non-finite position/velocity of a valid player, or no
valid player on a team are *skipped* — their surface is NaN and :func:`usable_frames` counts them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl
import torch

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
) -> ControlSurfaces:
    """Attacking and defending control for every frame, on ``grid`` (see the module docstring for the maths).

    Args:
        positions, velocities, valid: ``[F, 23, 2]``, ``[F, 23, 2]``, ``[F, 23]`` (attack towards +x).
        chunk_cells: frames are processed in chunks of about this many (frame, cell) pairs.
        dtype: compute dtype (float32 is accurate to ~1e-5 here).
        progress: called with the number of frames finished after every chunk.
    """
    grid = grid or Grid()
    params = params or PitchControlParams()
    if chunk_cells < 1:
        raise InvalidParameterError(f"chunk_cells={chunk_cells} must be positive")
    usable = usable_frames(positions, velocities, valid)
    device = positions.device
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
