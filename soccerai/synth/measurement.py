"""Measurement models: a simulated match as a tracking provider of a given type would have recorded it.

Simulated positions are exact; real tracking is not. :func:`observe` turns the synthesizer's perfect 25 Hz match
into what one provider type delivers:

* **broadcast** (SkillCorner-like, from the TV picture): positions at ``frame_rate`` (10 Hz,
  :func:`soccerai.match.tracking.resample`); only the players inside the **camera window** are present: the camera
  centre ``c_k`` follows the ball along the pitch with lag, ``c_k = c_k-1 + (x_ball,k - c_k-1) h / camera_tau_s``,
  and a player is seen when ``|x - c_k| <= view_half_length_m`` (the real match shows 12-19 players; absent
  players are simply missing rows, never zeros);
* **optical** (Hawk-Eye-like, fixed cameras): every player at the source rate.

Both add a position error per player and axis: an AR(1) (Ornstein-Uhlenbeck) part of scale ``sigma_m`` and time
constant ``tau_s`` (the tracker's smoothing lags and wobbles), ``e_k = rho e_k-1 + sigma sqrt(1 - rho^2) xi_k``
with ``rho = exp(-h / tau_s)``, plus white jitter of std ``jitter_m`` (detection noise). The innovations ``xi_k``
are Student-t with ``tail_dof`` degrees of freedom (``inf``: standard normal, ``sigma_m`` the stationary std):
broadcast tracking is mostly smooth but now and then jumps (a player re-detected after an occlusion, a camera cut),
which is what the real SkillCorner match shows: its per-axis acceleration has a kurtosis of ~2000 and a p99 / p50
ratio of ~11 (Gaussian: 3.8), while the lag-1 autocorrelation of its accelerations (-0.48) is the AR(1)'s (-0.5);
a Student-t with 2 degrees of freedom has that p99 / p50 ratio. Innovations are capped at ``TAIL_CAP`` scales so one
draw cannot throw a player across the pitch. The ball gets the white jitter only. Velocities are left empty (null), as real providers give them: readers and windows recompute
them from the noisy positions. Seeded: one seed, one recording. The default parameters (:data:`MODELS`) are fitted
to the real SkillCorner and Hawk-Eye statistics by ``benchmarks/realism.py --search``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.signal import lfilter

from soccerai.errors import InvalidParameterError
from soccerai.match.schema import BALL_ID, Match
from soccerai.match.tracking import resample

MEASUREMENT_STREAM = 23
"""The measurement generator is ``default_rng([seed, MEASUREMENT_STREAM])``."""
TAIL_CAP = 50.0
"""Heavy-tailed innovations are clipped to +-``TAIL_CAP`` (in units of the scale)."""


@dataclass(frozen=True)
class MeasurementModel:
    """One provider type's recording: rate, camera window (None = everyone seen) and position error."""

    kind: str
    frame_rate: float | None = None  # None: keep the source rate
    view_half_length_m: float | None = None
    camera_tau_s: float = 1.0
    sigma_m: float = 0.0
    tau_s: float = 0.5
    jitter_m: float = 0.0
    tail_dof: float = float("inf")

    def with_(self, **changes: float) -> MeasurementModel:
        return dataclasses.replace(self, **changes)


MODELS: dict[str, MeasurementModel] = {
    "broadcast": MeasurementModel(
        "broadcast", frame_rate=10.0, view_half_length_m=17.1, camera_tau_s=2.75, sigma_m=0.077, tau_s=0.9,
        jitter_m=0.0038, tail_dof=1.95,
    ),
    "optical": MeasurementModel("optical", sigma_m=0.0, tau_s=0.15, jitter_m=0.0051),
}
"""The fitted models (``benchmarks/realism.py --search``: bounded Nelder-Mead over its ``NOISE_SPACE``, broadcast
against the real SkillCorner match, optical against the real Hawk-Eye minutes), rounded."""


def ar1_noise(
    rng: np.random.Generator, n: int, m: int, h: float, sigma: float, tau: float, dof: float = float("inf")
) -> np.ndarray:
    """(n, m) stationary AR(1) series of scale ``sigma`` and time constant ``tau`` seconds, step ``h`` seconds, with
    Student-t innovations of ``dof`` degrees of freedom (``inf``: Gaussian, std ``sigma``), clipped to ``TAIL_CAP``."""
    if sigma <= 0:
        return np.zeros((n, m))
    rho = float(np.exp(-h / max(tau, 1e-9)))
    xi = rng.standard_normal((n, m)) if not np.isfinite(dof) else np.clip(rng.standard_t(dof, (n, m)), -TAIL_CAP, TAIL_CAP)
    xi[0] /= np.sqrt(1 - rho**2)  # start in the stationary distribution
    return lfilter([sigma * np.sqrt(1 - rho**2)], [1.0, -rho], xi, axis=0)


def camera_visible(ball_x: np.ndarray, x: np.ndarray, h: float, model: MeasurementModel) -> np.ndarray:
    """(n, P) True where a player at ``x`` (n, P) is inside the camera window that follows ``ball_x`` (n,)."""
    if model.view_half_length_m is None:
        return np.isfinite(x)
    alpha = min(h / max(model.camera_tau_s, 1e-9), 1.0)
    bx = np.nan_to_num(ball_x, nan=0.0)
    centre = lfilter([alpha], [1.0, alpha - 1.0], bx, zi=[(1.0 - alpha) * bx[0]])[0]
    return np.abs(x - centre[:, None]) <= model.view_half_length_m


def observe(match: Match, model: MeasurementModel, seed: int = 0) -> Match:
    """The match as ``model`` records it (see the module docstring); metadata.extra["measurement"] says how."""
    if model.kind not in ("broadcast", "optical"):
        raise InvalidParameterError(f"unknown measurement kind {model.kind!r}")
    tracking = match.tracking
    rate = match.metadata.frame_rate
    if model.frame_rate is not None and abs(model.frame_rate - rate) > 1e-6:
        tracking, rate = resample(tracking, fps=model.frame_rate), model.frame_rate
    rng = np.random.default_rng([seed, MEASUREMENT_STREAM])
    parts = [_observe_period(part, model, rate, rng) for _, part in tracking.group_by("period", maintain_order=True)]
    tracking = pl.concat(parts).sort("period", "frame", "team", "object_id")
    extra = {**match.metadata.extra, "measurement": dataclasses.asdict(model)}
    metadata = dataclasses.replace(match.metadata, frame_rate=rate, extra=extra)
    return Match(tracking=tracking, players=match.players, metadata=metadata, events=match.events).validate()


def _observe_period(part: pl.DataFrame, model: MeasurementModel, rate: float, rng: np.random.Generator) -> pl.DataFrame:
    h = 1.0 / rate
    frames = part["frame"].unique().sort()
    ids = part.filter(pl.col("object_id") != BALL_ID)["object_id"].unique().sort().to_list()
    index = {f: i for i, f in enumerate(frames.to_list())}
    row = part["frame"].replace_strict(index, return_dtype=pl.Int64).to_numpy()
    col_of = {o: j for j, o in enumerate(ids)}
    col = part["object_id"].replace_strict(col_of, default=-1, return_dtype=pl.Int64).to_numpy()
    n, p = frames.len(), len(ids)
    noise = ar1_noise(rng, n, 2 * p, h, model.sigma_m, model.tau_s, model.tail_dof) + model.jitter_m * rng.standard_normal((n, 2 * p))
    ball_noise = model.jitter_m * rng.standard_normal((n, 2))
    is_player = col >= 0
    dx = np.where(is_player, noise[row, np.maximum(col, 0)], ball_noise[row, 0])
    dy = np.where(is_player, noise[row, p + np.maximum(col, 0)], ball_noise[row, 1])
    x = part["x"].to_numpy() + dx
    y = part["y"].to_numpy() + dy
    ball_x = np.full(n, np.nan)
    ball_x[row[~is_player]] = x[~is_player]
    ball_x = _ffill(ball_x)
    seen = np.ones(part.height, dtype=bool)
    if model.view_half_length_m is not None:
        grid = np.full((n, p), np.nan)
        grid[row[is_player], col[is_player]] = x[is_player]
        visible = camera_visible(ball_x, grid, h, model)
        seen[is_player] = visible[row[is_player], col[is_player]]
    return part.with_columns(
        pl.Series("x", x), pl.Series("y", y), pl.lit(None, dtype=pl.Float64).alias("vx"),
        pl.lit(None, dtype=pl.Float64).alias("vy"),
    ).filter(pl.Series(seen))


def _ffill(values: np.ndarray) -> np.ndarray:
    """Forward-fill NaNs (then back-fill the start); all-NaN becomes zeros."""
    good = np.isfinite(values)
    if not good.any():
        return np.zeros_like(values)
    idx = np.where(good, np.arange(values.size), 0)
    np.maximum.accumulate(idx, out=idx)
    out = values[idx]
    out[: np.argmax(good)] = values[np.argmax(good)]
    return out
