"""Left/right mirror augmentation on REAL Last Row windows, the cosine schedule and keep-best in the training loop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from soccerai.errors import InvalidParameterError
from soccerai.models import TrajectoryBatch, build_model
from soccerai.training.datamodule import WindowDataModule
from soccerai.training.loop import TrainConfig, fit_model
from soccerai.windows.sources import lastrow_clip_windows, mirror_left_right


@pytest.fixture(scope="module")
def windows(clips_dir: Path):
    return lastrow_clip_windows(clips_dir / "lastrow" / "LIV_[2]-1_CHE.csv", obs_len=5, pred_len=5, stride=3)


def test_mirror_flips_y_keeps_the_attack_and_is_an_involution(windows) -> None:
    mirrored = mirror_left_right(windows)
    tracked = windows.mask
    assert np.array_equal(mirrored.states[..., [0, 2]], windows.states[..., [0, 2]])  # x, vx: attack still +x
    assert np.array_equal(mirrored.states[..., [1, 3]][tracked], -windows.states[..., [1, 3]][tracked])
    assert np.array_equal(mirrored.mask, windows.mask) and mirrored.simulated == windows.simulated
    assert np.abs(windows.states[..., 1][tracked]).max() > 1.0  # the clip has width to mirror
    twice = mirror_left_right(mirrored)
    assert np.array_equal(twice.states, windows.states) and np.array_equal(twice.is_goalkeeper, windows.is_goalkeeper)


def test_loss_on_a_mirrored_batch_is_finite_and_close_to_the_original(windows) -> None:
    torch.manual_seed(0)
    model = build_model("gvrnn", {"hidden": 16, "latent": 4}).eval()
    losses = []
    for source in (windows, mirror_left_right(windows)):
        torch.manual_seed(1)
        with torch.no_grad():
            losses.append(float(model.loss(TrajectoryBatch.from_windows(source))["loss"]))
    assert all(np.isfinite(losses))
    assert losses[0] != losses[1]  # the model sees a different scene ...
    assert abs(losses[0] - losses[1]) < 0.5 * abs(losses[0])  # ... of the same kind


def test_training_feed_mirrors_about_half_the_windows_and_validation_none(windows) -> None:
    mirrored = mirror_left_right(windows)
    data = WindowDataModule(windows, windows, batch_size=8, mirror=True, seed=3)
    flips = []
    for data_batch in data.train_dataloader():
        batch = data_batch.batch
        for row, index in enumerate(data_batch.windows.tolist()):
            same = torch.equal(batch.states[row], torch.as_tensor(windows.states[index]))
            flipped = torch.equal(batch.states[row], torch.as_tensor(mirrored.states[index]))
            assert same != flipped  # exactly one of the two
            flips.append(flipped)
    assert 0.2 < np.mean(flips) < 0.8 and len(flips) == len(windows)
    for data_batch in data.val_dataloader():
        batch, index = data_batch.batch, data_batch.windows.tolist()
        assert torch.equal(batch.states, torch.as_tensor(windows.states[index]))
        assert torch.equal(batch.mask, torch.as_tensor(windows.mask[index])) and batch.edge_index is None


def test_cosine_schedule_and_keep_best(windows) -> None:
    config = TrainConfig(epochs=-1, max_steps=6, batch_size=8, learning_rate=1e-2, accelerator="cpu",
                         lr_schedule="cosine", keep_best=True, val_every_steps=2, patience=10)
    result = fit_model("vrnn", {"hidden": 16, "latent": 4}, windows, windows.subset([0, 1, 2]), config)
    assert result.steps == 6 and result.best_step in (2, 4, 6)
    vals = [h["val_loss"] for h in result.history if "val_loss" in h]
    assert result.best_val_loss == pytest.approx(min(vals))
    with pytest.raises(InvalidParameterError, match="lr_schedule"):
        fit_model("vrnn", {"hidden": 16}, windows, None, TrainConfig(lr_schedule="linear"))
    with pytest.raises(InvalidParameterError, match="known step count"):
        fit_model("vrnn", {"hidden": 16}, windows, None, TrainConfig(epochs=-1, max_time_s=5, lr_schedule="cosine"))
