"""AE: a deterministic sequence encoder-decoder forecaster, the strong non-stochastic baseline.

``c_k = SceneEncoder(history, given)`` (GRU over the observed frames + interaction encoder, see
:mod:`soccerai.models.scene`), then an MLP decodes the whole future at once, ``delta_k = MLP(c_k) in R^{H x 2}``
(velocity corrections, m/s), integrated to positions. Loss: the mean displacement of the predicted agents,
``ADE = mean_{b,t,k} || p_hat - p ||`` (metres), so training minimises the reported metric directly. Every sample is
the same forecast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from soccerai.models.base import TrajectoryBatch
from soccerai.models.layers import mlp
from soccerai.models.scene import SceneConfig, SceneGenerator, masked_mean


@dataclass
class AEConfig(SceneConfig):
    """Sizes of the AE: those of every :class:`SceneConfig`; ``horizon`` is the number of future frames it decodes."""


class AutoEncoder(SceneGenerator):
    """Deterministic encoder-decoder forecaster (see module docstring)."""

    name: ClassVar[str] = "ae"
    config_class: ClassVar[type[AEConfig]] = AEConfig

    def __init__(self, config: AEConfig | None = None) -> None:
        super().__init__(config)
        c = self.config
        self.decoder = mlp(c.hidden, c.hidden, 2 * c.horizon)

    def decode(self, context: Tensor) -> Tensor:
        return self.decoder(context).view(context.shape[0], self.config.horizon, 2)

    def context_loss(self, context: Tensor, batch: TrajectoryBatch, target: Tensor, scored: Tensor) -> dict[str, Tensor]:
        error = self.positions_error(self.decode(context), batch, scored)
        ade = masked_mean(error, scored)
        return {"loss": ade, "ade": ade}

    def sample_delta(self, context: Tensor, n_samples: int, generator: torch.Generator | None) -> Tensor:
        return self.decode(context).unsqueeze(0).expand(n_samples, -1, -1, -1)
