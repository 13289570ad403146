"""Training on a real Last Row slice reduces the loss; checkpoints round-trip and refuse tampering."""

from __future__ import annotations

import json
from pathlib import Path

import lightning as L
import pytest
import torch

from soccerai.data.store import read_metadata
from soccerai.errors import CheckpointError
from soccerai.models import TrajectoryBatch, build_model
from soccerai.training.checkpoint import (
    CONFIG_FILE,
    WEIGHTS_FILE,
    load_checkpoint,
    manifest_hash,
    save_checkpoint,
)
from soccerai.training.loop import TrainConfig, fit_model, train_and_save
from soccerai.windows.sources import lastrow_clip_windows, split_windows

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


def test_checkpoints_write_their_provenance_and_one_without_it_is_refused(tmp_path: Path) -> None:
    save_checkpoint(build_model("gvrnn", dict(SMALL)), tmp_path, {"fps": 99.0, "source": "test"})
    record = json.loads((tmp_path / CONFIG_FILE).read_text())
    meta = record["metadata"]
    assert meta["fps"] == 10.0 and meta["n_agents"] == 23 and meta["commit"] and meta["source"] == "test"
    del meta["commit"], meta["fps"]
    record["manifest_sha256"] = manifest_hash(record)  # consistent, so only the provenance is missing
    (tmp_path / CONFIG_FILE).write_text(json.dumps(record))
    with pytest.raises(CheckpointError, match="lacks provenance fps, commit"):
        load_checkpoint(tmp_path)


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


def _split_clip(clip: Path, folder: Path, fraction: float = 0.6) -> tuple[Path, Path]:
    """The clip's first ``fraction`` of frames and the rest, as two Last Row CSV files (no frame in both)."""
    import polars as pl

    rows = pl.read_csv(clip, glob=False)
    cut = int(rows["frame"].min() + fraction * (rows["frame"].max() - rows["frame"].min()))
    early, late = folder / "early.csv", folder / "late.csv"
    rows.filter(pl.col("frame") < cut).write_csv(early)
    rows.filter(pl.col("frame") >= cut).write_csv(late)
    return early, late


def _table_rows(output: str, model: str) -> list[list[float]]:
    """The numbers on the rows of a printed table (rich on a terminal, markdown in a pipe) whose first cell is ``model``."""
    rows = []
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().replace("|", "│").strip("│┃").split("│")]
        if cells and cells[0] == model:
            rows.append([float(c) for c in cells if c.replace(".", "", 1).isdigit()])
    return rows


def test_cli_train_on_early_play_evaluate_and_predict_on_later_play(clips_dir: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np
    import polars as pl
    from typer.testing import CliRunner

    from soccerai.cli.app import app
    from soccerai.cli.commands import forecast

    monkeypatch.setattr(forecast.console, "width", 240)  # one table row per line
    early, late = _split_clip(clips_dir / "lastrow" / "LIV_[2]-1_CHE.csv", tmp_path)
    short = ["--obs", "5", "--horizon", "5", "--stride", "4"]
    runner = CliRunner()
    ckpt = tmp_path / "vrnn"
    result = runner.invoke(app, ["train", str(early), "--model", "vrnn", "--epochs", "1", "--hidden", "8",
                                 "--latent", "2", "--out", str(ckpt), "--val-fraction", "0.3", *short])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["evaluate", str(late), "--checkpoint", str(ckpt), "--samples", "2", *short])
    assert result.exit_code == 0, result.output
    errors = result.output.split("plausibility")[0]  # the forecast-error table (the motion table follows)
    vrnn, constant = _table_rows(errors, "vrnn"), _table_rows(errors, "constant_velocity")
    assert len(vrnn) == len(constant) >= 3  # full scene players and ball, ghosting
    for row in vrnn + constant:
        assert row and all(np.isfinite(v) and 0 < v < 80 for v in row), row
    assert vrnn != constant, "the checkpoint was not what evaluate scored"
    out = tmp_path / "futures [x].parquet"
    result = runner.invoke(app, ["predict", str(late), "--checkpoint", str(ckpt), "--out", str(out),
                                 "--samples", "2", *short])
    assert result.exit_code == 0, result.output
    futures = pl.read_parquet(out, glob=False)
    assert futures["sample"].n_unique() == 2 and futures["step"].max() == 5 and not futures["simulated"].any()
    windows = lastrow_clip_windows(late, obs_len=5, pred_len=5, stride=4)
    assert futures["window_id"].n_unique() == len(windows)
    first = futures.filter((pl.col("step") == 1) & pl.col("predicted")).sort("window_id", "sample", "agent")
    index = {w: i for i, w in enumerate(windows.meta["window_id"].to_list())}
    rows, agents = first["window_id"].replace_strict(index).to_numpy(), first["agent"].to_numpy()
    last_seen = windows.states[rows, windows.obs_len - 1, agents, :2]
    truth = windows.states[rows, windows.obs_len, agents, :2]
    tracked = windows.mask[rows, windows.obs_len - 1, agents] & windows.mask[rows, windows.obs_len, agents]
    step = np.linalg.norm(first.select("x", "y").to_numpy() - last_seen, axis=1)[tracked]
    assert np.isfinite(step).all() and np.median(step) < 3.0  # 0.1 s after the last observed frame
    error = np.linalg.norm(first.select("x", "y").to_numpy() - truth, axis=1)[tracked]
    assert error.mean() > 1e-3, "the forecast equals the true future: it was leaked"


# -- stored canonical matches (SIMULATED, short) ----------------------------------------------------------------
@pytest.fixture(scope="module")
def stored_simulated_match(tmp_path_factory) -> Path:
    from soccerai.data.store import write_match
    from soccerai.synth import synthesize_match

    path = tmp_path_factory.mktemp("simulated") / "synth [short].parquet"
    return write_match(synthesize_match(None, seed=1, duration_s=240), path)


def test_stored_match_windows_train_and_the_validation_loss_falls(stored_simulated_match: Path) -> None:
    from soccerai.windows.sources import load_windows

    windows = load_windows([stored_simulated_match], obs_len=10, pred_len=10, stride=20)
    assert windows.simulated and len(windows) >= 8 and windows.states.shape[1:] == (20, 23, 4)
    assert windows.meta["match_id"].n_unique() == 1
    train, val = split_windows(windows, 0.25)
    assert not _shared_frames(train, val, stored_simulated_match)
    config = TrainConfig(epochs=3, batch_size=8, learning_rate=5e-3, val_every_steps=3, max_time_s=60)
    result = fit_model("gvrnn", dict(SMALL), train, val, config)
    val_losses = [h["val_loss"] for h in result.history if "val_loss" in h]
    assert len(val_losses) >= 3 and val_losses[-1] < val_losses[0], val_losses


def _shared_frames(train, val, match_path: Path) -> list[tuple[int, int, int]]:
    """(period, train start, validation start) of window pairs that share a source frame.

    A window covers ``T`` frames at 10 Hz, i.e. ``(T - 1) / 10`` s, which is that times the source rate in the
    source frames ``start_frame`` counts (25 Hz for the simulator)."""
    span = (train.states.shape[1] - 1) / 10 * read_metadata(match_path).frame_rate

    def starts(part):
        return list(zip(part.meta["period"].to_list(), part.meta["start_frame"].to_list(), strict=True))

    return [(p, a, b) for p, a in starts(train) for q, b in starts(val) if p == q and a <= b + span and b <= a + span]


def test_overlapping_windows_are_split_without_sharing_a_frame(stored_simulated_match: Path) -> None:
    """Windows every 0.5 s, 2 s long: each overlaps its neighbours, so a split by start alone would share frames."""
    from soccerai.windows.sources import load_windows

    windows = load_windows([stored_simulated_match], obs_len=10, pred_len=10, stride=5)
    train, val = split_windows(windows, 0.25)
    assert len(train) >= 10 and len(val) >= 5
    assert _shared_frames(train, val, stored_simulated_match) == []


def test_parquet_that_is_not_a_soccerai_match_is_refused(tmp_path: Path) -> None:
    import polars as pl

    from soccerai.errors import InvalidInputError
    from soccerai.windows.sources import load_windows

    path = tmp_path / "other.parquet"
    pl.DataFrame({"a": [1, 2]}).write_parquet(path)
    with pytest.raises(InvalidInputError, match="other.parquet"):
        load_windows([path], 20, 40, 10)


def test_cli_train_and_evaluate_on_a_stored_match(stored_simulated_match: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from soccerai.cli.app import app

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
    from soccerai.cli.commands.forecast import _model_config
    from soccerai.models import build_model

    wanted = {"hidden": 16, "latent": 4, "horizon": 40}
    assert _model_config("ae", wanted) == {"hidden": 16, "horizon": 40}
    assert _model_config("gvrnn", wanted) == {"hidden": 16, "latent": 4}
    for name in ("ae", "vae", "transformer", "gvrnn", "constant_velocity"):
        build_model(name, _model_config(name, wanted))  # every registered model accepts what the CLI passes
