"""Where model windows come from, and the Lightning data module that feeds them as torch_geometric batches.

Sources of :class:`~soccerai.windows.container.TrajectoryWindows`:

* :func:`lastrow_clip_windows`: the real Last Row clips (read by :func:`soccerai.io.providers.lastrow.load_lastrow`, then the
  same 10 Hz / velocity / windowing steps as stored matches, a window at every stride over the whole clip);
* :func:`random_walk_windows`: small synthetic scenes for unit tests (smooth random walks, labelled simulated);
* :func:`load_windows`: files given on the command line. Last Row CSVs go through :func:`lastrow_clip_windows`;
  stored canonical parquet matches (``soccerai ingest``, ``soccerai synthesize --format parquet``) are brought to
  10 Hz with velocities and cut by ``soccerai.windows.cutter.make_windows`` inside possession segments
  (:func:`parquet_windows`);

Augmentation that respects the pitch: :func:`mirror_left_right` reflects windows across the long axis
(``y -> -y``, ``vy -> -vy``; ``x`` and so the attack towards ``+x`` are kept, as is every mask), which maps a legal
scene onto a legal scene. :class:`WindowDataModule` (``mirror=True``; :class:`soccerai.training.loop.TrainConfig` turns it
on by default) feeds each training window mirrored with probability 1/2; validation windows are never mirrored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import lightning as L
import numpy as np
import polars as pl
import torch
from torch.utils.data import DataLoader, Dataset
from torch_geometric.data import Batch, Data

from soccerai.errors import InvalidInputError, InvalidParameterError
from soccerai.match.schema import Match
from soccerai.models.graph import EdgeKind, batch_windows, window_graph
from soccerai.windows.container import FPS, N_AGENTS, N_PER_TEAM, TrajectoryWindows


def match_windows(match: Match, obs_len: int, pred_len: int, stride: int = 10) -> TrajectoryWindows:
    """Windows of one canonical match (any frame rate) inside its possession segments; lengths in 10 Hz frames."""
    import warnings

    from soccerai.windows.cutter import make_windows
    from soccerai.windows.layout import (
        to_model_rate,  # resamples to 10 Hz and adds smoothed velocities when needed
    )

    _check_lengths(obs_len, pred_len, stride)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skipped windows are expected (ball out of play, substitutions)
        return make_windows(to_model_rate(match), None, obs_len / FPS, pred_len / FPS, stride / FPS)


def parquet_windows(paths: Sequence[Path], obs_len: int, pred_len: int, stride: int) -> TrajectoryWindows:
    """Windows of stored canonical matches (``soccerai.data.store`` parquet files), concatenated."""
    from soccerai.data.store import read_match

    parts = []
    for path in paths:
        windows = match_windows(read_match(path), obs_len, pred_len, stride)
        if len(windows) == 0:
            raise InvalidInputError(f"no {obs_len + pred_len}-frame window inside a possession", path)
        parts.append(windows)
    return TrajectoryWindows.concat(parts)


# Hook for the canonical-parquet path: (paths, obs_len, pred_len, stride) -> TrajectoryWindows.
MakeWindows = Callable[[Sequence[Path], int, int, int], TrajectoryWindows]
MAKE_WINDOWS: MakeWindows = parquet_windows


def _check_lengths(obs_len: int, pred_len: int, stride: int) -> None:
    if obs_len < 2 or pred_len < 1 or stride < 1:
        raise InvalidParameterError(f"need obs_len >= 2, pred_len >= 1, stride >= 1; got {obs_len}, {pred_len}, {stride}")


def lastrow_clip_windows(
    path: str | Path, obs_len: int, pred_len: int, stride: int = 1, play: str | None = None
) -> TrajectoryWindows:
    """Windows of real play from a Last Row / Friends of Tracking CSV clip; lengths in 10 Hz frames.

    The clip is read by :func:`soccerai.io.providers.lastrow.load_lastrow` (metres on a 105 x 68 pitch, the attacking team
    as ``home`` towards +x, the defending goalkeeper guessed from depth), brought to 10 Hz with smoothed velocities
    (:func:`soccerai.windows.layout.to_model_rate`), then cut by :func:`soccerai.windows.cutter.make_windows` with the whole
    clip as one ``home`` possession: a window starts at every ``stride``-th 10 Hz frame (not only inside inferred
    possession segments, which :func:`match_windows` would use). Only the players Last Row tracked are there
    (10 + 10 on ``LIV_[2]-1_CHE``), the other slots stay masked; no minimum player count is applied.

    Raises:
        InvalidInputError: the file is not a readable Last Row clip, or is shorter than one window.
        InvalidParameterError: non-positive lengths or stride.
    """
    from soccerai.io.providers.lastrow import load_lastrow
    from soccerai.windows.layout import to_model_rate

    _check_lengths(obs_len, pred_len, stride)
    path = Path(path)
    match = to_model_rate(load_lastrow(path, play=play))
    windows = _windows_of_whole_clip(match, obs_len, pred_len, stride)
    if len(windows) == 0:
        n_frames = match.tracking.get_column("frame").n_unique()
        raise InvalidInputError(
            f"clip has {n_frames} frames at 10 Hz, fewer than a window of {obs_len + pred_len}", path
        )
    return windows


def _windows_of_whole_clip(match_10hz: Match, obs_len: int, pred_len: int, stride: int) -> TrajectoryWindows:
    """Windows every ``stride`` frames over the whole 10 Hz clip, its ``home`` team attacking throughout."""
    from soccerai.match.possession import SEGMENT_SCHEMA
    from soccerai.windows.cutter import make_windows_with_stats

    whole_clip = (
        match_10hz.tracking.group_by("period")
        .agg(
            pl.col("frame").min().alias("start_frame"),
            pl.col("frame").max().alias("end_frame"),
            pl.lit("home").alias("team"),
            (pl.col("time_s").max() - pl.col("time_s").min()).alias("duration"),
            pl.lit("whole clip").alias("source"),
        )
        .select(SEGMENT_SCHEMA.keys())
        .cast(SEGMENT_SCHEMA)
    )
    seconds = [frames / FPS for frames in (obs_len, pred_len, stride)]
    windows, _ = make_windows_with_stats(match_10hz, None, *seconds, segments=whole_clip, min_players=0)
    return windows


def random_walk_windows(n_windows: int, obs_len: int, pred_len: int, seed: int = 0) -> TrajectoryWindows:
    """Synthetic windows: players on a 4-4-2-like spread, velocities following a smooth random walk (m/s).

    For unit tests only (labelled ``simulated=True``); not a model of football.
    """
    _check_lengths(obs_len, pred_len, 1)
    rng = np.random.default_rng(seed)
    length = obs_len + pred_len
    start = rng.uniform([-45.0, -30.0], [45.0, 30.0], size=(n_windows, N_AGENTS, 2))
    accel = rng.normal(0.0, 1.5, size=(n_windows, length, N_AGENTS, 2))
    velocity = np.cumsum(accel / FPS, axis=1) + rng.normal(0.0, 1.5, size=(n_windows, 1, N_AGENTS, 2))
    positions = start[:, None] + np.cumsum(velocity / FPS, axis=1)
    states = np.concatenate([positions, velocity], axis=-1).astype(np.float32)
    is_goalkeeper = np.zeros((n_windows, N_AGENTS), bool)
    is_goalkeeper[:, [0, N_PER_TEAM]] = True
    meta = pl.DataFrame(
        {
            "window_id": [f"random-walk:{i}" for i in range(n_windows)],
            "match_id": [f"random-walk-{i}" for i in range(n_windows)],  # independent scenes
            "period": [1] * n_windows,
            "start_frame": [0] * n_windows,
            "attacking_team": ["home"] * n_windows,
            "object_ids": [[str(k) for k in range(N_AGENTS)]] * n_windows,
        }
    )
    return TrajectoryWindows(states, np.ones(states.shape[:3], bool), is_goalkeeper, obs_len, meta, simulated=True)


def load_windows(paths: Sequence[str | Path], obs_len: int, pred_len: int, stride: int = 1) -> TrajectoryWindows:
    """Windows from files: Last Row ``.csv`` clips directly, canonical ``.parquet`` matches via ``MAKE_WINDOWS``."""
    if not paths:
        raise InvalidParameterError("no input files given")
    parts, parquet = [], []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise InvalidInputError("file not found", path)
        if path.suffix == ".csv":
            parts.append(lastrow_clip_windows(path, obs_len, pred_len, stride))
        elif path.suffix == ".parquet":
            parquet.append(path)
        else:
            raise InvalidInputError("expected a canonical .parquet match or a Last Row .csv clip", path)
    if parquet:
        parts.append(MAKE_WINDOWS(parquet, obs_len, pred_len, stride))
    return TrajectoryWindows.concat(parts)


def mirror_left_right(windows: TrajectoryWindows) -> TrajectoryWindows:
    """The windows reflected across the pitch's long axis: ``(x, y, vx, vy) -> (x, -y, vx, -vy)``.

    The attack direction (``+x``), the masks, goalkeepers and metadata are unchanged, so a mirrored scene is as
    legal as the original (left and right wings swap); untracked slots stay zero. An involution: mirroring twice
    gives the original windows back exactly.
    """
    flip = np.array([1.0, -1.0, 1.0, -1.0], dtype=windows.states.dtype)
    states = windows.states * flip
    states[~windows.mask] = 0.0  # no -0.0 in untracked slots
    return TrajectoryWindows(states, windows.mask.copy(), windows.is_goalkeeper.copy(), windows.obs_len,
                             windows.meta, simulated=windows.simulated)


class WindowGraphs(Dataset[Data]):
    """Each window as one torch_geometric graph (nodes carry their time series; see :func:`window_graph`).

    With ``mirror=True`` each access returns the window mirrored left/right (:func:`mirror_left_right`) with
    probability 1/2, drawn from a generator seeded with ``seed`` (reproducible with the loader's seeded shuffle).
    The graph's ``window`` attribute is the original index either way.
    """

    def __init__(self, windows: TrajectoryWindows, edges: EdgeKind = "complete", k: int = 6, mirror: bool = False,
                 seed: int = 0) -> None:
        self.windows, self.edges, self.k = windows, edges, k
        self.mirrored = mirror_left_right(windows) if mirror else None
        self._rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> Data:
        if self.mirrored is not None and self._rng.random() < 0.5:
            return window_graph(self.mirrored, index, self.edges, self.k)
        return window_graph(self.windows, index, self.edges, self.k)


def split_windows(windows: TrajectoryWindows, val_fraction: float, seed: int = 0) -> tuple[TrajectoryWindows, TrajectoryWindows]:
    """Split into training and validation windows that share no frame.

    With several matches, whole matches go to validation (chosen with ``seed``). With one match, the last
    ``val_fraction`` of the windows (in start order) are validation and training keeps only windows that end
    (:func:`window_last_frames`) before the first validation window starts (overlapping windows would leak the
    test frames into training).
    """
    if not 0.0 < val_fraction < 1.0:
        raise InvalidParameterError(f"val_fraction must be in (0, 1), got {val_fraction}")
    matches = windows.meta["match_id"].unique(maintain_order=True).to_list()
    if len(matches) > 1:
        rng = np.random.default_rng(seed)
        n_val = max(1, round(len(matches) * val_fraction))
        val_matches = set(rng.permutation(matches)[:n_val].tolist())
        is_val = windows.meta["match_id"].is_in(list(val_matches)).to_numpy()
        is_train = ~is_val
    else:
        order = np.argsort(windows.meta["start_frame"].to_numpy(), kind="stable")
        n_val = max(1, round(len(windows) * val_fraction))
        is_val = np.zeros(len(windows), bool)
        is_val[order[-n_val:]] = True
        starts = windows.meta["start_frame"].to_numpy()
        periods = windows.meta["period"].to_numpy()
        first_val = starts[is_val].min()
        is_train = ~is_val & ((window_last_frames(windows) < first_val) | (periods != periods[is_val].min()))
    if not is_val.any() or not is_train.any():
        raise InvalidParameterError(f"cannot split {len(windows)} windows into disjoint train and validation sets")
    return windows.subset(np.flatnonzero(is_train)), windows.subset(np.flatnonzero(is_val))


def window_last_frames(windows: TrajectoryWindows) -> np.ndarray:
    """The source frame number of each window's last frame.

    ``start_frame`` and ``obs_end_frame`` count frames of the source clock (20 Hz for Last Row, 25 Hz for the
    simulator), not 10 Hz steps. With ``s`` source frames per 10 Hz step, ``s = (obs_end - start) / (T_obs - 1)``,
    the window's ``T`` frames end at ``start + s (T - 1)``, rounded up (a resampled clock's frame numbers are
    rounded, so this errs on the side of a later end). Windows without ``obs_end_frame`` count 10 Hz frames.
    """
    starts = windows.meta["start_frame"].to_numpy().astype(np.float64)
    length = windows.states.shape[1]
    if "obs_end_frame" not in windows.meta.columns or windows.obs_len < 2:
        return starts + length - 1
    obs_ends = windows.meta["obs_end_frame"].to_numpy().astype(np.float64)
    per_step = (obs_ends - starts) / (windows.obs_len - 1)
    return np.ceil(starts + per_step * (length - 1) - 1e-9)


class WindowDataModule(L.LightningDataModule):
    """Feeds ``torch_geometric.data.Batch`` objects of window graphs to training and validation (``mirror``: each
    training window mirrored left/right with probability 1/2; validation is never augmented)."""

    def __init__(
        self,
        train: TrajectoryWindows,
        val: TrajectoryWindows | None = None,
        batch_size: int = 32,
        edges: EdgeKind = "complete",
        seed: int = 0,
        mirror: bool = False,
    ) -> None:
        super().__init__()
        if batch_size < 1:
            raise InvalidParameterError(f"batch_size must be at least 1, got {batch_size}")
        self.train_windows, self.val_windows = train, val
        self.batch_size, self.edges, self.seed, self.mirror = batch_size, edges, seed, mirror

    def _loader(self, windows: TrajectoryWindows, shuffle: bool, mirror: bool = False) -> DataLoader:
        generator = torch.Generator().manual_seed(self.seed)
        return DataLoader(
            WindowGraphs(windows, self.edges, mirror=mirror, seed=self.seed),
            batch_size=self.batch_size,
            shuffle=shuffle,
            collate_fn=batch_windows,
            generator=generator,
        )

    def train_dataloader(self) -> DataLoader[Batch]:
        return self._loader(self.train_windows, shuffle=True, mirror=self.mirror)

    def val_dataloader(self) -> DataLoader[Batch] | list:
        return [] if self.val_windows is None else self._loader(self.val_windows, shuffle=False)
