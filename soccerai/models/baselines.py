"""Constant velocity: every predicted agent keeps its last observed velocity, ``p_{t+h} = p_t + h * dt * v_t``;
damped constant velocity: the velocity fades geometrically, ``v_{t+h} = gamma^h v_t``, so
``p_{t+h} = p_t + dt * v_t * sum_{i=1..h} gamma^i`` (``gamma`` per 0.1 s step; on broadcast tracking a damping fitted
on the training split alone explains much of a learned model's gain, so it is reported beside every model).

The velocity is the backward difference of the last two observed positions (the same quantity the VRNNs
integrate), or the given velocity when only one frame is observed. Deterministic: all ``S`` samples are equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from soccerai.models.base import TrajectoryBatch, TrajectoryModel
from soccerai.models.vrnn import kinematic_states
from soccerai.windows.container import DT


@dataclass
class ConstantVelocityConfig:
    """No parameters; kept so every model is built and saved the same way."""


class ConstantVelocity(TrajectoryModel):
    """The constant-velocity baseline (no parameters, nothing to train)."""

    name: ClassVar[str] = "constant_velocity"
    config_class: ClassVar[type] = ConstantVelocityConfig

    def __init__(self, config: ConstantVelocityConfig | None = None) -> None:
        super().__init__()
        self.config = config or ConstantVelocityConfig()

    def loss(self, batch: TrajectoryBatch) -> dict[str, Tensor]:
        """Mean displacement error of the constant-velocity forecast (for reporting; there is nothing to fit)."""
        forecast = self.sample(batch.history(), batch.states.shape[1] - batch.obs_len, 1)[0]
        error = (forecast - batch.future_positions()).norm(dim=-1)
        valid = batch.future_mask()
        return {"loss": error[valid].mean() if valid.any() else error.new_zeros(())}

    def _sample(self, history: TrajectoryBatch, horizon: int, n_samples: int, predict_mask: Tensor,
                given_future: Tensor, generator: torch.Generator | None) -> Tensor:
        observed = kinematic_states(history.states[:, : history.obs_len], history.mask[:, : history.obs_len])
        last = observed[:, -1]
        steps = torch.arange(1, horizon + 1, dtype=last.dtype, device=last.device)[None, :, None, None] * DT
        forecast = last[:, None, :, :2] + steps * last[:, None, :, 2:4]
        forecast = torch.where(predict_mask[:, None, :, None], forecast, given_future)
        return forecast.unsqueeze(0).expand(n_samples, -1, -1, -1, -1).clone()


@dataclass
class DampedConstantVelocityConfig:
    """``gamma``: the velocity kept per 0.1 s step (1 is constant velocity; 0.9 halves the speed in ~0.7 s)."""

    gamma: float = 0.9

    def __post_init__(self) -> None:
        if not 0.0 < self.gamma <= 1.5:
            raise ValueError(f"gamma={self.gamma} must lie in (0, 1.5]")


class DampedConstantVelocity(TrajectoryModel):
    """Constant velocity fading geometrically (module docstring). Like constant velocity it ignores given futures."""

    name: ClassVar[str] = "damped_constant_velocity"
    config_class: ClassVar[type] = DampedConstantVelocityConfig

    def __init__(self, config: DampedConstantVelocityConfig | float | None = None) -> None:
        super().__init__()
        if isinstance(config, int | float):
            config = DampedConstantVelocityConfig(gamma=float(config))
        self.config = config or DampedConstantVelocityConfig()

    @property
    def gamma(self) -> float:
        return self.config.gamma

    def loss(self, batch: TrajectoryBatch) -> dict[str, Tensor]:  # pragma: no cover - nothing to fit
        return {"loss": batch.states.new_zeros(())}

    def _sample(self, history: TrajectoryBatch, horizon: int, n_samples: int, predict_mask: Tensor,
                given_future: Tensor, generator: torch.Generator | None) -> Tensor:
        last = kinematic_states(history.states[:, : history.obs_len], history.mask[:, : history.obs_len])[:, -1]
        powers = self.gamma ** torch.arange(1, horizon + 1, dtype=last.dtype, device=last.device)
        factor = torch.cumsum(powers, 0) * DT
        forecast = last[:, None, :, :2] + factor[None, :, None, None] * last[:, None, :, 2:4]
        forecast = torch.where(predict_mask[:, None, :, None], forecast, given_future)
        return forecast.unsqueeze(0).expand(n_samples, -1, -1, -1, -1).clone()


DAMPING_GRID = tuple(round(0.5 + 0.025 * i, 3) for i in range(23))
"""Gammas tried by :func:`fit_damping`: 0.5 to 1.05 in steps of 0.025."""


def fit_damping(windows, grid: tuple[float, ...] = DAMPING_GRID, batch_size: int = 256) -> float:
    """The ``gamma`` of :class:`DampedConstantVelocity` with the smallest ADE on ``windows`` (the TRAINING split).

    Full scene, every player present at the last observed frame, scored where tracked (the forecast table's
    protocol); a grid search (the ADE is cheap and deterministic). Fitted on training windows only, so that the
    baseline is what damping alone buys on this kind of tracking, never tuned on the test set.
    """
    from soccerai.windows.container import agent_roles

    if len(windows) == 0:
        raise ValueError("fit_damping needs at least one window")
    players = torch.as_tensor(agent_roles()) != 2
    sums = torch.zeros(len(grid), dtype=torch.float64)
    count = torch.zeros((), dtype=torch.float64)
    for start in range(0, len(windows), batch_size):
        batch = TrajectoryBatch.from_windows(windows, slice(start, start + batch_size))
        history, truth = batch.history(), batch.future_positions()
        valid = (batch.future_mask() & (batch.present() & players)[:, None]).double()
        for i, gamma in enumerate(grid):
            pred = DampedConstantVelocity(gamma).sample(history, truth.shape[1], 1, batch.present(),
                                                        batch.given_future())[0]
            err = (pred - truth).norm(dim=-1).double()
            sums[i] += (torch.nan_to_num(err) * valid).sum()
        count += valid.sum()
    return float(grid[int(torch.argmin(sums / count.clamp_min(1.0)))])
