"""Reference potential score: the original one-tensor implementation of the C-OBSO potential score model.

This is :func:`soccerai.evaluate.score_model.potential_score` as it was before it was restructured for speed (commit
01854ac): every frame builds a dense ``[frames, cells, 181 vectors, 11 defenders]`` tensor, masks out the vectors
that miss the goal mouth and the defenders that are not goal side, and sums. Same maths as the fast version (see
the module docstring of :mod:`soccerai.evaluate.score_model`), kept so tests and ``benchmarks/obso.py`` can check the
fast version against it. Tests and the benchmark only.
"""

from __future__ import annotations

import math

import torch

from soccerai.evaluate.pitch_control import DEFENCE_SLOTS, DEFENDING_GOALKEEPER, N_PER_TEAM, Grid
from soccerai.evaluate.score_model import PotentialScoreParams, line_blocking


def reference_potential_score(
    positions: torch.Tensor,
    valid: torch.Tensor,
    grid: Grid | None = None,
    params: PotentialScoreParams | None = None,
    frames_per_chunk: int = 4,
) -> torch.Tensor:
    """Potential score ``[F, ny, nx]`` of every cell given the defenders of each frame (``positions [F, 23, 2]``)."""
    grid, params = grid or Grid(), params or PotentialScoreParams()
    cells = grid.cells(torch.float32, positions.device)  # [C, 2]
    gx, gy = grid.length / 2.0, 0.0
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
