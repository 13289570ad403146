"""Constant velocity: every predicted agent keeps its last observed velocity, ``p_{t+h} = p_t + h * dt * v_t``.

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
