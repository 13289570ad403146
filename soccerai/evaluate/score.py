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
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from soccerai.errors import InvalidParameterError
from soccerai.evaluate.pitch_control import DEFENCE_SLOTS, DEFENDING_GOALKEEPER, N_PER_TEAM, Grid

GOAL_WIDTH = 7.32


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


def potential_score(
    positions: torch.Tensor,
    valid: torch.Tensor,
    grid: Grid | None = None,
    params: PotentialScoreParams | None = None,
    frames_per_chunk: int = 4,
) -> torch.Tensor:
    """Potential score ``[F, ny, nx]`` of every cell given the defenders of each frame (``positions [F, 23, 2]``)."""
    grid, params = grid or Grid(), params or PotentialScoreParams()
    cells = grid.cells(torch.float32, positions.device)  # [C, 2]
    gx, gy = _goal(grid)
    half = params.goal_width / 2.0
    left = torch.atan2(gy + half - cells[:, 1], gx - cells[:, 0])  # [C]
    right = torch.atan2(gy - half - cells[:, 1], gx - cells[:, 0])
    step = math.radians(params.angle_step_deg)
    offsets = (
        torch.arange(int(math.pi / step) + 1, device=positions.device, dtype=torch.float32) * step
    )  # [M]
    theta = right[:, None] + offsets[None]  # [C, M]
    in_mouth = theta <= left[:, None] + 1e-7
    direction = torch.stack([torch.cos(theta), torch.sin(theta)], -1)  # [C, M, 2]
    length = (gx - cells[:, 0:1]) / torch.cos(theta).clamp(min=1e-6)  # [C, M] to the goal line
    cell_to_goal = torch.hypot(cells[:, 0] - gx, cells[:, 1] - gy)  # [C]
    weight = torch.ones(N_PER_TEAM, device=positions.device)
    weight[DEFENDING_GOALKEEPER - N_PER_TEAM] = params.goalkeeper_weight
    out = []
    for start in range(0, positions.shape[0], frames_per_chunk):
        defenders = positions[start : start + frames_per_chunk, DEFENCE_SLOTS].float()  # [f, 11, 2]
        present = valid[start : start + frames_per_chunk, DEFENCE_SLOTS].bool() & torch.isfinite(
            defenders
        ).all(-1)
        defenders = defenders.nan_to_num(0.0)
        to_goal = torch.hypot(defenders[..., 0] - gx, defenders[..., 1] - gy)  # [f, 11]
        goal_side = present[:, None] & (to_goal[:, None] < cell_to_goal[None, :, None])  # [f, C, 11]
        distance = torch.linalg.vector_norm(defenders[:, None] - cells[None, :, None], dim=-1)  # [f, C, 11]
        std = torch.sqrt(params.base_variance + distance)
        density = line_blocking(
            cells[None, :, None, None],
            direction[None, :, :, None],
            length[None, :, :, None],
            defenders[:, None, None],
            std[:, :, None],
        )  # [f, C, M, 11]
        blocking = (density * (weight * goal_side)[:, :, None]).sum(-1)  # [f, C, M]
        value = params.scale * (params.c - blocking).clamp(min=0.0) * in_mouth
        out.append(value.sum(-1).clamp(max=1.0))
    return torch.cat(out).view(-1, grid.ny, grid.nx)
