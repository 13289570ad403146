"""Training on a real Last Row slice reduces the loss; checkpoints round-trip and refuse tampering."""

from __future__ import annotations

import json
from pathlib import Path

import lightning as L
import pytest
import torch

from soccerai.checkpoint import CONFIG_FILE, WEIGHTS_FILE, load_checkpoint, manifest_hash, save_checkpoint
from soccerai.datamodule import lastrow_clip_windows, split_windows
from soccerai.errors import CheckpointError
from soccerai.models import TrajectoryBatch, build_model
from soccerai.train import TrainConfig, fit_model, train_and_save

SMALL = {"hidden": 16, "latent": 4}


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
    record["manifest_sha256"] = manifest_hash(record)  # a consistent manifest, so the shape check is reached
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


# -- stored canonical matches (SIMULATED, short) ----------------------------------------------------------------
@pytest.fixture(scope="module")
def stored_simulated_match(tmp_path_factory) -> Path:
    from soccerai.store import write_match
    from soccerai.synth import synthesize_match

    path = tmp_path_factory.mktemp("simulated") / "synth [short].parquet"
    return write_match(synthesize_match(None, seed=1, duration_s=240), path)


def test_stored_match_windows_train_and_the_validation_loss_falls(stored_simulated_match: Path) -> None:
    from soccerai.datamodule import load_windows

    windows = load_windows([stored_simulated_match], obs_len=10, pred_len=10, stride=20)
    assert windows.simulated and len(windows) >= 8 and windows.states.shape[1:] == (20, 23, 4)
    assert windows.meta["match_id"].n_unique() == 1
    train, val = split_windows(windows, 0.25)
    assert train.meta["start_frame"].max() + 20 <= val.meta["start_frame"].min() or \
        set(train.meta["period"]) != set(val.meta["period"])
    config = TrainConfig(epochs=3, batch_size=8, learning_rate=5e-3, val_every_steps=3, max_time_s=60)
    result = fit_model("gvrnn", dict(SMALL), train, val, config)
    val_losses = [h["val_loss"] for h in result.history if "val_loss" in h]
    assert len(val_losses) >= 3 and val_losses[-1] < val_losses[0], val_losses


def test_parquet_that_is_not_a_soccerai_match_is_refused(tmp_path: Path) -> None:
    import polars as pl

    from soccerai.datamodule import load_windows
    from soccerai.errors import InvalidInputError

    path = tmp_path / "other.parquet"
    pl.DataFrame({"a": [1, 2]}).write_parquet(path)
    with pytest.raises(InvalidInputError, match="other.parquet"):
        load_windows([path], 20, 40, 10)


def test_cli_train_and_evaluate_on_a_stored_match(stored_simulated_match: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from soccerai.cli import app

    runner = CliRunner()
    ckpt = tmp_path / "gvrnn"
    windows = ["--obs", "20", "--horizon", "40", "--stride", "60"]
    result = runner.invoke(app, ["train", str(stored_simulated_match), "--model", "gvrnn", "--epochs", "1",
                                 "--hidden", "8", "--latent", "2", "--out", str(ckpt), *windows])
    assert result.exit_code == 0, result.output
    assert "simulated" in result.output
    result = runner.invoke(app, ["evaluate", str(stored_simulated_match), "--checkpoint", str(ckpt),
                                 "--samples", "2", *windows])
    assert result.exit_code == 0, result.output
    flat = "".join(result.output.split())
    assert "simulatedtracking" in flat and "constant" in flat
    _, record = load_checkpoint(ckpt)
    assert record["model"] == "gvrnn" and record["metadata"]["simulated"] is True


def test_cli_passes_each_model_only_the_settings_its_config_has() -> None:
    from soccerai.commands.forecast import _model_config
    from soccerai.models import build_model

    wanted = {"hidden": 16, "latent": 4, "horizon": 40}
    assert _model_config("ae", wanted) == {"hidden": 16, "horizon": 40}
    assert _model_config("gvrnn", wanted) == {"hidden": 16, "latent": 4}
    for name in ("ae", "vae", "transformer", "gvrnn", "constant_velocity"):
        build_model(name, _model_config(name, wanted))  # every registered model accepts what the CLI passes
