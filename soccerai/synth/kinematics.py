"""Human kinematics: per-player speed profiles, an acceleration-limited pursuit, and pinning to event positions.

Pursuit (one step of ``dt`` for all players at once). With target ``T``, position ``p``, velocity ``v``::

    d      = T - p
    v_des  = d / |d| * min(urgency * v_max, (|d| - r0)+ / tau_arrive)  (slow down when close; stand still
                                                                     within r0 = SETTLE_RADIUS_M: no fidgeting)
    a      = (v_des - v) / tau_react,   clipped to |a| <= a_lim      (acceleration limit)
    a_lim  = a_max (1 - |v| / v_max), at least A_FLOOR   when a speeds him up (a . v >= 0)
             a_max                                       when a brakes him (a . v < 0)
    v     <- v + a dt,                   clipped to |v| <= v_max      (top speed)
    p     <- p + v dt

The propulsive limit is the linear force-velocity profile of sprinting (Samozino, Morin et al.): explosive from
a standstill, fading to nothing at top speed, so from rest ``v(t) = v_max (1 - exp(-a_max t / v_max))`` - a burst
reaches 7 m/s in about 2 s, as elite players do. Each player has his own ``v_max`` (7.8-9.4 m/s),
``a_max`` (5-6.5 m/s^2) and ``tau_react``, drawn once per match from a seeded generator: his speed profile.

Pinning (:func:`pin_to_positions`): after the pursuit, each constraint "player k at position P at frame f" is met
exactly by adding a smooth raised-cosine bump ``e * (1 + cos(pi (t - f) / h)) / 2`` (``e`` = the remaining error)
over ``|t - f| < h``. The bump's peak acceleration is ``|e| pi^2 / (2 h^2)`` and its peak speed ``|e| pi / (2 h)``,
so ``h`` is the largest of ``sqrt(pi^2 |e| / (2 a_pin))``, ``pi |e| / (2 v_pin)`` and ``MIN_PIN_HALF_WIDTH_S``. With a
speed cap ``v_cap`` (the player's top speed), the speed budget shrinks to ``v_cap - (peak track speed within
the bump)`` (at least ``MIN_PIN_SPEED``), so a bump on a sprint widens instead of pushing him past his top
speed. ``h`` is finally clipped so it never reaches the player's neighbouring constraint frames: bumps therefore never disturb each other's pinned frames, and every constraint is
met to floating-point precision. Dense constraints (two events of one player a few frames apart at different
spots) can force accelerations above ``a_pin``; the engine reports the worst case.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SETTLE_RADIUS_M = 0.75
MIN_PIN_HALF_WIDTH_S = 0.6
PIN_ACCELERATION = 2.5
"""a_pin (m/s^2): the acceleration budget a pinning bump may add on top of the pursuit."""
PIN_SPEED = 2.5
"""v_pin (m/s): the speed budget a pinning bump may add (its peak speed is |e| pi / (2 h))."""
A_FLOOR = 2.0
"""m/s^2: the acceleration a player can still add near his top speed (turning, keeping pace)."""
MIN_PIN_SPEED = 0.5
"""The smallest speed budget a bump gets when the player already runs near his top speed (m/s)."""


@dataclass(frozen=True)
class SpeedProfiles:
    """Per-player physical limits (arrays of shape (n_players,))."""

    v_max: np.ndarray
    a_max: np.ndarray
    tau_react: np.ndarray
    tau_arrive: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator, is_keeper: np.ndarray) -> SpeedProfiles:
        n = is_keeper.size
        v_max = np.where(is_keeper, rng.uniform(6.5, 7.5, n), rng.uniform(7.8, 9.4, n))
        return cls(
            v_max=v_max,
            a_max=rng.uniform(5.0, 6.5, n),
            tau_react=rng.uniform(0.45, 0.75, n),
            tau_arrive=rng.uniform(0.8, 1.3, n),
        )


def pursuit_step(
    pos: np.ndarray, vel: np.ndarray, target: np.ndarray, urgency: np.ndarray, prof: SpeedProfiles, dt: float
) -> None:
    """Advance ``pos`` and ``vel`` (n, 2) in place by one step towards ``target``."""
    d = target - pos
    dist = np.sqrt(d[:, 0] ** 2 + d[:, 1] ** 2) + 1e-9
    speed = np.minimum(urgency * prof.v_max, np.maximum(dist - SETTLE_RADIUS_M, 0.0) / prof.tau_arrive)
    acc = (d * (speed / dist)[:, None] - vel) / prof.tau_react[:, None]
    a_norm = np.sqrt(acc[:, 0] ** 2 + acc[:, 1] ** 2) + 1e-9
    v_norm = np.sqrt(vel[:, 0] ** 2 + vel[:, 1] ** 2)
    braking = acc[:, 0] * vel[:, 0] + acc[:, 1] * vel[:, 1] < 0.0
    push = np.maximum(prof.a_max * (1.0 - v_norm / prof.v_max), A_FLOOR)
    acc *= np.minimum(1.0, np.where(braking, prof.a_max, push) / a_norm)[:, None]
    vel += acc * dt
    v_norm = np.sqrt(vel[:, 0] ** 2 + vel[:, 1] ** 2) + 1e-9
    vel *= np.minimum(1.0, prof.v_max / v_norm)[:, None]
    pos += vel * dt


def pin_to_positions(
    track: np.ndarray,
    frames: np.ndarray,
    targets: np.ndarray,
    frame_rate: float,
    a_pin: float = PIN_ACCELERATION,
    v_pin: float = PIN_SPEED,
    v_cap: float = np.inf,
) -> np.ndarray:
    """Bend one player's ``track`` (n, 2) so that ``track[frames[i]] == targets[i]`` exactly; returns the track.

    ``frames`` must be sorted and unique (index positions into ``track``). ``v_cap`` (m/s) is the speed the
    bumps try not to push the track past (see the module docstring).
    """
    if frames.size == 0:
        return track
    errors = targets - track[frames]
    mags = np.hypot(errors[:, 0], errors[:, 1])
    half = (
        np.maximum.reduce(
            [
                np.full_like(mags, MIN_PIN_HALF_WIDTH_S),
                np.sqrt(np.pi**2 * mags / (2.0 * a_pin)),
                np.pi * mags / (2.0 * v_pin),
            ]
        )
        * frame_rate
    )
    if np.isfinite(v_cap):
        half = _widen_for_speed(track, frames, mags, half, frame_rate, v_pin, v_cap)
    prev_gap = np.diff(frames, prepend=frames[0] - 10**9)
    next_gap = np.diff(frames, append=frames[-1] + 10**9)
    left = np.minimum(half, prev_gap).astype(np.int64)
    right = np.minimum(half, next_gap).astype(np.int64)
    n = track.shape[0]
    out = track.copy()
    for f, err, lo, hi in zip(frames, errors, left, right, strict=True):
        if not err.any():
            continue
        a, b = max(f - lo + 1, 0), min(f + hi, n)
        t = np.arange(a, b) - f
        width = np.where(t < 0, max(lo, 1), max(hi, 1))
        w = 0.5 * (1.0 + np.cos(np.pi * t / width))
        out[a:b] += w[:, None] * err[None, :]
    return out


def _widen_for_speed(
    track: np.ndarray,
    frames: np.ndarray,
    mags: np.ndarray,
    half: np.ndarray,
    frame_rate: float,
    v_pin: float,
    v_cap: float,
) -> np.ndarray:
    """Half-widths (frames) whose bump speed ``pi |e| / (2 h)`` fits under ``v_cap`` minus the track's own peak
    speed within the first-guess window ``|t - f| < half``."""
    step = np.hypot(*np.diff(track, axis=0).T) * frame_rate
    speed = np.concatenate([step[:1], np.maximum(step[1:], step[:-1]), step[-1:]]) if step.size else step
    if speed.size == 0:
        return half
    lo = np.clip(frames - half.astype(np.int64), 0, speed.size - 1)
    hi = np.clip(frames + half.astype(np.int64), 0, speed.size - 1)
    peak = np.array([speed[a : b + 1].max() for a, b in zip(lo, hi, strict=True)])
    budget = np.clip(v_cap - peak, MIN_PIN_SPEED, v_pin)
    return np.maximum(half, np.pi * mags / (2.0 * budget) * frame_rate)


PULL_WINDOW_S = 1.0
PULL_SPEED = 4.0
PULL_BUDGET_M = 0.95
MAX_PIN_SPEED = 8.0


@dataclass(frozen=True)
class UnreachablePin:
    """An event constraint :func:`plan_pins` dropped: the real timeline asks more than ``MAX_PIN_SPEED``.

    ``frame`` and (``x``, ``y``) are the event's; ``gap_s`` and ``gap_m`` the time and distance since the
    player's previous kept constraint, so ``needs_m_s = gap_m / gap_s`` is the mean speed the timeline asks for.
    """

    frame: int
    x: float
    y: float
    gap_s: float
    gap_m: float

    @property
    def needs_m_s(self) -> float:
        return self.gap_m / self.gap_s if self.gap_s > 0 else float("inf")


def plan_pins(
    frames: np.ndarray, xy: np.ndarray, frame_rate: float
) -> tuple[np.ndarray, np.ndarray, list[UnreachablePin]]:
    """Make one player's event constraints physically reachable before pinning.

    1. Pull together: two pins less than ``PULL_WINDOW_S`` apart that would need more than ``PULL_SPEED`` m/s
       (the same touch recorded twice; Metrica rounds positions to a ~1 m grid) move towards each other, each by
       at most ``PULL_BUDGET_M`` from its event position, so the 1 m alignment still holds.
    2. Feasibility: a pin that would still need more than ``MAX_PIN_SPEED`` m/s from the previous kept pin is
       dropped (inconsistent timings in the real event data, e.g. Game 2's 22.5 m dribble in 2.76 s); each one is
       returned as an :class:`UnreachablePin` so callers can measure and report how far the player ends up.

    ``frames`` must be sorted. Returns (kept frames, kept positions, dropped pins).
    """
    original = xy.astype(float)
    xy = original.copy()
    for k in range(1, frames.size):
        dt = (frames[k] - frames[k - 1]) / frame_rate
        if dt > PULL_WINDOW_S:
            continue
        gap = xy[k] - xy[k - 1]
        dist = float(np.hypot(*gap))
        excess = dist - PULL_SPEED * dt
        if excess <= 0 or dist == 0:
            continue
        unit = gap / dist
        for idx, direction in ((k - 1, 1.0), (k, -1.0)):
            budget = PULL_BUDGET_M - float(np.hypot(*(xy[idx] - original[idx])))
            xy[idx] += direction * unit * max(min(excess / 2.0, budget), 0.0)
    keep = np.ones(frames.size, dtype=bool)
    dropped: list[UnreachablePin] = []
    last = 0
    for k in range(1, frames.size):
        dt = (frames[k] - frames[last]) / frame_rate
        dist = float(np.hypot(*(xy[k] - xy[last])))
        if dist > MAX_PIN_SPEED * dt + 1e-9:
            keep[k] = False
            x, y = original[k]
            dropped.append(UnreachablePin(int(frames[k]), float(x), float(y), float(dt), dist))
        else:
            last = k
    return frames[keep], xy[keep], dropped
