"""Forecast metrics: displacement errors, best-of-K errors, and plausibility of sampled motion.

Shapes: ``samples [S, B, H, N, 2]``, ``truth [B, H, N, 2]``, ``valid [B, H, N]`` (True where the agent is scored:
predicted and tracked). With ``d_{s,b,t,k} = || samples_{s,b,t,k} - truth_{b,t,k} ||``:

* ADE  = mean over valid ``(s, b, t, k)`` of ``d`` (the expected error of one sample);
* FDE  = the same at the last step ``t = H``;
* minADE_K = mean over windows ``b`` of ``min_s ADE_{s,b}``, where ``ADE_{s,b}`` averages ``d`` over the window's
  valid ``(t, k)`` and ``s`` runs over the first ``K`` samples; minFDE_K likewise at ``t = H``;
* per-step error ``e_t`` = mean over valid ``(s, b, k)`` of ``d`` at step ``t``.

Windows with nothing valid are left out of the averages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import torch
from torch import Tensor

from soccerai.errors import InvalidParameterError
from soccerai.models.base import TrajectoryBatch
from soccerai.windows.container import BALL_INDEX, FPS, N_PER_TEAM, TrajectoryWindows, agent_roles

DEFAULT_K = 20
PLAYER_SPEED_LIMIT = 12.0


def _check(samples: Tensor, truth: Tensor, valid: Tensor) -> None:
    if samples.dim() != 5 or samples.shape[1:] != truth.shape or truth.shape[:-1] != valid.shape:
        raise InvalidParameterError(
            f"expected samples [S,B,H,N,2], truth [B,H,N,2], valid [B,H,N]; got {tuple(samples.shape)}, "
            f"{tuple(truth.shape)}, {tuple(valid.shape)}"
        )


def _masked_mean(values: Tensor, weights: Tensor, dims: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    total = weights.sum(dims)
    return (values * weights).sum(dims) / total.clamp_min(1), total


def displacement(samples: Tensor, truth: Tensor) -> Tensor:
    """``d [S, B, H, N]``: Euclidean distance between each sample and the truth."""
    return (samples - truth.unsqueeze(0)).norm(dim=-1)


def ade(samples: Tensor, truth: Tensor, valid: Tensor) -> float:
    """Average displacement error over samples, windows, steps and valid agents (metres)."""
    _check(samples, truth, valid)
    weights = valid.unsqueeze(0).expand(samples.shape[:-1]).to(samples.dtype)
    return float(_masked_mean(displacement(samples, truth), weights, (0, 1, 2, 3))[0])


def fde(samples: Tensor, truth: Tensor, valid: Tensor) -> float:
    """Final displacement error: :func:`ade` at the last step only."""
    return ade(samples[:, :, -1:], truth[:, -1:], valid[:, -1:])


def min_ade(samples: Tensor, truth: Tensor, valid: Tensor, k: int = DEFAULT_K) -> float:
    """Best-of-``k``: per window the smallest sample ADE, averaged over windows with a valid agent."""
    _check(samples, truth, valid)
    if k < 1:
        raise InvalidParameterError(f"k must be at least 1, got {k}")
    samples = samples[:k]
    weights = valid.unsqueeze(0).expand(samples.shape[:-1]).to(samples.dtype)
    per_window, count = _masked_mean(displacement(samples, truth), weights, (2, 3))  # [S, B]
    best = per_window.min(dim=0).values
    has_valid = count[0] > 0
    return float(best[has_valid].mean()) if bool(has_valid.any()) else float("nan")


def min_fde(samples: Tensor, truth: Tensor, valid: Tensor, k: int = DEFAULT_K) -> float:
    """Best-of-``k`` final displacement error."""
    return min_ade(samples[:, :, -1:], truth[:, -1:], valid[:, -1:], k)


def error_by_step(samples: Tensor, truth: Tensor, valid: Tensor) -> np.ndarray:
    """Mean displacement per horizon step ``[H]`` (NaN where no agent is valid)."""
    _check(samples, truth, valid)
    weights = valid.unsqueeze(0).expand(samples.shape[:-1]).to(samples.dtype)
    mean, count = _masked_mean(displacement(samples, truth), weights, (0, 1, 3))
    return torch.where(count > 0, mean, torch.full_like(mean, float("nan"))).numpy()


def agent_group_mask(n_agents: int, group: str) -> Tensor:
    """``[N]`` selector of ``players`` (0..21), ``ball`` (22) or ``all``."""
    selector = torch.zeros(n_agents, dtype=torch.bool)
    if group == "players":
        selector[:BALL_INDEX] = True
    elif group == "ball":
        selector[BALL_INDEX] = True
    elif group == "all":
        selector[:] = True
    else:
        raise InvalidParameterError(f"unknown agent group {group!r}; choose players, ball or all")
    return selector


@dataclass
class ForecastScores:
    """The headline numbers for one model on one set of windows and one agent group (metres)."""

    ade: float
    fde: float
    min_ade: float
    min_fde: float
    by_step: np.ndarray
    k: int


def score(samples: Tensor, truth: Tensor, valid: Tensor, k: int = DEFAULT_K) -> ForecastScores:
    """All displacement metrics at once."""
    return ForecastScores(
        ade=ade(samples, truth, valid),
        fde=fde(samples, truth, valid),
        min_ade=min_ade(samples, truth, valid, k),
        min_fde=min_fde(samples, truth, valid, k),
        by_step=error_by_step(samples, truth, valid),
        k=min(k, samples.shape[0]),
    )


def motion_statistics(positions: Tensor, valid: Tensor, fps: float = FPS) -> dict[str, float]:
    """Speed and acceleration percentiles of trajectories ``[..., H, N, 2]`` where ``valid [..., H, N]``.

    Speed ``|p_t - p_{t-1}| * fps`` and acceleration ``|v_t - v_{t-1}| * fps`` use only consecutive valid frames.
    Returns p50 / p90 / p99 of each and the share of speeds above 12 m/s (impossible for a player).
    """
    velocity = (positions[..., 1:, :, :] - positions[..., :-1, :, :]) * fps
    speed_valid = valid[..., 1:, :] & valid[..., :-1, :]
    accel = (velocity[..., 1:, :, :] - velocity[..., :-1, :, :]).norm(dim=-1) * fps
    accel_valid = speed_valid[..., 1:, :] & speed_valid[..., :-1, :]
    speed = velocity.norm(dim=-1)[speed_valid].double().numpy()
    accel = accel[accel_valid].double().numpy()
    if speed.size == 0:
        raise InvalidParameterError("no consecutive valid frames to measure speed on")
    stats = {f"speed_p{q}": float(np.percentile(speed, q)) for q in (50, 90, 99)}
    stats["share_over_12ms"] = float((speed > PLAYER_SPEED_LIMIT).mean())
    if accel.size:
        stats |= {f"accel_p{q}": float(np.percentile(accel, q)) for q in (50, 90, 99)}
    return stats


def cobso_predict_mask(last_states: Tensor, present: Tensor) -> Tensor:
    """A1 / D1 / D2 of the C-OBSO setup, chosen from the last observed frame only (``[B, N, 4]``, ``[B, N]``).

    The ball carrier is the present attacker nearest the ball; A1 is the off-ball attacker nearest the ball (the
    nearest attacker other than the carrier), D2 the defender nearest the carrier (the shooter's marker) and D1 the
    defender nearest A1 other than D2. Returns a bool ``predict_mask [B, N]`` with those three agents set.
    """
    positions = last_states[..., :2]
    ball = positions[:, BALL_INDEX : BALL_INDEX + 1]
    inf = torch.tensor(float("inf"))
    attack = slice(0, N_PER_TEAM)
    defence = slice(N_PER_TEAM, 2 * N_PER_TEAM)
    to_ball = (positions[:, attack] - ball).norm(dim=-1).where(present[:, attack], inf)
    order = to_ball.argsort(dim=1)
    rows = torch.arange(positions.shape[0])
    carrier, a1 = order[:, 0], order[:, 1]
    defenders = positions[:, defence]
    to_carrier = (defenders - positions[rows, carrier][:, None]).norm(dim=-1).where(present[:, defence], inf)
    d2 = to_carrier.argmin(dim=1)
    to_a1 = (defenders - positions[rows, a1][:, None]).norm(dim=-1).where(present[:, defence], inf)
    to_a1[rows, d2] = inf
    d1 = to_a1.argmin(dim=1)
    mask = torch.zeros(present.shape, dtype=torch.bool)
    mask[rows, a1] = True
    mask[rows, N_PER_TEAM + d1] = True
    mask[rows, N_PER_TEAM + d2] = True
    return mask


# -- the evaluation protocol ------------------------------------------------------------------------------------
SCENARIOS = ("full_scene", "ghosting")


def forecast(
    model: torch.nn.Module,
    windows: TrajectoryWindows,
    scenario: str = "full_scene",
    n_samples: int = DEFAULT_K,
    seed: int = 0,
    batch_size: int = 64,
) -> tuple[Tensor, Tensor, Tensor]:
    """Honest forecasts of every window: ``(samples [S, W, H, N, 2], truth [W, H, N, 2], valid [W, H, N])``.

    The model sees only the observed frames (``batch.history()``). Partial visibility (broadcast tracking):

    * an agent is forecast only if it is tracked at the last observed frame (``batch.present()``); one that is not
      is neither forecast nor scored (its zero-filled (0, 0) is never a starting point);
    * in ``ghosting`` the A1 / D1 / D2 agents of :func:`cobso_predict_mask` are predicted and the others are GIVEN
      their true future, held at their last tracked position where they leave the view
      (:meth:`TrajectoryBatch.given_future`), never fed as (0, 0); in ``full_scene`` every present agent is predicted;
    * ``valid`` marks predicted agents at the future frames where they are tracked: only those are scored.
    """
    if scenario not in SCENARIOS:
        raise InvalidParameterError(f"unknown scenario {scenario!r}; choose {' or '.join(SCENARIOS)}")
    generator = torch.Generator().manual_seed(seed)
    samples, truths, valids = [], [], []
    for start in range(0, len(windows), batch_size):
        batch = TrajectoryBatch.from_windows(windows, slice(start, start + batch_size))
        history, truth = batch.history(), batch.future_positions()
        present = batch.present()
        if scenario == "ghosting":
            predict = cobso_predict_mask(history.states[:, -1], present) & present
        else:
            predict = present.clone()
        samples.append(model.sample(history, truth.shape[1], n_samples, predict, batch.given_future(),
                                    generator=generator))
        truths.append(truth)
        valids.append(batch.future_mask() & predict[:, None, :])
    return torch.cat(samples, dim=1), torch.cat(truths), torch.cat(valids)


def compare_models(
    models: dict[str, torch.nn.Module],
    windows: TrajectoryWindows,
    n_samples: int = DEFAULT_K,
    seed: int = 0,
) -> pl.DataFrame:
    """One row per (model, scenario, agent group) with ADE, FDE, minADE_K, minFDE_K (metres) and the data source."""
    rows = []
    for name, model in models.items():
        for scenario in SCENARIOS:
            samples, truth, valid = forecast(model, windows, scenario, n_samples, seed)
            groups = ("players", "ball") if scenario == "full_scene" else ("players",)
            for group in groups:
                selected = valid & agent_group_mask(valid.shape[-1], group)
                scores = score(samples, truth, selected, n_samples)
                rows.append(
                    {
                        "model": name, "scenario": scenario, "agents": group,
                        "ade": scores.ade, "fde": scores.fde,
                        f"min_ade_{scores.k}": scores.min_ade, f"min_fde_{scores.k}": scores.min_fde,
                        "data": windows.tracking_label,
                    }
                )
    return pl.DataFrame(rows)


# -- per-window errors and intervals (the forecast table of soccerai.evaluate.forecast_table) -------------------
HORIZONS_S = (1.0, 2.0, 3.0, 4.0)


@dataclass
class WindowErrors:
    """Errors of one model per window (``W`` windows, horizons ``h`` in steps), metres.

    With ``d_{s,t,k}`` the displacement of sample ``s`` of agent ``k`` at step ``t`` and ``V`` the scored
    (predicted and tracked) ``(t, k)`` of the window:

    * ``min_ade[w, j]``   per-scene ``min_s mean_{(t,k) in V, t <= h_j} d``;
    * ``min_fde[w, j]``   per-scene ``min_s mean_{k: (h_j, k) in V} d_{s,h_j,k}``;
    * ``ade_one[w]``      ``mean_{V} d`` of sample 0 only (the error of one forecast);
    * ``agent_min_sum[w]`` ``sum_k min_s mean_{t: (t,k) in V} d`` over the window's scored agents, and
      ``agent_count[w]`` how many there are (per-agent minADE_K = sum / count over windows, the published form).

    * ``energy[w]``       the energy score of the window's joint future (every scored ``(t, k)`` at once):
      ``ES = mean_s ||X_s - y|| - 1/2 mean_{s != s'} ||X_s - X_s'||`` over the ``|V| x 2`` vector of positions,
      divided by ``sqrt(|V|)`` (an RMS distance in metres, comparable across windows with different agent counts;
      a proper scoring rule: no cloud scores better in expectation than the true distribution; for a deterministic
      model it is the RMS error);
    * ``spread_sum[w]`` / ``cover_sum[w]`` over ``end_count[w]`` agents tracked at the last horizon: the mean
      distance of the sample endpoints to their mean, and whether the true endpoint lies within the samples' 90 %
      region (radius = 90th percentile of the sample endpoints' distances to their mean).

    The joint SADE_K / SFDE_K of the scene-level literature are ``min_ade`` / ``min_fde`` at the last horizon (the
    minimum over samples of the mean over the scene's agents: one sample must be right for everyone at once).
    Entries with nothing scored are NaN in the per-scene arrays and 0 in the per-agent sums.
    """

    horizons: tuple[int, ...]
    min_ade: np.ndarray
    min_fde: np.ndarray
    ade_one: np.ndarray
    agent_min_sum: np.ndarray
    agent_count: np.ndarray
    energy: np.ndarray | None = None
    spread_sum: np.ndarray | None = None
    cover_sum: np.ndarray | None = None
    end_count: np.ndarray | None = None

    @property
    def scored(self) -> np.ndarray:
        """``[W]``: windows with at least one scored agent."""
        return self.agent_count > 0


def _nan_where_empty(values: Tensor, count: Tensor) -> Tensor:
    return torch.where(count > 0, values, torch.full_like(values, float("nan")))


def window_errors(samples: Tensor, truth: Tensor, valid: Tensor, k: int = DEFAULT_K,
                  horizons: tuple[int, ...] | None = None) -> WindowErrors:
    """:class:`WindowErrors` of ``samples [S, W, H, N, 2]`` (first ``k`` used) against ``truth`` where ``valid``."""
    _check(samples, truth, valid)
    if k < 1:
        raise InvalidParameterError(f"k must be at least 1, got {k}")
    h = truth.shape[1]
    horizons = horizons or tuple(int(round(t * FPS)) for t in HORIZONS_S if round(t * FPS) <= h)
    if not horizons or max(horizons) > h or min(horizons) < 1:
        raise InvalidParameterError(f"horizons {horizons} must lie in 1..{h} steps")
    d = displacement(samples[:k], truth).double()  # [S, W, H, N]
    weights = valid.unsqueeze(0).expand(d.shape).double()
    min_ade, min_fde = [], []
    for step in horizons:
        mean, count = _masked_mean(d[:, :, :step], weights[:, :, :step], (2, 3))  # [S, W]
        min_ade.append(_nan_where_empty(mean.min(0).values, count[0]))
        final, count = _masked_mean(d[:, :, step - 1], weights[:, :, step - 1], (2,))
        min_fde.append(_nan_where_empty(final.min(0).values, count[0]))
    one, count = _masked_mean(d[0], weights[0], (1, 2))
    per_agent, agent_frames = _masked_mean(d, weights, (2,))  # [S, W, N]
    has = agent_frames[0] > 0
    best = per_agent.min(0).values.where(has, torch.zeros_like(per_agent[0]))
    energy = energy_score(samples[:k], truth, valid)
    spread, cover, ends = endpoint_spread_coverage(samples[:k], truth, valid[:, max(horizons) - 1], max(horizons) - 1)
    return WindowErrors(
        horizons=tuple(horizons),
        min_ade=torch.stack(min_ade, 1).numpy(),
        min_fde=torch.stack(min_fde, 1).numpy(),
        ade_one=_nan_where_empty(one, count).numpy(),
        agent_min_sum=best.sum(1).numpy(),
        agent_count=has.sum(1).numpy(),
        energy=energy, spread_sum=spread, cover_sum=cover, end_count=ends,
    )


def energy_score(samples: Tensor, truth: Tensor, valid: Tensor) -> np.ndarray:
    """Per-window energy score ``[W]`` of the joint future (see :class:`WindowErrors`); NaN where nothing is scored.

    ``samples [S, W, H, N, 2]``, ``truth [W, H, N, 2]``, ``valid [W, H, N]``. The pairwise term uses the unbiased
    mean over ``s != s'`` (0 for one sample).
    """
    x = samples.double() * valid[None, ..., None]
    y = truth.double() * valid[..., None]
    s, w = x.shape[:2]
    x, y = x.reshape(s, w, -1), y.reshape(w, -1)
    n = valid.reshape(w, -1).sum(1).double()
    to_truth = (x - y[None]).norm(dim=-1).mean(0)  # [W]
    if s > 1:
        pair = torch.cdist(x.transpose(0, 1), x.transpose(0, 1))  # [W, S, S]
        spread = pair.sum((1, 2)) / (s * (s - 1))
    else:
        spread = torch.zeros_like(to_truth)
    es = (to_truth - 0.5 * spread) / n.clamp_min(1.0).sqrt()
    return torch.where(n > 0, es, torch.full_like(es, float("nan"))).numpy()


def endpoint_spread_coverage(samples: Tensor, truth: Tensor, valid_end: Tensor, step: int,
                             level: float = 0.9) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per window: the sum over scored agents of their endpoint spread (mean distance of the ``S`` sample endpoints
    at ``step`` to their mean) and of ``1`` where the true endpoint lies within the ``level`` quantile of those
    distances (the samples' ``level`` region, a disc around their mean), and the agents counted ``[W]``."""
    ends = samples[:, :, step].double()  # [S, W, N, 2]
    centre = ends.mean(0)
    dist = (ends - centre).norm(dim=-1)  # [S, W, N]
    radius = torch.quantile(dist, level, dim=0)
    inside = ((truth[:, step].double() - centre).norm(dim=-1) <= radius + 1e-9).double()
    weights = valid_end.double()
    return ((dist.mean(0) * weights).sum(1).numpy(), (inside * weights).sum(1).numpy(), weights.sum(1).numpy())


def whole_window_agents(mask: Tensor | np.ndarray) -> Tensor:
    """``[W, N]``: agents tracked at every frame of their window (``mask [W, T, N]``)."""
    return torch.as_tensor(mask).all(dim=1)


def time_blocks(windows: TrajectoryWindows, block_s: float = 60.0) -> np.ndarray:
    """Block label per window for the bootstrap: windows of the same match and period starting within the same
    ``block_s`` seconds share a block (overlapping windows are not independent samples)."""
    meta = windows.meta
    starts = meta["start_frame"].to_numpy().astype(np.float64)
    if "obs_end_frame" in meta.columns and windows.obs_len > 1:
        per_second = (meta["obs_end_frame"].to_numpy() - starts) / (windows.obs_len - 1) * FPS
    else:
        per_second = np.full(len(starts), FPS)
    per_second = np.where(per_second > 0, per_second, FPS)
    keys = pl.DataFrame({
        "match": meta["match_id"], "period": meta["period"].cast(pl.Int64),
        "block": np.floor(starts / (per_second * block_s)).astype(np.int64),
    })
    return keys.select(pl.struct("match", "period", "block").rank("dense")).to_series().to_numpy() - 1


def independent_blocks(windows: TrajectoryWindows, block_s: float = 60.0) -> int:
    """How many independent blocks (:func:`time_blocks`) the windows fall into: the bootstrap's real sample size."""
    return int(time_blocks(windows, block_s).max()) + 1 if len(windows) else 0


def bootstrap_interval(
    sums: np.ndarray, counts: np.ndarray, blocks: np.ndarray, n_boot: int = 1000, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile interval of the ratio ``sum(sums) / sum(counts)`` under a block bootstrap over windows.

    Whole blocks (:func:`time_blocks`) are resampled with replacement, ``n_boot`` times; per-window entries with
    ``counts == 0`` contribute nothing. Returns ``(lo, hi)``; NaN when nothing was counted.
    """
    if not len(sums) or counts.sum() <= 0:
        return float("nan"), float("nan")
    n_blocks = int(blocks.max()) + 1
    block_sums = np.bincount(blocks, weights=sums, minlength=n_blocks)
    block_counts = np.bincount(blocks, weights=counts, minlength=n_blocks)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n_blocks, np.full(n_blocks, 1.0 / n_blocks), size=n_boot).astype(np.float64)
    totals = draws @ block_counts
    stats = (draws @ block_sums)[totals > 0] / totals[totals > 0]
    alpha = (1.0 - level) / 2.0
    return float(np.quantile(stats, alpha)), float(np.quantile(stats, 1.0 - alpha))


def defender_response(model: torch.nn.Module, windows: TrajectoryWindows, n_samples: int = 4, seed: int = 0,
                      batch_size: int = 64) -> tuple[float, float, int]:
    """How a defender's 4 s displacement follows his nearest attacker's, for ``model`` and for the data.

    The attackers (and the ball) are GIVEN their true futures; the present defenders are predicted. For every
    defender ``D`` present at the last observed frame and tracked at the last future frame, ``A`` is the attacker
    nearest to him at the last observed frame that is also tracked then; ``dA`` = A's true displacement over the
    horizon, ``dD`` = D's displacement (the mean of the model's samples, or the truth). Returns the least-squares
    slopes through the origin ``sum(dA . dD) / sum(dA . dA)`` (x and y pooled) for the model and for the data, and
    the number of pairs. A slope of 0: defenders ignore their attacker; the data's slope is what real defenders do.
    """
    generator = torch.Generator().manual_seed(seed)
    roles = torch.as_tensor(agent_roles())
    num_model = num_data = den = 0.0
    pairs = 0
    for start in range(0, len(windows), batch_size):
        batch = TrajectoryBatch.from_windows(windows, slice(start, start + batch_size))
        history, truth = batch.history(), batch.future_positions()
        present = batch.present()
        defenders = present & (roles == 1)
        attackers = present & (roles == 0) & batch.future_mask()[:, -1]
        samples = model.sample(history, truth.shape[1], n_samples, defenders, batch.given_future(),
                               generator=generator)
        last = history.states[:, -1, :, :2]
        end_model = samples[:, :, -1].mean(0)  # [B, N, 2]
        dist = (last[:, :, None] - last[:, None]).norm(dim=-1)  # [B, D, A]
        dist = dist.masked_fill(~attackers[:, None, :], float("inf"))
        nearest = dist.argmin(-1)  # [B, N]
        ok = defenders & batch.future_mask()[:, -1] & torch.isfinite(dist.min(-1).values)
        b_idx, d_idx = ok.nonzero(as_tuple=True)
        a_idx = nearest[b_idx, d_idx]
        d_a = truth[b_idx, -1, a_idx] - last[b_idx, a_idx]
        d_true = truth[b_idx, -1, d_idx] - last[b_idx, d_idx]
        d_model = end_model[b_idx, d_idx] - last[b_idx, d_idx]
        num_model += float((d_a * d_model).sum())
        num_data += float((d_a * d_true).sum())
        den += float((d_a * d_a).sum())
        pairs += len(b_idx)
    if den <= 0:
        return float("nan"), float("nan"), pairs
    return num_model / den, num_data / den, pairs
