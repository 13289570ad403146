"""Calibrating a trained sampler's spread: the latent temperature that minimises the energy score on held-out windows.

A (G)VRNN trained with best-of-K and energy terms can still come out too narrow: on the REAL SkillCorner validation
windows the 90 % regions of ``gvrnn-sim-skillcorner``'s 20 samples held only 59 % of the true 4 s endpoints. The
remedy here is the standard post-hoc one (temperature scaling; Guo et al. 2017 for classifiers): one scalar ``tau``
multiplies the prior's standard deviation at sampling time,

    ``z_t = mu_p(h_{t-1}) + tau * sigma_p(h_{t-1}) * eps_t``,   ``eps_t ~ N(0, I)``

(:attr:`soccerai.models.vrnn.VRNNConfig.latent_temperature`), and ``tau`` is chosen on VALIDATION windows (never the
test set) as the grid point with the lowest mean energy score

    ``ES = E||X - y|| - 1/2 E||X - X'||``  (per window, over the joint future; :func:`soccerai.evaluate.metrics.energy_score`).

The energy score is a proper scoring rule: no cloud scores better in expectation than the true distribution, so it
rewards widening the samples exactly as far as the errors justify and punishes both collapse and needless spread.
Coverage, spread and minADE are reported beside it, never optimised. The weights do not change; only the config does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from soccerai.errors import InvalidInputError, InvalidParameterError
from soccerai.evaluate.metrics import DEFAULT_K, agent_group_mask, forecast, window_errors
from soccerai.windows.container import TrajectoryWindows

TEMPERATURE_GRID = tuple(round(1.0 + 0.1 * i, 1) for i in range(11))
"""``tau`` from 1 (the prior as learned) to 2 in steps of 0.1."""


@dataclass
class Calibration:
    """The chosen temperature and, per grid point, the validation figures (metres; coverage a share)."""

    temperature: float
    rows: list[dict[str, float]] = field(default_factory=list)


def fit_temperature(model: torch.nn.Module, windows: TrajectoryWindows, grid: tuple[float, ...] = TEMPERATURE_GRID,
                    n_samples: int = DEFAULT_K, seed: int = 0, say=None) -> Calibration:
    """Set ``model.config.latent_temperature`` to the grid point of lowest mean energy score on ``windows`` (full
    scene, visible players, the honest protocol of :func:`soccerai.evaluate.metrics.forecast`) and return it.

    Raises:
        InvalidParameterError: the model has no latent temperature, or the grid is empty or not positive.
        InvalidInputError: no window has a scored player.
    """
    config = getattr(model, "config", None)
    if not hasattr(config, "latent_temperature"):
        raise InvalidParameterError(f"{type(model).__name__} has no latent temperature to calibrate")
    if not grid or min(grid) <= 0:
        raise InvalidParameterError(f"temperature grid must be non-empty and positive, got {grid}")
    rows, original = [], config.latent_temperature
    try:
        for tau in grid:
            rows.append(row := _score(model, windows, tau, n_samples, seed))
            if say:
                say(f"tau {tau:.2f}: energy {row['energy']:.3f}, minADE_{n_samples} {row['min_ade']:.3f}, "
                    f"spread at 4 s {row['spread_4s']:.2f} m, 90% coverage {row['cover90']:.3f}")
    except BaseException:
        config.latent_temperature = original  # a failed calibration leaves the model as it was
        raise
    best = min(rows, key=lambda r: r["energy"])["temperature"]
    config.latent_temperature = best
    return Calibration(best, rows)


def _score(model: torch.nn.Module, windows: TrajectoryWindows, tau: float, n_samples: int, seed: int) -> dict[str, float]:
    model.config.latent_temperature = float(tau)
    samples, truth, valid = forecast(model, windows, "full_scene", n_samples, seed)
    errors = window_errors(samples, truth, valid & agent_group_mask(valid.shape[-1], "players"), n_samples)
    scored = errors.scored
    if not scored.any():
        raise InvalidInputError("no validation window has a scored player: cannot calibrate the temperature")
    ends = max(float(errors.end_count.sum()), 1.0)
    return {"temperature": float(tau), "energy": float(np.nanmean(errors.energy[scored])),
            "min_ade": float(np.nanmean(errors.min_ade[scored, -1])), "spread_4s": float(errors.spread_sum.sum() / ends),
            "cover90": float(errors.cover_sum.sum() / ends)}
