"""DDPM noise schedules and samplers, separate from the denoising network (the diffusers design).

Forward process (Ho, Jain & Abbeel 2020) over ``T`` steps with variances ``beta_t``::

    alpha_t = 1 - beta_t,   alpha_bar_t = prod_{s<=t} alpha_s,   x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps

Beta schedules (``beta_start = 1e-4``, ``beta_end = 0.02`` at ``T = 1000``, both scaled by ``1000 / T`` so a short
chain still ends near pure noise, as in Nichol & Dhariwal 2021):

* ``linear``:    ``beta_t = beta_start + (beta_end - beta_start) t / (T - 1)``;
* ``quadratic``: ``beta_t = (sqrt(beta_start) + (sqrt(beta_end) - sqrt(beta_start)) t / (T - 1))^2``;
* ``sigmoid``:   ``beta_t = beta_start + (beta_end - beta_start) sigmoid(-6 + 12 t / (T - 1))``.

Samplers walk ``x_T ~ N(0, I)`` back to ``x_0`` given the network's noise estimate ``eps_hat``:

* :class:`AncestralSampler` (DDPM, all ``T`` steps)::

      x_{t-1} = (x_t - beta_t / sqrt(1 - alpha_bar_t) eps_hat) / sqrt(alpha_t) + sigma_t z,
      sigma_t^2 = beta_t (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t)   (no noise at the last step)

* :class:`DDIMSampler` (Song, Meng & Ermon 2021) on ``n`` evenly strided steps ``t > t'``::

      x0_hat = (x_t - sqrt(1 - alpha_bar_t) eps_hat) / sqrt(alpha_bar_t)
      x_t'   = sqrt(alpha_bar_t') x0_hat + sqrt(1 - alpha_bar_t' - s^2) eps_hat + s z,
      s      = eta sqrt((1 - alpha_bar_t') / (1 - alpha_bar_t)) sqrt(1 - alpha_bar_t / alpha_bar_t')

  ``eta = 0`` is deterministic DDIM; ``eta = 1`` is the strided ancestral sampler.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from soccerai.errors import InvalidParameterError

SCHEDULES = ("linear", "quadratic", "sigmoid")
SAMPLERS = ("ddpm", "ddim")


def beta_schedule(kind: str, n_steps: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> Tensor:
    """``[T]`` variances of schedule ``kind`` (see module docstring)."""
    if kind not in SCHEDULES:
        raise InvalidParameterError(f"unknown beta schedule {kind!r}; choose one of {', '.join(SCHEDULES)}")
    if n_steps < 2:
        raise InvalidParameterError(f"a diffusion needs at least 2 steps, got {n_steps}")
    scale = 1000.0 / n_steps
    start, end = beta_start * scale, min(beta_end * scale, 0.999)
    ramp = torch.linspace(0.0, 1.0, n_steps, dtype=torch.float64)
    if kind == "linear":
        betas = start + (end - start) * ramp
    elif kind == "quadratic":
        betas = (math.sqrt(start) + (math.sqrt(end) - math.sqrt(start)) * ramp) ** 2
    else:
        betas = start + (end - start) * torch.sigmoid(-6.0 + 12.0 * ramp)
    return betas.float()


class NoiseSchedule:
    """``beta_t``, ``alpha_t``, ``alpha_bar_t`` of one schedule, and the forward noising ``q(x_t | x_0)``."""

    def __init__(self, kind: str = "linear", n_steps: int = 100) -> None:
        self.kind, self.n_steps = kind, n_steps
        self.betas = beta_schedule(kind, n_steps)
        self.alphas = 1.0 - self.betas
        self.alpha_bars = torch.cumprod(self.alphas, dim=0)

    def alpha_bar(self, t: Tensor | int) -> Tensor:
        """``alpha_bar_t``; ``t = -1`` gives 1 (the clean data)."""
        t = torch.as_tensor(t)
        padded = torch.cat([torch.ones(1), self.alpha_bars])
        return padded[t + 1]

    def add_noise(self, x0: Tensor, noise: Tensor, t: Tensor) -> Tensor:
        """``x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps`` with ``t [M]`` broadcast over ``x0 [M, ...]``."""
        a = self.alpha_bars.to(x0.device)[t].view(-1, *([1] * (x0.dim() - 1)))
        return a.sqrt() * x0 + (1.0 - a).sqrt() * noise


class AncestralSampler:
    """The DDPM reverse chain over every step ``T-1, ..., 0``.

    Written through the clean-data estimate ``x0_hat`` (clipped to ``[-clip, clip]`` when ``clip`` is set, as
    diffusers' ``clip_sample``): ``mean = sqrt(alpha_bar_{t-1}) beta_t / (1 - alpha_bar_t) x0_hat
    + sqrt(alpha_t) (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) x_t``, which equals the epsilon form above unclipped.
    """

    def __init__(self, schedule: NoiseSchedule, clip: float | None = None) -> None:
        self.schedule, self.clip = schedule, clip

    def timesteps(self) -> list[tuple[int, int]]:
        """``(t, t_previous)`` pairs from ``T-1`` down to ``0`` (``t_previous = -1`` means clean)."""
        return [(t, t - 1) for t in range(self.schedule.n_steps - 1, -1, -1)]

    def step(self, eps: Tensor, t: int, t_prev: int, x: Tensor, generator: torch.Generator | None) -> Tensor:
        s = self.schedule
        beta, alpha = s.betas[t], s.alphas[t]
        alpha_bar, alpha_bar_prev = s.alpha_bar(t), s.alpha_bar(t - 1)
        x0 = clip_estimate((x - (1.0 - alpha_bar).sqrt() * eps) / alpha_bar.sqrt(), self.clip)
        mean = (alpha_bar_prev.sqrt() * beta * x0 + alpha.sqrt() * (1.0 - alpha_bar_prev) * x) / (1.0 - alpha_bar)
        if t == 0:
            return mean
        variance = beta * (1.0 - alpha_bar_prev) / (1.0 - alpha_bar)
        return mean + variance.sqrt() * torch.randn(x.shape, generator=generator, device=x.device)


def clip_estimate(x0: Tensor, clip: float | None) -> Tensor:
    return x0 if clip is None else x0.clamp(-clip, clip)


class DDIMSampler:
    """``n_steps`` evenly strided steps; ``eta = 0`` deterministic DDIM, ``eta = 1`` strided ancestral."""

    def __init__(self, schedule: NoiseSchedule, n_steps: int = 10, eta: float = 0.0, clip: float | None = None) -> None:
        if not 1 <= n_steps <= schedule.n_steps:
            raise InvalidParameterError(f"DDIM steps must be in [1, {schedule.n_steps}], got {n_steps}")
        self.schedule, self.n_steps, self.eta, self.clip = schedule, n_steps, eta, clip

    def timesteps(self) -> list[tuple[int, int]]:
        steps = torch.linspace(self.schedule.n_steps - 1, 0, self.n_steps).round().long().tolist()
        steps = list(dict.fromkeys(steps))
        return list(zip(steps, steps[1:] + [-1], strict=True))

    def step(self, eps: Tensor, t: int, t_prev: int, x: Tensor, generator: torch.Generator | None) -> Tensor:
        alpha_bar, alpha_bar_prev = self.schedule.alpha_bar(t), self.schedule.alpha_bar(t_prev)
        x0 = clip_estimate((x - (1.0 - alpha_bar).sqrt() * eps) / alpha_bar.sqrt(), self.clip)
        eps = (x - alpha_bar.sqrt() * x0) / (1.0 - alpha_bar).sqrt()  # consistent with a clipped x0
        sigma = self.eta * ((1 - alpha_bar_prev) / (1 - alpha_bar)).sqrt() * (1 - alpha_bar / alpha_bar_prev).sqrt()
        direction = (1.0 - alpha_bar_prev - sigma**2).clamp_min(0.0).sqrt() * eps
        out = alpha_bar_prev.sqrt() * x0 + direction
        if self.eta > 0 and t_prev >= 0:
            out = out + sigma * torch.randn(x.shape, generator=generator, device=x.device)
        return out


def make_sampler(
    schedule: NoiseSchedule, kind: str = "ddpm", n_steps: int = 10, eta: float = 0.0, clip: float | None = None
) -> AncestralSampler | DDIMSampler:
    """``ddpm`` (every step) or ``ddim`` (``n_steps`` strided steps), clipping ``x0_hat`` to ``[-clip, clip]``."""
    if kind == "ddpm":
        return AncestralSampler(schedule, clip)
    if kind == "ddim":
        return DDIMSampler(schedule, n_steps, eta, clip)
    raise InvalidParameterError(f"unknown sampler {kind!r}; choose one of {', '.join(SAMPLERS)}")
