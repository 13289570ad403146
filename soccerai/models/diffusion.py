"""DDPM diffusion over whole future trajectories, one chain per agent conditioned on its scene context.

Data ``x_0 = delta_k / 3``: an agent's ``H x 2`` velocity corrections (m/s, :mod:`soccerai.models.scene`),
flattened. The network predicts the noise (epsilon parameterisation, Ho et al. 2020)::

    eps_hat = MLP([x_t, c_k, emb(t)]),   emb(t) = [sin(t w_i), cos(t w_i)],  w_i = 10000^(-i / d)
    L       = mean_{b,t,k} || eps_hat - eps ||^2 / 2   over the predicted agents' tracked future steps

with ``t`` uniform on ``0..T-1`` and ``x_t`` from :class:`soccerai.models.schedulers.NoiseSchedule`. Sampling runs
``config.sampler``: ``ddpm`` (ancestral, all ``T`` steps) or ``ddim`` (``sample_steps`` strided steps, ``eta``), see
:mod:`soccerai.models.schedulers`, with the clean estimate clipped to ``|x0_hat| <= clip_sample`` (12 m/s of
correction); set ``model.config.sampler`` to switch samplers on a trained model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from soccerai.models.base import TrajectoryBatch
from soccerai.models.layers import mlp
from soccerai.models.scene import DELTA_SCALE, SceneConfig, SceneGenerator, masked_mean, to_agent_layout
from soccerai.models.schedulers import NoiseSchedule, make_sampler

TIME_FEATURES = 32


@dataclass
class DiffusionConfig(SceneConfig):
    """Network sizes, the noise schedule and the sampler."""

    schedule: str = "linear"
    diffusion_steps: int = 100
    sampler: str = "ddpm"
    sample_steps: int = 10
    eta: float = 0.0
    clip_sample: float | None = 4.0


def time_embedding(t: Tensor, dim: int = TIME_FEATURES) -> Tensor:
    """Sinusoidal features ``[M, dim]`` of integer steps ``t [M]``."""
    frequencies = torch.exp(-math.log(10000.0) * torch.arange(dim // 2, device=t.device) / (dim // 2))
    angles = t.float().unsqueeze(-1) * frequencies
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


class TrajectoryDiffusion(SceneGenerator):
    """Epsilon-predicting DDPM over per-agent futures (see module docstring)."""

    name: ClassVar[str] = "diffusion"
    config_class: ClassVar[type[DiffusionConfig]] = DiffusionConfig

    def __init__(self, config: DiffusionConfig | None = None) -> None:
        super().__init__(config)
        c = self.config
        self.noise_schedule = NoiseSchedule(c.schedule, c.diffusion_steps)
        make_sampler(self.noise_schedule, c.sampler, c.sample_steps, c.eta, c.clip_sample)  # validate early
        self.denoiser = mlp(2 * c.horizon + c.hidden + TIME_FEATURES, 2 * c.hidden, 2 * c.horizon, layers=3)

    def predict_noise(self, x: Tensor, context: Tensor, t: Tensor) -> Tensor:
        return self.denoiser(torch.cat([x, context, time_embedding(t)], dim=-1))

    def context_loss(self, context: Tensor, batch: TrajectoryBatch, target: Tensor, scored: Tensor) -> dict[str, Tensor]:
        x0 = to_agent_layout(target).flatten(1) / DELTA_SCALE  # [B*N, 2H]
        t = torch.randint(0, self.config.diffusion_steps, (x0.shape[0],), device=x0.device)
        noise = torch.randn_like(x0)
        x_t = self.noise_schedule.add_noise(x0, noise, t)
        squared = (self.predict_noise(x_t, context, t) - noise).pow(2).view(x0.shape[0], -1, 2).sum(-1) / 2
        step_scored = to_agent_layout(scored.unsqueeze(-1)).squeeze(-1)  # [B*N, H]
        eps_loss = masked_mean(squared, step_scored)
        return {"loss": eps_loss, "eps_mse": eps_loss}

    def sample_delta(self, context: Tensor, n_samples: int, generator: torch.Generator | None) -> Tensor:
        c = self.config
        sampler = make_sampler(self.noise_schedule, c.sampler, c.sample_steps, c.eta, c.clip_sample)
        contexts = context.repeat(n_samples, 1)
        x = torch.randn(contexts.shape[0], 2 * c.horizon, generator=generator, device=context.device)
        for t, t_prev in sampler.timesteps():
            steps = torch.full((x.shape[0],), t, device=x.device, dtype=torch.long)
            x = sampler.step(self.predict_noise(x, contexts, steps), t, t_prev, x, generator)
        return (x * DELTA_SCALE).view(n_samples, context.shape[0], c.horizon, 2)
