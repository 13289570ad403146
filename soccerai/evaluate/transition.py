"""OBSO's transition model: where the ball is likely to be next.

Spearman (2018) models the next on-ball location as an isotropic Gaussian around the ball,
``T(r) = exp(-|r - p_ball|^2 / (2 sigma^2))`` with ``sigma = 14 m``, here scaled to peak 1 (docs/concepts/scoring.md)
rather than normalised to a probability over the pitch, so OBSO values do not depend on the grid resolution.
"""

from __future__ import annotations

import math

import torch

from soccerai.errors import InvalidParameterError
from soccerai.evaluate.pitch_control import Grid

DEFAULT_SIGMA = 14.0


def transition(ball: torch.Tensor, grid: Grid | None = None, sigma: float = DEFAULT_SIGMA) -> torch.Tensor:
    """Transition surface ``[F, ny, nx]`` for ball positions ``[F, 2]`` (peak 1 at the ball; NaN for a NaN ball)."""
    if not (math.isfinite(sigma) and sigma > 0):
        raise InvalidParameterError(f"transition sigma={sigma} must be a positive number of metres")
    if ball.ndim != 2 or ball.shape[1] != 2:
        raise InvalidParameterError(f"ball positions must be [F, 2], got {tuple(ball.shape)}")
    grid = grid or Grid()
    cells = grid.cells(ball.dtype, ball.device)  # [C, 2]
    squared = ((cells[None] - ball[:, None]) ** 2).sum(-1)
    return torch.exp(-squared / (2.0 * sigma**2)).view(-1, grid.ny, grid.nx)
