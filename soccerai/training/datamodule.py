"""The Lightning data module that feeds model windows to training as :class:`~soccerai.models.base.TrajectoryBatch`
tensors, straight from :class:`~soccerai.windows.container.TrajectoryWindows` (no graphs: a model that needs one
builds it from the batch, :mod:`soccerai.models.graph`).

The windows come from :mod:`soccerai.windows.sources` (clips, stored matches, splits, the mirror augmentation).
:class:`WindowFeed` is a dataset of window indices whose ``collate`` stacks the windows of a batch
(:meth:`TrajectoryBatch.from_windows`); with ``mirror=True`` (:class:`soccerai.training.loop.TrainConfig` turns it on
by default) each training window is fed mirrored left/right (:func:`soccerai.windows.sources.mirror_left_right`)
with probability 1/2; validation windows are never mirrored.
"""

from __future__ import annotations

from dataclasses import dataclass

import lightning as L
import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from soccerai.errors import InvalidParameterError
from soccerai.models.base import TrajectoryBatch
from soccerai.windows.container import TrajectoryWindows
from soccerai.windows.sources import mirror_left_right


@dataclass
class WindowBatch:
    """One batch of the feed: the tensors the models read and which windows they are (indices into the feed's
    windows, the same whether or not a window was mirrored)."""

    batch: TrajectoryBatch
    windows: Tensor  # long [B]

    def to(self, device: torch.device | str) -> WindowBatch:
        return WindowBatch(self.batch.to(device), self.windows.to(device))


class WindowFeed(Dataset[tuple[int, bool]]):
    """Window indices for a ``DataLoader``, whose ``collate_fn`` is :meth:`collate`.

    With ``mirror=True`` each access draws, from a generator seeded with ``seed`` (reproducible with the loader's
    seeded shuffle), whether the window is fed mirrored left/right (:func:`mirror_left_right`), with probability 1/2.
    """

    def __init__(self, windows: TrajectoryWindows, mirror: bool = False, seed: int = 0) -> None:
        self.windows = windows
        self.mirrored = mirror_left_right(windows) if mirror else None
        self._rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> tuple[int, bool]:
        return index, self.mirrored is not None and bool(self._rng.random() < 0.5)

    def collate(self, items: list[tuple[int, bool]]) -> WindowBatch:
        """The windows of ``items`` as one :class:`WindowBatch` (mirrored where drawn)."""
        index = np.array([i for i, _ in items], dtype=np.int64)
        flipped = np.array([f for _, f in items], dtype=bool)
        batch = TrajectoryBatch.from_windows(self.windows, index)
        if self.mirrored is not None and flipped.any():
            batch.states[torch.from_numpy(flipped)] = torch.as_tensor(self.mirrored.states[index[flipped]])
        return WindowBatch(batch, torch.from_numpy(index))


class WindowDataModule(L.LightningDataModule):
    """Feeds :class:`WindowBatch` tensors to training and validation (``mirror``: each training window mirrored
    left/right with probability 1/2; validation is never augmented)."""

    def __init__(
        self,
        train: TrajectoryWindows,
        val: TrajectoryWindows | None = None,
        batch_size: int = 32,
        seed: int = 0,
        mirror: bool = False,
    ) -> None:
        super().__init__()
        if batch_size < 1:
            raise InvalidParameterError(f"batch_size must be at least 1, got {batch_size}")
        self.train_windows, self.val_windows = train, val
        self.batch_size, self.seed, self.mirror = batch_size, seed, mirror

    def _loader(self, windows: TrajectoryWindows, shuffle: bool, mirror: bool = False) -> DataLoader:
        generator = torch.Generator().manual_seed(self.seed)
        feed = WindowFeed(windows, mirror=mirror, seed=self.seed)
        return DataLoader(feed, batch_size=self.batch_size, shuffle=shuffle, collate_fn=feed.collate,
                          generator=generator)

    def train_dataloader(self) -> DataLoader[WindowBatch]:
        return self._loader(self.train_windows, shuffle=True, mirror=self.mirror)

    def val_dataloader(self) -> DataLoader[WindowBatch] | list:
        return [] if self.val_windows is None else self._loader(self.val_windows, shuffle=False)
