"""Issue #27: the GVRNN's rollout / best-of-K / energy terms, mean aggregation, player dropout, honest metrics,
the causal velocity of re-appearing agents, and the recipe's resume (on REAL Last Row windows)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch

from soccerai.errors import CheckpointError
from soccerai.evaluate.metrics import endpoint_spread_coverage, energy_score
from soccerai.models.base import TrajectoryBatch
from soccerai.models.baselines import DampedConstantVelocity, fit_damping
from soccerai.models.complete_graph import CompleteGraph
from soccerai.models.layers import MPNNBlock
from soccerai.models.registry import build_model
from soccerai.models.vrnn import drop_players, kinematic_states
from soccerai.training.checkpoint import load_checkpoint, save_checkpoint
from soccerai.training.pretrained import check_compatible
from soccerai.windows.container import agent_roles
from soccerai.windows.sources import lastrow_test_set


@pytest.fixture(scope="module")
def lastrow_batch() -> TrajectoryBatch:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        windows = lastrow_test_set(stride=10)
    return TrajectoryBatch.from_windows(windows)


def _small(**overrides):
    config = {"hidden": 16, "latent": 4, "rollout_steps": 20, "rollout_samples": 3, "player_dropout": 0.0,
              "rollout_weight": 0.0, "variety_weight": 0.0, "energy_weight": 0.0, **overrides}
    return build_model("gvrnn", config)


@pytest.mark.parametrize("term, weight", [("rollout_ade", "rollout_weight"), ("variety", "variety_weight"),
                                          ("energy", "energy_weight")])
def test_each_rollout_term_is_finite_and_decreases(lastrow_batch, term, weight):
    torch.manual_seed(0)
    model = _small(**{weight: 1.0})
    optimiser = torch.optim.Adam(model.parameters(), lr=5e-3)

    def measured() -> float:
        torch.manual_seed(123)  # the same draws before and after training
        with torch.no_grad():
            return float(model.rollout_terms(lastrow_batch, 20, 3)[term])

    before = measured()
    assert np.isfinite(before)
    for _ in range(8):
        losses = model.loss(lastrow_batch)
        assert all(torch.isfinite(v) for v in losses.values())
        optimiser.zero_grad()
        losses["loss"].backward()
        optimiser.step()
    after = measured()
    assert np.isfinite(after) and after < before, (term, before, after)


def test_rollout_terms_reach_the_loss_only_when_weighted(lastrow_batch):
    torch.manual_seed(0)
    plain = _small()
    assert set(plain.loss(lastrow_batch)) == {"loss", "nll", "kl"}
    weighted = _small(energy_weight=1.0)
    out = weighted.loss(lastrow_batch)
    assert {"rollout_ade", "variety", "energy"} <= set(out)
    assert float(out["loss"].detach()) > float(out["nll"] + out["kl"]) - 1e-4


def test_mean_aggregation_is_invariant_to_duplicated_neighbours():
    torch.manual_seed(0)
    block = MPNNBlock(5, 8, 3, aggregation="mean")
    receiver, sender = torch.randn(1, 5), torch.randn(1, 5)
    outputs = []
    for copies in (1, 3, 10):
        x = torch.cat([receiver, sender.repeat(copies, 1)])  # one receiver, `copies` identical senders
        present = torch.ones(1, 1 + copies, dtype=torch.bool)
        dense = block(x, CompleteGraph(present))[0]
        edges = torch.stack([torch.arange(1, 1 + copies), torch.zeros(copies, dtype=torch.long)])
        sparse = block(x, edges)[0]
        torch.testing.assert_close(dense, sparse, atol=1e-5, rtol=1e-5)
        outputs.append(dense)
    for other in outputs[1:]:
        torch.testing.assert_close(outputs[0], other, atol=1e-5, rtol=1e-5)
    summed = MPNNBlock(5, 8, 3, aggregation="sum")
    summed.load_state_dict(block.state_dict())
    one = summed(torch.cat([receiver, sender]), CompleteGraph(torch.ones(1, 2, dtype=torch.bool)))[0]
    ten = summed(torch.cat([receiver, sender.repeat(10, 1)]), CompleteGraph(torch.ones(1, 11, dtype=torch.bool)))[0]
    assert not torch.allclose(one, ten, atol=1e-3)  # the sum is not: why the shipped default is mean


def test_player_dropout_keeps_at_least_six_present(lastrow_batch):
    roles = lastrow_batch.roles
    obs = lastrow_batch.obs_len
    before = (lastrow_batch.mask[:, obs - 1] & (roles != 2)).sum(1)
    generator = torch.Generator().manual_seed(0)
    dropped_any = False
    for _ in range(20):
        mask = drop_players(lastrow_batch.mask, obs, roles, 0.9, 6, generator)
        after = (mask[:, obs - 1] & (roles != 2)).sum(1)
        assert bool((after >= torch.clamp(before, max=6)).all())
        assert bool((mask <= lastrow_batch.mask).all())  # only removes
        assert bool((mask[..., roles == 2] == lastrow_batch.mask[..., roles == 2]).all())  # the ball stays
        dropped_any |= bool((after < before).any())
    assert dropped_any
    few = lastrow_batch.mask.clone()
    few[:, :, 4:22] = False  # 4 players present: none may be dropped below min(6, 4)
    kept = drop_players(few, obs, roles, 1.0, 6, generator)
    assert bool((kept == few).all())


def test_old_checkpoint_keeps_its_config_and_aggregation_can_be_demanded(tmp_path):
    model = build_model("gvrnn", {"hidden": 8, "latent": 2, "aggregation": "sum"})
    save_checkpoint(model, tmp_path, {"matches": ["x"]})
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    # a checkpoint written before issue #27 lacks the new loss fields: they take their defaults; aggregation stays
    old_keys = {"hidden", "latent", "encoder", "kl_weight", "decoder_noise", "residual_velocity", "aggregation"}
    assert old_keys <= set(manifest["config"])
    loaded, record = load_checkpoint(tmp_path)
    assert loaded.config.aggregation == "sum"
    check_compatible(record)
    check_compatible(record, aggregation="sum")
    with pytest.raises(CheckpointError, match="aggregation"):
        check_compatible(record, aggregation="mean")


def test_shipped_default_loads():
    from soccerai.training import pretrained

    model, record = pretrained.load(pretrained.DEFAULT_MODEL)
    assert record["metadata"]["fps"] == 10.0
    assert model.config.aggregation in ("sum", "mean")


def test_energy_score_and_coverage_by_hand():
    truth = torch.zeros(1, 2, 1, 2)
    valid = torch.ones(1, 2, 1, dtype=torch.bool)
    samples = torch.zeros(2, 1, 2, 1, 2)
    samples[0, ..., 0] = 1.0  # sample 0 one metre off at both frames, sample 1 exact
    es = energy_score(samples, truth, valid)
    # |X0 - y| = sqrt(2), |X1 - y| = 0, |X0 - X1| = sqrt(2): ES = sqrt(2)/2 - sqrt(2)/2 = 0, over sqrt(2) frames
    assert es[0] == pytest.approx(0.0, abs=1e-9)
    deterministic = energy_score(samples[:1], truth, valid)
    assert deterministic[0] == pytest.approx(1.0)  # RMS error of a single forecast
    spread, cover, count = endpoint_spread_coverage(samples, truth, valid[:, -1], 1)
    assert count[0] == 1 and spread[0] == pytest.approx(0.5) and cover[0] == 1.0


def test_damping_is_fitted_on_training_windows(lastrow_batch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        windows = lastrow_test_set(stride=10)
    gamma = fit_damping(windows)
    assert 0.5 <= gamma <= 1.05
    assert isinstance(DampedConstantVelocity(gamma).gamma, float)


def test_reappearing_agent_velocity_reads_no_future():
    states = torch.zeros(1, 3, 2, 4)
    states[0, :, 0, 0] = torch.tensor([0.0, 1.0, 2.0])
    states[0, 2, 1, 2:4] = torch.tensor([9.0, 9.0])  # a centred-smoothing velocity at its first tracked frame
    mask = torch.tensor([[[True, False], [True, False], [True, True]]])
    out = kinematic_states(states, mask)
    assert out[0, 2, 0, 2] == pytest.approx(10.0)  # backward difference for the tracked agent
    assert torch.equal(out[0, 2, 1, 2:4], torch.zeros(2))  # re-appearing at the last frame: unknown, not the future


def test_player_roles_layout():
    roles = torch.as_tensor(agent_roles())
    assert int((roles == 2).sum()) == 1 and int((roles == 0).sum()) == 11


@pytest.mark.slow
@pytest.mark.parametrize("folder", ["skillcorner", "hawkeye"])
def test_cached_and_uncached_matches_give_the_same_test_set(tmp_path, monkeypatch, folder):
    """Bug (a) of issue #27: the 10 Hz cache once dropped ``speed_flag``; the windows of the cached match (read back
    from parquet) must equal those of the match read from the provider files."""
    from soccerai.config import data_dir
    from soccerai.windows import sources

    path = data_dir() / (sources.SKILLCORNER if folder == "skillcorner" else sources.HAWKEYE)
    monkeypatch.setenv("SOCCERAI_OUT_DIR", str(tmp_path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fresh = sources.real_match_10hz(path, cache=False)
        sources.real_match_10hz(path, cache=True)  # writes the cache
        cached = sources.real_match_10hz(path, cache=True)  # reads it back
        a = sources._windows(fresh, 20, 40, 20, sources.MIN_PLAYERS, "fresh")
        b = sources._windows(cached, 20, 40, 20, sources.MIN_PLAYERS, "cached")
    assert len(a) == len(b) > 0
    np.testing.assert_allclose(a.states, b.states, atol=1e-5)
    assert np.array_equal(a.mask, b.mask)


def test_recipe_refuses_a_corrupt_checkpoint_in_one_line(tmp_path, capsys):
    from soccerai.training import recipe

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "manifest.json").write_text("{not json")
    (bad / "model.safetensors").write_bytes(b"garbage")
    code = recipe.main(["--out", str(tmp_path / "out"), "--work", str(tmp_path / "work"), "--resume", str(bad)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: cannot resume from") and "\n" not in err
    assert (bad / "manifest.json").read_text() == "{not json" and (bad / "model.safetensors").is_file()
    assert not (tmp_path / "out").exists()
    foreign = tmp_path / "foreign"
    save_checkpoint(build_model("vrnn", {"hidden": 8, "latent": 2}), foreign, {"matches": ["x"]})
    code = recipe.main(["--out", str(tmp_path / "out"), "--work", str(tmp_path / "work"), "--resume", str(foreign)])
    assert code == 2 and "gvrnn" in capsys.readouterr().err
