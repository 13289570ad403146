"""The latent temperature (VRNNConfig.latent_temperature) and its calibration by the energy score
(soccerai.training.calibrate), on REAL Last Row windows."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from soccerai.errors import CheckpointError, InvalidParameterError
from soccerai.evaluate.metrics import forecast
from soccerai.models.registry import build_model
from soccerai.training import recipe
from soccerai.training.calibrate import fit_temperature
from soccerai.training.checkpoint import load_checkpoint, save_checkpoint
from soccerai.windows.sources import lastrow_test_set


@pytest.fixture(scope="module")
def lastrow():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lastrow_test_set(stride=10)


def _model(**overrides):
    torch.manual_seed(0)
    return build_model("gvrnn", {"hidden": 16, "latent": 4, **overrides}).eval()


def _endpoint_spread(samples: torch.Tensor, valid: torch.Tensor) -> float:
    ends = samples[:, :, -1]  # [S, W, N, 2]
    spread = (ends - ends.mean(0, keepdim=True)).norm(dim=-1)  # [S, W, N]
    return float(spread[:, valid[:, -1]].mean())


def test_temperature_scales_the_prior_draws_and_one_changes_nothing(lastrow):
    model = _model()
    base, _, valid = forecast(model, lastrow, n_samples=8, seed=3)
    model.config.latent_temperature = 1.0
    again, _, _ = forecast(model, lastrow, n_samples=8, seed=3)
    assert torch.equal(base, again)
    model.config.latent_temperature = 3.0
    wide, _, _ = forecast(model, lastrow, n_samples=8, seed=3)
    assert _endpoint_spread(wide, valid) > 1.5 * _endpoint_spread(base, valid)


def test_fit_temperature_picks_the_lowest_energy_score_and_sets_it(lastrow):
    model = _model()
    calibration = fit_temperature(model, lastrow, grid=(0.5, 1.0, 4.0), n_samples=6)
    energies = {row["temperature"]: row["energy"] for row in calibration.rows}
    assert set(energies) == {0.5, 1.0, 4.0} and all(np.isfinite(list(energies.values())))
    assert calibration.temperature == min(energies, key=energies.get) == model.config.latent_temperature
    spreads = [row["spread_4s"] for row in calibration.rows]
    assert spreads == sorted(spreads) and spreads[0] < spreads[-1]  # a hotter prior spreads the samples
    with pytest.raises(InvalidParameterError, match="grid"):
        fit_temperature(model, lastrow, grid=())
    with pytest.raises(InvalidParameterError, match="no latent temperature"):
        fit_temperature(build_model("constant_velocity", {}), lastrow)


def test_absurd_or_tampered_temperature_is_refused(tmp_path):
    for bad in (0.0, -1.0, 50.0):
        with pytest.raises(InvalidParameterError, match="latent_temperature"):
            _model(latent_temperature=bad)
    model = _model(latent_temperature=1.4)
    save_checkpoint(model, tmp_path / "ok", {"matches": ["x"]})
    loaded, _ = load_checkpoint(tmp_path / "ok")
    assert loaded.config.latent_temperature == 1.4
    # a config that says 50 (written through the normal path, so only the range check can catch it)
    model.config.latent_temperature = 50.0
    save_checkpoint(model, tmp_path / "hot", {"matches": ["x"]})
    with pytest.raises(CheckpointError, match="latent_temperature"):
        load_checkpoint(tmp_path / "hot")


def test_calibrate_only_refuses_a_corrupt_checkpoint_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "manifest.json").write_text("{not json")
    code = recipe.main(["--out", str(bad), "--calibrate-only"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: cannot calibrate") and "\n" not in err
    assert (bad / "manifest.json").read_text() == "{not json"
