"""OBSO's score models: the value of having the ball at each cell (attack towards the goal at ``x = +length/2``).

Two models:

``distance_score`` (Spearman-style, static)
    ``S(r) = peak * exp(-d(r) / decay)`` with ``d`` the distance to the goal centre; defaults ``peak = 0.6``,
    ``decay = 9 m`` give 0.18 at the penalty spot, 0.065 at 20 m and 0.02 at 30 m, close to open-play xG.

``potential_score`` (Teranishi et al. 2022, the C-OBSO paper, frame-dependent)
    From each cell ``r``, shot vectors are cast at 1 degree spacing across the goal mouth, starting at the angle
    of the right post (``theta_m = theta_right + m * 1 deg`` while ``theta_m <= theta_left``). Each vector
    ``m`` is worth ``C * max(c - B_m, 0)``, ``c = 1.1``, ``C = 1/150``, where the blocking ``B_m`` sums, over the
    goal-side defenders ``d``, the line integral of a 2-D normal density centred on the defender, variance
    ``s_d^2 = 0.5 + |p_d - r|`` per axis, weight 2 for the goalkeeper (slot 11) and 1 otherwise, along the shot
    segment from ``r`` to the goal line. ``S(r) = min(sum_m value_m, 1)``.

    Choices where the paper is silent (each tested):
      * goal width 7.32 m (the Laws of the Game), goal line at ``x = length / 2``;
      * the line integral is exact, not stepped: along ``r + s u``, ``s in [0, L]``, with ``s0 = (p_d - r) . u`` and
        ``h`` the perpendicular distance, ``int N ds = exp(-h^2 / (2 s_d^2)) / (2 s_d sqrt(2 pi)) *
        [erf((L - s0) / (s_d sqrt 2)) + erf(s0 / (s_d sqrt 2))]``;
      * "goal side" = strictly closer to the goal centre than the shooter's cell;
      * the sum over vectors is capped at 1 (next to the goal line ~180 vectors would give 1.3).

Speed
    A dense ``[frame, cell, 181 vectors, 11 defenders]`` evaluation costs ~3.2 M closed forms a frame on the
    50 x 32 grid (``tests/reference_score.py`` keeps it as the reference). Two facts make most of it unnecessary:
      * the vectors and their geometry (start, direction, length to the goal line) do not depend on the frame, and
        only ~14,500 (cell, vector) pairs reach the goal mouth: they are cast once (:class:`ShotVectors`);
      * a defender blocks a vector only if he is strictly closer to the goal than its cell. With the vectors sorted
        by their cell's distance to the goal and each frame's defenders sorted by theirs, the vectors the ``r``-th
        defender can block form a suffix, so each defender rank of a chunk of frames is evaluated on one
        contiguous slice (the chunk's longest suffix; the goal-side mask is only needed up to its shortest one)
        and ranks that block nothing anywhere in the chunk are skipped. About 60 % of the (vector, defender)
        pairs remain.
    Each rank is ~20 in-place passes over reused ``[frames, vectors]`` buffers; vector values are summed into
    their cells with ``index_add_``. Results equal the dense reference to ~1e-6 (float32 rounding of a different
    summation order), except that a defender beyond :data:`FAR_AWAY` is clamped to it (never goal side) where the
    dense form overflowed to NaN.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from soccerai.errors import InvalidParameterError
from soccerai.evaluate.pitch_control import DEFENCE_SLOTS, DEFENDING_GOALKEEPER, N_PER_TEAM, Grid
from soccerai.windows.container import N_AGENTS

GOAL_WIDTH = 7.32
FAR_AWAY = 1e4  # metres: defenders are clamped to this box (never goal side there; avoids float32 overflow)


def _goal(grid: Grid) -> tuple[float, float]:
    return grid.length / 2.0, 0.0


def distance_score(grid: Grid | None = None, peak: float = 0.6, decay: float = 9.0) -> torch.Tensor:
    """Static score ``[ny, nx]``: ``peak * exp(-distance to goal centre / decay)``."""
    if not (0 < peak <= 1 and math.isfinite(decay) and decay > 0):
        raise InvalidParameterError(f"distance score needs 0 < peak <= 1 and decay > 0, got {peak}, {decay}")
    grid = grid or Grid()
    gx, gy = _goal(grid)
    cells = grid.cells(torch.float64)
    distance = torch.hypot(cells[:, 0] - gx, cells[:, 1] - gy)
    return (peak * torch.exp(-distance / decay)).float().view(grid.ny, grid.nx)


@dataclass(frozen=True)
class PotentialScoreParams:
    """Constants of the C-OBSO potential score model (see the module docstring)."""

    c: float = 1.1
    scale: float = 1.0 / 150.0
    angle_step_deg: float = 1.0
    base_variance: float = 0.5
    goalkeeper_weight: float = 2.0
    goal_width: float = GOAL_WIDTH

    def __post_init__(self) -> None:
        for name in ("c", "scale", "angle_step_deg", "base_variance", "goalkeeper_weight", "goal_width"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise InvalidParameterError(f"potential score parameter {name}={value} must be positive")


def line_blocking(
    shooter: torch.Tensor,
    direction: torch.Tensor,
    length: torch.Tensor,
    centre: torch.Tensor,
    std: torch.Tensor,
) -> torch.Tensor:
    """Exact line integral of an isotropic 2-D normal ``N(centre, std^2 I)`` along ``shooter + s direction``,
    ``s in [0, length]`` (all arguments broadcast; points ``[..., 2]``, ``direction`` unit)."""
    offset = centre - shooter
    along = (offset * direction).sum(-1)
    across_sq = ((offset**2).sum(-1) - along**2).clamp(min=0.0)
    root2s = std * math.sqrt(2.0)
    window = torch.erf((length - along) / root2s) + torch.erf(along / root2s)
    return torch.exp(-across_sq / (2.0 * std**2)) * window / (2.0 * std * math.sqrt(2.0 * math.pi))


@dataclass(frozen=True)
class ShotVectors:
    """The frame-independent half of the potential score: every shot vector that reaches the goal mouth.

    One entry per (cell, vector) pair with ``theta_m <= theta_left`` (about 14,500 on the 50 x 32 grid, against
    1,600 x 181 in a dense ``[cell, vector]`` layout), sorted by the cell's distance to the goal centre, nearest
    first, so the vectors a defender can block (cells strictly farther from goal than he is) are a suffix.
    """

    cell: torch.Tensor  # [P] int64 flat cell index of the shooter's cell
    start: torch.Tensor  # [2, P] shooter's cell centre (x row, y row)
    direction: torch.Tensor  # [2, P] unit vector (cos, sin)
    length: torch.Tensor  # [P] distance along the vector to the goal line
    cell_to_goal: torch.Tensor  # [P] ascending

    @classmethod
    def build(
        cls, grid: Grid, params: PotentialScoreParams, device: torch.device | str = "cpu"
    ) -> ShotVectors:
        """Cast the vectors of every cell exactly as the dense formulation does (float32, same expressions)."""
        cells = grid.cells(torch.float32, device)  # [C, 2]
        gx, gy = _goal(grid)
        half = params.goal_width / 2.0
        left = torch.atan2(gy + half - cells[:, 1], gx - cells[:, 0])  # [C]
        right = torch.atan2(gy - half - cells[:, 1], gx - cells[:, 0])
        step = math.radians(params.angle_step_deg)
        offsets = torch.arange(int(math.pi / step) + 1, device=device, dtype=torch.float32) * step  # [M]
        theta = right[:, None] + offsets[None]  # [C, M]
        cell, vector = torch.nonzero(theta <= left[:, None] + 1e-7, as_tuple=True)
        theta = theta[cell, vector]  # [P]
        cell_to_goal = torch.hypot(cells[:, 0] - gx, cells[:, 1] - gy)[cell]
        order = torch.sort(cell_to_goal, stable=True).indices
        cell, theta, cell_to_goal = cell[order], theta[order], cell_to_goal[order]
        return cls(
            cell=cell,
            start=cells[cell].T.contiguous(),
            direction=torch.stack([torch.cos(theta), torch.sin(theta)]),
            length=(gx - cells[cell, 0]) / torch.cos(theta).clamp(min=1e-6),
            cell_to_goal=cell_to_goal,
        )

    def __len__(self) -> int:
        return self.cell.shape[0]


@dataclass
class _Defenders:
    """One chunk of frames' defenders, ordered per frame by distance to the goal (absent ones last)."""

    x: torch.Tensor  # [f, 11]
    y: torch.Tensor  # [f, 11]
    weight: torch.Tensor  # [f, 11] 2 for the goalkeeper, 1 otherwise, 0 when absent
    to_goal: torch.Tensor  # [f, 11] ascending per row, inf when absent
    first_blocked: torch.Tensor  # [f, 11] index of the first vector he is goal side of (len(vectors) if none)


def _sorted_defenders(
    positions: torch.Tensor,
    valid: torch.Tensor,
    grid: Grid,
    params: PotentialScoreParams,
    vectors: ShotVectors,
) -> _Defenders:
    """The defenders of frames ``positions [f, 23, 2]`` sorted by distance to goal, with their weights and the
    first vector each can block (``searchsorted`` of his distance in the vectors' ascending ``cell_to_goal``)."""
    defenders = positions[:, DEFENCE_SLOTS].float()  # [f, 11, 2]
    present = valid[:, DEFENCE_SLOTS].bool() & torch.isfinite(defenders).all(-1)
    # absent -> 0 (masked below); beyond 10 km -> 10 km, which is never goal side and keeps |o|^2 finite in float32
    defenders = defenders.masked_fill(~present[..., None], 0.0).clamp(-FAR_AWAY, FAR_AWAY)
    gx, gy = _goal(grid)
    to_goal = torch.hypot(defenders[..., 0] - gx, defenders[..., 1] - gy).masked_fill(~present, math.inf)
    to_goal, order = torch.sort(to_goal, dim=1)
    weight = torch.ones(N_PER_TEAM, device=positions.device)
    weight[DEFENDING_GOALKEEPER - N_PER_TEAM] = params.goalkeeper_weight
    weight = (weight * present).gather(1, order)
    x, y = defenders[..., 0].gather(1, order), defenders[..., 1].gather(1, order)
    first_blocked = torch.searchsorted(vectors.cell_to_goal, to_goal.contiguous(), right=True)
    return _Defenders(x, y, weight, to_goal, first_blocked)


class _Workspace:
    """Four float buffers and a mask of ``frames x vectors`` entries, reused as contiguous ``[f, n]`` views."""

    def __init__(self, frames: int, vectors: int, device: torch.device | str) -> None:
        self.floats = torch.empty(4, frames * vectors, device=device)
        self.mask = torch.empty(frames * vectors, dtype=torch.bool, device=device)

    def views(self, frames: int, n: int) -> tuple[torch.Tensor, ...]:
        size = frames * n
        return (*(buffer[:size].view(frames, n) for buffer in self.floats), self.mask[:size].view(frames, n))


def _add_blocking(
    blocking: torch.Tensor,
    vectors: ShotVectors,
    defenders: _Defenders,
    rank: int,
    params: PotentialScoreParams,
    workspace: _Workspace,
) -> None:
    """Add the blocking of each frame's ``rank``-th defender to ``blocking [f, P]``.

    With ``o = p_d - r`` (defender relative to the shooter's cell), ``s0 = o . u``, ``h^2 = |o|^2 - s0^2``,
    ``s_d^2 = b + |o|`` and ``k = 1 / (s_d sqrt 2)``, the closed form of :func:`line_blocking` reads
    ``w * k / (2 sqrt(pi)) * exp(-h^2 / (2 s_d^2)) * [erf((L - s0) k) + erf(s0 k)]``, times 1 when the defender is
    strictly closer to the goal than the cell and 0 otherwise. Frame ``i``'s defender is goal side of the vectors
    ``first_blocked[i]:``, so only ``first = min_i first_blocked[i]:`` is evaluated and the goal-side mask is only
    applied up to ``last = max_i first_blocked[i]``. Four ``[f, P - first]`` buffers, all in place.
    """
    first_blocked = defenders.first_blocked[:, rank]
    first, last = int(first_blocked.min()), int(first_blocked.max())
    ox, oy, squared, k, goal_side = workspace.views(blocking.shape[0], blocking.shape[1] - first)
    torch.sub(defenders.x[:, rank, None], vectors.start[0, first:], out=ox)
    torch.sub(defenders.y[:, rank, None], vectors.start[1, first:], out=oy)
    torch.mul(ox, ox, out=squared).addcmul_(oy, oy)  # |o|^2
    along = ox.mul_(vectors.direction[0, first:]).addcmul_(oy, vectors.direction[1, first:])  # s0
    two_variance = torch.sqrt(squared, out=k).add_(params.base_variance).mul_(2.0)  # 2 s_d^2
    across = squared.addcmul_(along, along, value=-1.0)  # h^2 (>= -1 ulp: exp() of it is 1 either way)
    gauss = across.div_(two_variance).neg_().exp_()
    k = two_variance.rsqrt_()
    window = torch.mul(along, k, out=oy).erf_()  # erf(s0 k)
    window -= along.sub_(vectors.length[first:]).mul_(k).erf_()  # - erf((s0 - L) k) = + erf((L - s0) k)
    coefficient = k.mul_(gauss)  # k exp(-h^2 / (2 s_d^2))
    weight = defenders.weight[:, rank, None]
    if bool((weight != 1.0).any()):
        coefficient.mul_(weight)
    if last > first:  # before first_blocked[i] frame i's defender is not goal side
        mask = goal_side[:, : last - first]
        torch.gt(vectors.cell_to_goal[first:last], defenders.to_goal[:, rank, None], out=mask)
        coefficient[:, : last - first].mul_(mask)
    blocking[:, first:].addcmul_(window, coefficient, value=1.0 / (2.0 * math.sqrt(math.pi)))


def potential_score(
    positions: torch.Tensor,
    valid: torch.Tensor,
    grid: Grid | None = None,
    params: PotentialScoreParams | None = None,
    frames_per_chunk: int = 32,
    progress: Callable[[int], None] | None = None,
) -> torch.Tensor:
    """Potential score ``[F, ny, nx]`` of every cell given the defenders of each frame (``positions [F, 23, 2]``).

    Same maths as the module docstring, organised as its "Speed" section says (~0.7 ms of CPU a frame on one
    thread, 50 x 32 grid, against ~180 ms for the dense form; ``benchmarks/obso.py``): vectors cast once, defender
    ranks evaluated on the suffix of vectors they can block, in place, chunk by chunk.

    Args:
        frames_per_chunk: frames per chunk (working memory ~6 floats x frames x 14,500 vectors on the default grid,
            2.8 MB at 32 frames: small enough to stay in cache).
        progress: called with the number of frames finished after every chunk.
    """
    grid, params = grid or Grid(), params or PotentialScoreParams()
    if frames_per_chunk < 1:
        raise InvalidParameterError(f"frames_per_chunk={frames_per_chunk} must be positive")
    if positions.ndim != 3 or positions.shape[1:] != (N_AGENTS, 2) or valid.shape != positions.shape[:2]:
        raise InvalidParameterError(
            f"potential score needs positions [F, {N_AGENTS}, 2] and valid [F, {N_AGENTS}], "
            f"got {tuple(positions.shape)} and {tuple(valid.shape)}"
        )
    vectors = ShotVectors.build(grid, params, positions.device)
    n_frames, n_vectors = positions.shape[0], len(vectors)
    out = torch.zeros(n_frames, grid.ny * grid.nx, device=positions.device)
    workspace = _Workspace(min(frames_per_chunk, n_frames), n_vectors, positions.device)
    for start in range(0, n_frames, frames_per_chunk):
        stop = min(start + frames_per_chunk, n_frames)
        defenders = _sorted_defenders(positions[start:stop], valid[start:stop], grid, params, vectors)
        blocking = torch.zeros(stop - start, n_vectors, device=positions.device)
        for rank, first in enumerate(defenders.first_blocked.amin(0).tolist()):
            if first >= n_vectors:  # ranks go away from goal: no later one blocks anything either
                break
            _add_blocking(blocking, vectors, defenders, rank, params, workspace)
        value = blocking.neg_().add_(params.c).clamp_(min=0.0).mul_(params.scale)
        out[start:stop].index_add_(1, vectors.cell, value)
        if progress is not None:
            progress(stop - start)
    return out.clamp_(max=1.0).view(-1, grid.ny, grid.nx)
