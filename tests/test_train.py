"""Training on a real Last Row slice reduces the loss; checkpoints round-trip and refuse tampering."""

from __future__ import annotations

import json
from pathlib import Path

import lightning as L
import pytest
import torch

from soccerai.checkpoint import CONFIG_FILE, WEIGHTS_FILE, load_checkpoint, save_checkpoint
from soccerai.datamodule import lastrow_clip_windows, split_windows
from soccerai.errors import CheckpointError
from soccerai.models import TrajectoryBatch, build_model
from soccerai.train import TrainConfig, fit_model, train_and_save

SMALL = {"hidden": 16, "latent": 4}


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def windows(clips_dir: Path):
    return lastrow_clip_windows(clips_dir / "lastrow" / "LIV_[2]-1_CHE.csv", obs_len=5, pred_len=5, stride=3)


def _loss(model, batch: TrajectoryBatch) -> float:
    torch.manual_seed(123)
    with torch.no_grad():
        return float(model.loss(batch)["loss"])


@pytest.mark.parametrize("name", ["vrnn", "gvrnn"])
def test_a_few_steps_reduce_the_loss(name: str, windows) -> None:
    batch = TrajectoryBatch.from_windows(windows)
    L.seed_everything(0, verbose=False)
    before = _loss(build_model(name, dict(SMALL)), batch)  # the same initial weights fit_model builds
    result = fit_model(name, dict(SMALL), windows, None, TrainConfig(epochs=6, batch_size=8, learning_rate=5e-3))
    after = _loss(result.model, batch)
    assert after < 0.8 * before, (before, after)
    assert len(result.history) == 6 and result.sequences_per_second > 0


def test_train_and_save_writes_a_loadable_checkpoint(windows, tmp_path: Path) -> None:
    train, val = split_windows(windows, 0.25)
    config = TrainConfig(epochs=2, batch_size=8)
    result = train_and_save("gvrnn", dict(SMALL), train, val, config, tmp_path / "ckpt", {"source": "lastrow"})
    model, record = load_checkpoint(tmp_path / "ckpt")
    assert record["model"] == "gvrnn" and record["metadata"]["source"] == "lastrow"
    assert record["metadata"]["n_val_windows"] == len(val) and record["metadata"]["simulated"] is False
    history = TrajectoryBatch.from_windows(val).history()
    generator = lambda: torch.Generator().manual_seed(5)  # noqa: E731
    torch.testing.assert_close(model.sample(history, 5, 2, generator=generator()),
                               result.model.sample(history, 5, 2, generator=generator()))


def test_checkpoint_round_trip_is_exact(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = build_model("vrnn", dict(SMALL))
    save_checkpoint(model, tmp_path)
    loaded, _ = load_checkpoint(tmp_path)
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    assert loaded.config == model.config and not loaded.training


def test_tampered_weights_are_refused(tmp_path: Path) -> None:
    save_checkpoint(build_model("gvrnn", dict(SMALL)), tmp_path)
    raw = bytearray((tmp_path / WEIGHTS_FILE).read_bytes())
    raw[-3] ^= 0xFF
    (tmp_path / WEIGHTS_FILE).write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="sha256"):
        load_checkpoint(tmp_path)


def test_config_that_does_not_fit_the_weights_is_refused(tmp_path: Path) -> None:
    save_checkpoint(build_model("gvrnn", dict(SMALL)), tmp_path)
    record = json.loads((tmp_path / CONFIG_FILE).read_text())
    record["config"]["hidden"] = 32
    (tmp_path / CONFIG_FILE).write_text(json.dumps(record))
    with pytest.raises(CheckpointError, match="do not fit"):
        load_checkpoint(tmp_path)
    (tmp_path / CONFIG_FILE).write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "missing")


def test_cli_train_evaluate_predict(clips_dir: Path, tmp_path: Path) -> None:
    import polars as pl
    from typer.testing import CliRunner

    from soccerai.cli import app

    clip = str(clips_dir / "lastrow" / "LIV_[2]-1_CHE.csv")
    short = ["--obs", "5", "--horizon", "5", "--stride", "8"]
    runner = CliRunner()
    ckpt = tmp_path / "vrnn"
    result = runner.invoke(app, ["train", clip, "--model", "vrnn", "--epochs", "1", "--hidden", "8", "--latent", "2",
                                 "--out", str(ckpt), *short])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["evaluate", clip, "--checkpoint", str(ckpt), "--samples", "2", *short])
    assert result.exit_code == 0, result.output
    flat = "".join(result.output.split())
    assert "constant" in flat and "ghosting" in flat and "realtracking" in flat and "vrnn" in flat
    out = tmp_path / "futures [x].parquet"
    result = runner.invoke(app, ["predict", clip, "--checkpoint", str(ckpt), "--out", str(out), "--samples", "2", *short])
    assert result.exit_code == 0, result.output
    futures = pl.read_parquet(out, glob=False)
    assert futures["sample"].n_unique() == 2 and futures["step"].max() == 5 and not futures["simulated"].any()
