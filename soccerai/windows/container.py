"""Model-ready windows: the contract between ``soccerai.match.tracking`` and ``soccerai.models.graph`` / ``soccerai.models``.

A :class:`TrajectoryWindows` holds ``W`` windows of ``T = T_obs + T_pred`` frames at 10 Hz of the 23 agents of
one or more matches, oriented so that the attacking team plays towards ``+x``.

Agent order (fixed, index ``k``): 0..10 attacking players, 11..21 defending players, 22 the ball. Within a team
slot 0 is the goalkeeper (empty when none is tracked), then the others by object id (:mod:`soccerai.windows.layout` owns
the rule). Missing agents have ``mask == False`` and zero features: read a position only where the mask is True.

Lengths here are in 10 Hz frames (``obs_len``, ``T``); :data:`FPS` and :data:`DT` convert to seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from soccerai.errors import InvalidTrackingError

N_AGENTS = 23
N_PER_TEAM = 11
BALL_INDEX = 22
MIN_PLAYERS = 6
"""Default for every window cutter: windows with fewer tracked players than this at some frame are skipped and
counted (broadcast tracking shows 12-19 of the 22; the others are masked)."""
FEATURES = ("x", "y", "vx", "vy")
ATTACK, DEFENCE, BALL = 0, 1, 2
FPS = 10.0
"""The model rate (Hz): rows per second of everything the windows, the models and C-OBSO see."""
DT = 1.0 / FPS
"""Seconds between two model frames (``p += v * DT``)."""


def agent_roles() -> np.ndarray:
    """Role of each agent index: 0 attacker, 1 defender, 2 ball. Shape ``[23]``."""
    return np.array([ATTACK] * N_PER_TEAM + [DEFENCE] * N_PER_TEAM + [BALL], dtype=np.int64)


@dataclass
class TrajectoryWindows:
    """Windows of agent states.

    Attributes:
        states: float32 ``[W, T, 23, 4]`` of (x, y, vx, vy) in metres and m/s, attack towards +x.
        mask: bool ``[W, T, 23]``: True where the agent was tracked at that frame.
        is_goalkeeper: bool ``[W, 23]``.
        obs_len: number of observed frames (``T_obs``); the rest are the future to predict.
        meta: one row per window: window_id, match_id, period, start_frame, attacking_team, object_ids (list[str] of 23).
        simulated: True when the tracking came from soccerai's match synthesizer.
    """

    states: np.ndarray
    mask: np.ndarray
    is_goalkeeper: np.ndarray
    obs_len: int
    meta: pl.DataFrame
    simulated: bool = False

    def __post_init__(self) -> None:
        w, t, n, f = self.states.shape
        if n != N_AGENTS or f != len(FEATURES):
            raise InvalidTrackingError(f"windows must be [W, T, {N_AGENTS}, {len(FEATURES)}], got {self.states.shape}")
        if self.mask.shape != (w, t, n) or self.is_goalkeeper.shape != (w, n):
            raise InvalidTrackingError("windows mask / is_goalkeeper shapes do not match states")
        if not 0 < self.obs_len < t:
            raise InvalidTrackingError(f"obs_len {self.obs_len} must be between 1 and T-1 = {t - 1}")
        if self.meta.height != w:
            raise InvalidTrackingError(f"windows meta has {self.meta.height} rows for {w} windows")
        if not np.isfinite(self.states).all():
            raise InvalidTrackingError("windows contain NaN or inf states")

    def __len__(self) -> int:
        return self.states.shape[0]

    @property
    def tracking_label(self) -> str:
        """"simulated" or "real": how every table and figure labels these windows' tracking."""
        return "simulated" if self.simulated else "real"

    @property
    def pred_len(self) -> int:
        return self.states.shape[1] - self.obs_len

    def subset(self, index: np.ndarray | list[int]) -> TrajectoryWindows:
        index = np.asarray(index)
        return TrajectoryWindows(
            states=self.states[index],
            mask=self.mask[index],
            is_goalkeeper=self.is_goalkeeper[index],
            obs_len=self.obs_len,
            meta=self.meta[index.tolist()] if index.dtype != bool else self.meta.filter(pl.Series(index)),
            simulated=self.simulated,
        )

    @staticmethod
    def concat(parts: list[TrajectoryWindows]) -> TrajectoryWindows:
        if not parts:
            raise InvalidTrackingError("no windows to concatenate")
        if len({p.obs_len for p in parts}) != 1 or len({p.states.shape[1] for p in parts}) != 1:
            raise InvalidTrackingError("cannot concatenate windows of different lengths")
        return TrajectoryWindows(
            states=np.concatenate([p.states for p in parts]),
            mask=np.concatenate([p.mask for p in parts]),
            is_goalkeeper=np.concatenate([p.is_goalkeeper for p in parts]),
            obs_len=parts[0].obs_len,
            meta=pl.concat([p.meta for p in parts]),
            simulated=any(p.simulated for p in parts),
        )
