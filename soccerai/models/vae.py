"""CVAE over the whole future with one latent per agent (Sohn et al. 2015, as used for trajectories).

For agent ``k`` with scene context ``c_k`` (:mod:`soccerai.models.scene`) and true velocity corrections ``y_k``::

    prior      p(z_k | c_k)      = N(mu_p, sigma_p^2) = MLP_p(c_k)
    posterior  q(z_k | c_k, y_k) = N(mu_q, sigma_q^2) = MLP_q([c_k, y_k / 3])
    decoder    delta_k = MLP_d([c_k, z_k]),  z_k = mu_q + sigma_q * eps, eps ~ N(0, I)   (reparameterisation)

Loss (negative ELBO per predicted agent-step, Gaussian likelihood with fixed ``sigma`` metres on positions)::

    L = mean_{b,t,k} ||p_hat - p||^2 / (2 sigma^2)  +  kl_weight * mean_k KL(q || p) / H

Sampling draws ``z_k`` from the prior. ``ade`` (metres) is reported beside the loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from soccerai.models.base import TrajectoryBatch
from soccerai.models.layers import gaussian_kl, mlp, split_gaussian
from soccerai.models.scene import DELTA_SCALE, SceneConfig, SceneGenerator, masked_mean, to_agent_layout


@dataclass
class VAEConfig(SceneConfig):
    """Sizes and weights of the CVAE."""

    latent: int = 16
    kl_weight: float = 1.0
    sigma: float = 1.0


class ConditionalVAE(SceneGenerator):
    """Conditional VAE with per-agent latents (see module docstring)."""

    name: ClassVar[str] = "vae"
    config_class: ClassVar[type[VAEConfig]] = VAEConfig

    def __init__(self, config: VAEConfig | None = None) -> None:
        super().__init__(config)
        c = self.config
        self.prior = mlp(c.hidden, c.hidden, 2 * c.latent)
        self.posterior = mlp(c.hidden + 2 * c.horizon, c.hidden, 2 * c.latent)
        self.decoder = mlp(c.hidden + c.latent, c.hidden, 2 * c.horizon)

    def decode(self, context: Tensor, z: Tensor) -> Tensor:
        out = self.decoder(torch.cat([context.expand(*z.shape[:-1], -1), z], dim=-1))
        return out.view(*z.shape[:-1], self.config.horizon, 2)

    def context_loss(self, context: Tensor, batch: TrajectoryBatch, target: Tensor, scored: Tensor) -> dict[str, Tensor]:
        agent_scored = to_agent_layout(scored.unsqueeze(-1).float()).squeeze(-1)  # [B*N, H]
        target = to_agent_layout(target) * agent_scored.unsqueeze(-1)  # unscored steps carry no information
        q_mean, q_log_std = split_gaussian(self.posterior(torch.cat([context, target.flatten(1) / DELTA_SCALE], -1)))
        p_mean, p_log_std = split_gaussian(self.prior(context))
        z = q_mean + q_log_std.exp() * torch.randn_like(q_mean)
        error = self.positions_error(self.decode(context, z), batch, scored)
        reconstruction = masked_mean(error.pow(2) / (2 * self.config.sigma**2), scored)
        kl = masked_mean(gaussian_kl(q_mean, q_log_std, p_mean, p_log_std), agent_scored.any(-1)) / self.config.horizon
        return {
            "loss": reconstruction + self.config.kl_weight * kl,
            "reconstruction": reconstruction,
            "kl": kl,
            "ade": masked_mean(error, scored),
        }

    def sample_delta(self, context: Tensor, n_samples: int, generator: torch.Generator | None) -> Tensor:
        p_mean, p_log_std = split_gaussian(self.prior(context))
        noise = torch.randn(n_samples, *p_mean.shape, generator=generator, device=context.device)
        return self.decode(context, p_mean + p_log_std.exp() * noise)
