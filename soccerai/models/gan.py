"""GAN over future trajectories, Social-GAN style (Gupta et al., CVPR 2018), with the variety loss.

Generator ``G(c_k, n_k) -> delta_k`` (``n_k ~ N(0, I)`` per agent, ``c_k`` the scene context of
:mod:`soccerai.models.scene`); discriminator ``D(c_k, delta_k / 3) -> logit`` scores one agent's whole future
given its context. Losses, with ``BCE`` the logistic loss::

    L_D       = BCE(D(c, y), 1) + BCE(D(c, sg(G(c, n))), 0)
    L_G       = adversarial_weight * BCE(D_sg(c, G(c, n)), 1) + L_variety
    L_variety = mean_k min_{i <= variety_k} ADE_k(G(c, n_i))          (Social GAN's best-of-k L2 loss, metres)

One optimiser, one objective: ``loss = L_G + L_D``, with the gradients stopped so that each player only moves its
own parameters. ``sg`` detaches the fake trajectories in ``L_D`` (the generator gets nothing from ``L_D``), the
discriminator sees a detached context (so ``L_D`` does not train the scene encoder), and ``D_sg`` evaluates the
discriminator with detached parameters (``torch.func.functional_call``), so ``L_G`` moves only the generator. The
summed gradient is then exactly (grad_G L_G, grad_D L_D): simultaneous gradient descent of the two players, which is
what ``soccerai.training.loop`` runs with its single Adam optimiser (no trainer hook needed). ``variety_k = 1`` turns the
variety term into a plain ADE loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor, nn
from torch.func import functional_call

from soccerai.models.base import TrajectoryBatch
from soccerai.models.layers import mlp
from soccerai.models.scene import DELTA_SCALE, SceneConfig, SceneGenerator, masked_mean, to_agent_layout


@dataclass
class GANConfig(SceneConfig):
    """Sizes and loss weights of the GAN."""

    noise: int = 16
    variety_k: int = 6
    adversarial_weight: float = 0.1


class TrajectoryGAN(SceneGenerator):
    """Generator + discriminator over whole futures (see module docstring)."""

    name: ClassVar[str] = "gan"
    config_class: ClassVar[type[GANConfig]] = GANConfig

    def __init__(self, config: GANConfig | None = None) -> None:
        super().__init__(config)
        c = self.config
        self.generator = mlp(c.hidden + c.noise, c.hidden, 2 * c.horizon, layers=3)
        self.discriminator = mlp(c.hidden + 2 * c.horizon, c.hidden, 1, layers=3)

    def generate(self, context: Tensor, noise: Tensor) -> Tensor:
        """``delta [S, B*N, H, 2]`` from ``noise [S, B*N, noise]``."""
        out = self.generator(torch.cat([context.expand(*noise.shape[:-1], -1), noise], dim=-1))
        return out.view(*noise.shape[:-1], self.config.horizon, 2)

    def discriminate(self, context: Tensor, delta: Tensor, frozen: bool = False) -> Tensor:
        """Logits ``[..., B*N]``; ``frozen`` uses detached discriminator parameters (for the generator's loss)."""
        inputs = torch.cat([context.expand(*delta.shape[:-2], -1), delta.flatten(-2) / DELTA_SCALE], dim=-1)
        if not frozen:
            return self.discriminator(inputs).squeeze(-1)
        params = {name: p.detach() for name, p in self.discriminator.named_parameters()}
        return functional_call(self.discriminator, params, (inputs,)).squeeze(-1)

    def context_loss(self, context: Tensor, batch: TrajectoryBatch, target: Tensor, scored: Tensor) -> dict[str, Tensor]:
        c = self.config
        noise = torch.randn(max(c.variety_k, 1), context.shape[0], c.noise, device=context.device)
        fake = self.generate(context, noise)  # [K, B*N, H, 2]
        error = self.positions_error(fake, batch, scored)  # [K, B, H, N]
        weights = scored.to(error.dtype)
        per_agent = (error * weights).sum(-2) / weights.sum(-2).clamp_min(1.0)  # [K, B, N]
        agent_scored = scored.any(-2)
        variety = masked_mean(per_agent.min(dim=0).values, agent_scored)
        real = to_agent_layout(target) * to_agent_layout(scored.unsqueeze(-1).float())
        agents = agent_scored.reshape(-1)  # [B*N], same order as the agent layout
        bce = nn.functional.binary_cross_entropy_with_logits
        d_real = self.discriminate(context.detach(), real)[agents]
        d_fake = self.discriminate(context.detach(), fake[0].detach())[agents]
        discriminator = bce(d_real, torch.ones_like(d_real)) + bce(d_fake, torch.zeros_like(d_fake))
        g_logits = self.discriminate(context, fake[0], frozen=True)[agents]
        adversarial = bce(g_logits, torch.ones_like(g_logits))
        generator = c.adversarial_weight * adversarial + variety
        return {
            "loss": generator + discriminator,
            "generator": generator,
            "discriminator": discriminator,
            "variety": variety,
            "ade": masked_mean(error[0], scored),
        }

    def sample_delta(self, context: Tensor, n_samples: int, generator: torch.Generator | None) -> Tensor:
        noise = torch.randn(n_samples, context.shape[0], self.config.noise, generator=generator, device=context.device)
        return self.generate(context, noise)
