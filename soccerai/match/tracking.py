"""Processing steps over the canonical tracking table: resampling, smoothing and velocities.

The attack-frame orientation and the 23-agent layout live in :mod:`soccerai.windows.layout`.

Every function is pure: it takes a table with the columns of :data:`soccerai.match.schema.TRACKING_SCHEMA` and returns a
new one; nothing is modified in place. Work is done per object, per *contiguous segment* of its samples, so no
value is ever interpolated, smoothed or differentiated across a time gap or a period change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import polars as pl
from scipy.signal import butter, filtfilt, savgol_filter

from soccerai.errors import InvalidParameterError, InvalidTrackingError
from soccerai.match.schema import MAX_PLAYER_SPEED, TRACKING_SCHEMA, validate_tracking

SEGMENT_GAP_FACTOR = 1.5
"""A time step longer than this many frame periods starts a new segment."""
PLAYER_JUMP_SPEED = 25.0
"""A player step implying more than this speed (m/s) is a tracking jump: it starts a new segment."""

SmoothingMethod = Literal["savgol", "butterworth"]


# ----------------------------------------------------------------------------------------------------------------
# Checks shared by every step
# ----------------------------------------------------------------------------------------------------------------


def _checked(tracking: pl.DataFrame) -> pl.DataFrame:
    """Validate against the schema (raises :class:`InvalidTrackingError`) and sort by period, object, time."""
    if not isinstance(tracking, pl.DataFrame):
        raise InvalidTrackingError(f"expected a polars DataFrame, got {type(tracking).__name__}")
    validate_tracking(tracking)
    bad_time = tracking.select((~pl.col("time_s").is_finite()).fill_null(True).sum()).item()
    if bad_time:
        raise InvalidTrackingError(f"tracking table has {bad_time} rows with null/NaN time_s")
    return tracking.sort("period", "object_id", "time_s")


def _positive(name: str, value: float) -> float:
    if not np.isfinite(value) or value <= 0:
        raise InvalidParameterError(f"{name} must be a positive finite number, got {value}")
    return float(value)


def frame_period(tracking: pl.DataFrame) -> float:
    """The nominal frame period (s): the median positive time step between consecutive samples of an object."""
    steps = (
        tracking.sort("period", "object_id", "time_s")
        .select(pl.col("time_s").diff().over("period", "object_id").alias("dt"))
        .filter(pl.col("dt") > 0)
        .get_column("dt")
    )
    if steps.len() == 0:
        raise InvalidTrackingError("tracking table has no two samples of one object: frame period unknown")
    return float(steps.median())


# ----------------------------------------------------------------------------------------------------------------
# Resampling
# ----------------------------------------------------------------------------------------------------------------


def resample(tracking: pl.DataFrame, fps: float = 10.0, max_gap_s: float = 0.5) -> pl.DataFrame:
    """Resample to a regular clock of ``fps`` Hz per period (``time_s = k / fps``).

    Positions (and ``z``, ``vx``, ``vy`` where known) of each object are interpolated linearly between its two
    neighbouring samples ``t_i <= t < t_{i+1}``:

        ``p(t) = p_i + (t - t_i) / (t_{i+1} - t_i) * (p_{i+1} - p_i)``

    only when ``t_{i+1} - t_i <= max_gap_s`` (or ``t`` hits a sample): across a longer gap the object is absent,
    nothing is invented. Frame-level ``ball_state`` and ``ball_owning_team`` take the value of the nearest previous
    source frame. The new ``frame`` is the source frame number nearest in time (interpolated on the source clock),
    so events and frames chosen on the source clock still point at the right moment.

    Raises:
        InvalidParameterError: ``fps`` or ``max_gap_s`` not positive, or ``fps`` above the source frame rate.
        InvalidTrackingError: the table is empty or invalid.
    """
    fps = _positive("fps", fps)
    max_gap_s = _positive("max_gap_s", max_gap_s)
    tracking = _checked(tracking)
    source_period = frame_period(tracking)
    if 1.0 / fps < source_period * (1 - 1e-6):
        raise InvalidParameterError(f"fps={fps} is above the source frame rate ({1 / source_period:.3g} Hz)")
    parts = [
        _resample_period(part, fps, max_gap_s) for _, part in tracking.group_by("period", maintain_order=True)
    ]
    out = pl.concat([p for p in parts if p.height], how="vertical") if parts else tracking.clear()
    return out.select(TRACKING_SCHEMA.keys()).sort("period", "frame", "object_id")


def _resample_period(part: pl.DataFrame, fps: float, max_gap_s: float) -> pl.DataFrame:
    """Resample one period: a common grid, each object interpolated on it, frame-level columns joined as-of."""
    clock = part.group_by("frame").agg(pl.col("time_s").first()).sort("time_s")
    t_source = clock.get_column("time_s").to_numpy()
    grid = np.arange(np.ceil(t_source[0] * fps - 1e-9), np.floor(t_source[-1] * fps + 1e-9) + 1) / fps + 0.0
    frames = np.rint(np.interp(grid, t_source, clock.get_column("frame").to_numpy())).astype(np.int64)
    objects = [
        _interpolate_object(obj, grid, frames, max_gap_s)
        for _, obj in part.group_by("object_id", maintain_order=True)
    ]
    rows = pl.concat([o for o in objects if o.height]) if objects else part.clear()
    frame_level = (
        part.group_by("time_s")
        .agg(pl.col("ball_state").drop_nulls().first(), pl.col("ball_owning_team").drop_nulls().first())
        .sort("time_s")
    )
    return rows.sort("time_s").join_asof(frame_level, on="time_s", strategy="backward", tolerance=max_gap_s)


def _interpolate_object(
    obj: pl.DataFrame, grid: np.ndarray, frames: np.ndarray, max_gap_s: float
) -> pl.DataFrame:
    """Linear interpolation of one object's columns on ``grid``, never across gaps longer than ``max_gap_s``."""
    t = obj.get_column("time_s").to_numpy()
    inside = (grid >= t[0] - 1e-9) & (grid <= t[-1] + 1e-9)
    g = grid[inside]
    right = (
        np.clip(np.searchsorted(t, g, side="right"), 1, len(t) - 1) if len(t) > 1 else np.zeros(len(g), int)
    )
    left = np.maximum(right - 1, 0)
    span = t[right] - t[left]
    weight = np.divide(g - t[left], span, out=np.zeros_like(g), where=span > 0)
    on_sample = (np.abs(g - t[left]) < 1e-9) | (np.abs(g - t[right]) < 1e-9)
    keep = on_sample | (span <= max_gap_s + 1e-9)
    weight = np.where(np.abs(g - t[right]) < 1e-9, 1.0, np.where(np.abs(g - t[left]) < 1e-9, 0.0, weight))
    columns: dict[str, np.ndarray] = {}
    for name in ("x", "y", "z", "vx", "vy"):
        values = obj.get_column(name).cast(pl.Float64).fill_null(np.nan).to_numpy()
        columns[name] = (values[left] + weight * (values[right] - values[left]))[keep]
    first = obj.row(0, named=True)
    return pl.DataFrame(
        {
            "match_id": first["match_id"],
            "period": first["period"],
            "frame": frames[inside][keep],
            "time_s": g[keep],
            "object_id": first["object_id"],
            "team": first["team"],
            **columns,
        },
        schema_overrides={
            k: TRACKING_SCHEMA[k] for k in ("match_id", "period", "frame", "time_s", "object_id", "team")
        },
    ).with_columns(pl.col(c).fill_nan(None) for c in ("z", "vx", "vy"))


# ----------------------------------------------------------------------------------------------------------------
# Smoothing and velocities
# ----------------------------------------------------------------------------------------------------------------


def segment_ids(
    tracking: pl.DataFrame, gap_factor: float = SEGMENT_GAP_FACTOR, jump_speed: float = PLAYER_JUMP_SPEED
) -> pl.Series:
    """Contiguous-segment id of each row of a table sorted by (period, object_id, time_s).

    A new segment starts at a new (period, object), after a time step ``dt > gap_factor * frame_period``, and, for
    players, after a step implying a speed above ``jump_speed`` (a tracking jump is not motion).
    """
    dt_max = gap_factor * frame_period(tracking)
    dt = pl.col("time_s").diff()
    step = (pl.col("x").diff() ** 2 + pl.col("y").diff() ** 2).sqrt()
    new_object = (pl.col("object_id") != pl.col("object_id").shift()) | (
        pl.col("period") != pl.col("period").shift()
    )
    jump = (pl.col("team") != "ball") & (step > jump_speed * dt)
    starts = (new_object | (dt > dt_max) | (dt <= 0) | jump).fill_null(True)
    return tracking.select(starts.cum_sum().alias("segment")).get_column("segment")


def add_velocities(
    tracking: pl.DataFrame,
    method: SmoothingMethod = "savgol",
    window_s: float = 0.6,
    polyorder: int = 2,
    cutoff_hz: float = 2.0,
    filter_order: int = 2,
    max_speed: float = MAX_PLAYER_SPEED,
    smooth_positions: bool = False,
) -> pl.DataFrame:
    """Velocities from smoothed positions, per object per contiguous segment, plus a ``speed_flag`` column.

    Smoothing (on each segment of ``n`` samples, step ``h`` = the frame period):

    * ``"savgol"``: Savitzky-Golay on the real clock. Around each sample ``i`` a polynomial
      ``q(t) = sum_k c_k ((t - t_i) / h)^k`` of order ``polyorder`` is fitted by least squares to the ``w`` samples
      centred on ``i`` (``w ~ window_s / h``, odd; shifted inwards at segment ends). The smoothed position is
      ``q(t_i) = c_0`` and the velocity its derivative with respect to real time, ``q'(t_i) = c_1 / h``. On a
      regular clock this equals scipy's ``savgol_filter`` (``deriv=0`` and ``deriv=1``); on a jittered clock it
      stays exact for motion that is polynomial in time (constant velocity, constant acceleration).
    * ``"butterworth"``: low-pass of order ``filter_order`` with cut-off ``cutoff_hz`` (``|H(f)|^2 = 1 /
      (1 + (f / f_c)^(2N))``), run forwards and backwards (``filtfilt``, odd padding): zero phase, squared
      magnitude. The velocity is then the derivative with respect to real time ``time_s`` by second-order finite
      differences on the non-uniform grid (one-sided at segment ends): with ``h_- = t_i - t_{i-1}``,
      ``h_+ = t_{i+1} - t_i``,

        ``v_i = (h_-^2 p_{i+1} - h_+^2 p_{i-1} + (h_+^2 - h_-^2) p_i) / (h_- h_+ (h_- + h_+))``.

    Segments are split at time gaps, period changes and player jumps (:func:`segment_ids`), so a dropped stretch
    or a teleport never becomes a huge speed. Segments shorter than the window use the largest odd window that
    fits (a two-sample segment gets the difference quotient); a single-sample segment gets null velocity.
    ``speed_flag`` is True for players whose speed ``sqrt(vx^2 + vy^2)`` exceeds ``max_speed``: a measurement
    error to be excluded, never averaged in. Positions are replaced by the smoothed ones only when
    ``smooth_positions`` is True.

    Raises:
        InvalidParameterError: unknown method or out-of-range parameters.
        InvalidTrackingError: the table is empty or invalid.
    """
    if method not in ("savgol", "butterworth"):
        raise InvalidParameterError(f"unknown smoothing method {method!r}: use 'savgol' or 'butterworth'")
    window_s, cutoff_hz, max_speed = (
        _positive(n, v)
        for n, v in (("window_s", window_s), ("cutoff_hz", cutoff_hz), ("max_speed", max_speed))
    )
    if not 0 <= polyorder <= 5 or not 1 <= filter_order <= 8:
        raise InvalidParameterError(
            f"polyorder must be 0-5 and filter_order 1-8, got {polyorder}, {filter_order}"
        )
    tracking = _checked(tracking)
    h = frame_period(tracking)
    if method == "butterworth" and cutoff_hz >= 0.5 / h:
        raise InvalidParameterError(
            f"cutoff_hz={cutoff_hz} is not below the Nyquist frequency {0.5 / h:.3g} Hz"
        )
    smoother = (
        _savgol(window_s, h, polyorder) if method == "savgol" else _butterworth(cutoff_hz, h, filter_order)
    )
    segments = segment_ids(tracking).to_numpy()
    t = tracking.get_column("time_s").to_numpy()
    xy = tracking.select("x", "y").to_numpy().astype(np.float64)
    smooth, velocity = _per_segment(segments, t, xy, smoother)
    out = tracking.with_columns(
        pl.Series("vx", velocity[:, 0]).fill_nan(None),
        pl.Series("vy", velocity[:, 1]).fill_nan(None),
    )
    if smooth_positions:
        out = out.with_columns(pl.Series("x", smooth[:, 0]), pl.Series("y", smooth[:, 1]))
    speed = (pl.col("vx") ** 2 + pl.col("vy") ** 2).sqrt()
    flag = ((pl.col("team") != "ball") & (speed > max_speed)).fill_null(False).alias("speed_flag")
    return out.with_columns(flag).sort("period", "frame", "object_id")


Smoother = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
"""``(t[n], p[n, 2]) -> (smoothed p[n, 2], velocity[n, 2])`` on one contiguous segment."""


def _per_segment(
    segments: np.ndarray, t: np.ndarray, xy: np.ndarray, smoother: Smoother
) -> tuple[np.ndarray, np.ndarray]:
    """Apply ``smoother`` to each run of equal segment ids (rows of one segment are contiguous)."""
    smooth = xy.copy()
    velocity = np.full_like(xy, np.nan)
    bounds = np.flatnonzero(np.diff(segments)) + 1
    for start, stop in zip(np.r_[0, bounds], np.r_[bounds, len(segments)], strict=True):
        if stop - start >= 2:
            smooth[start:stop], velocity[start:stop] = smoother(t[start:stop], xy[start:stop])
    return smooth, velocity


def _savgol(window_s: float, h: float, polyorder: int) -> Smoother:
    """Savitzky-Golay on the real clock: a local least-squares polynomial in ``t - t_i`` per sample.

    For sample ``i`` the window is the ``w`` samples centred on it (shifted inwards at segment ends); with
    ``u_j = (t_j - t_i) / h`` and ``A_jk = u_j^k`` (``k = 0..p``) the coefficients ``c = (A^T A)^-1 A^T p`` give the
    smoothed position ``c_0`` and the velocity ``c_1 / h``. On a regular clock this is exactly scipy's
    ``savgol_filter`` (value and first derivative); on an irregular one it stays exact for polynomial motion.
    """
    window = max(int(round(window_s / h)) | 1, (polyorder + 1) | 1)

    def smooth(t: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(t)
        w = min(window, n if n % 2 else n - 1)
        order = min(polyorder, w - 1)
        if order < 1:
            return p, np.gradient(p, t, axis=0)
        steps = np.diff(t)
        if np.abs(steps - steps.mean()).max() <= 1e-6 * steps.mean():  # regular clock: the classic filter
            step = float(steps.mean())
            return (
                savgol_filter(p, w, order, axis=0, mode="interp"),
                savgol_filter(p, w, order, deriv=1, delta=step, axis=0, mode="interp"),
            )
        starts = np.clip(np.arange(n) - w // 2, 0, n - w)
        index = starts[:, None] + np.arange(w)[None, :]  # [n, w]
        u = (t[index] - t[:, None]) / h
        design = u[..., None] ** np.arange(order + 1)  # [n, w, order + 1]
        gram = np.einsum("nwk,nwl->nkl", design, design)
        rhs = np.einsum("nwk,nwd->nkd", design, p[index])
        coef = np.linalg.solve(gram, rhs)  # [n, order + 1, 2]
        return coef[:, 0, :], coef[:, 1, :] / h

    return smooth


def _butterworth(cutoff_hz: float, h: float, order: int) -> Smoother:
    """Zero-phase Butterworth low-pass (``filtfilt``, odd padding of ~3 cut-off periods), then ``np.gradient``."""
    b, a = butter(order, cutoff_hz, btype="low", fs=1.0 / h)
    pad = max(3 * max(len(a), len(b)), int(round(3.0 / (cutoff_hz * h))))

    def smooth(t: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        filtered = p if len(p) < 3 else filtfilt(b, a, p, axis=0, padlen=min(pad, len(p) - 1))
        return filtered, np.gradient(filtered, t, axis=0)

    return smooth


def speed_summary(
    tracking: pl.DataFrame, quantiles: tuple[float, ...] = (0.5, 0.9, 0.99)
) -> dict[str, float]:
    """Player speed quantiles and max (m/s) and the flagged fraction of a table with velocities."""
    speed = (
        tracking.filter((pl.col("team") != "ball") & pl.col("vx").is_not_null())
        .select((pl.col("vx") ** 2 + pl.col("vy") ** 2).sqrt())
        .to_series()
    )
    if speed.len() == 0:
        raise InvalidTrackingError("no player velocities: run add_velocities first")
    out = {f"p{round(q * 100)}": float(speed.quantile(q, "linear")) for q in quantiles}
    out["max"] = float(speed.max())
    out["flagged_fraction"] = float((speed > MAX_PLAYER_SPEED).mean())
    return out
