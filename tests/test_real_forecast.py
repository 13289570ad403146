"""Forecasting on the REAL SkillCorner match (slices of it): leak-free sets, partial visibility, the forecast table,
the shipped pretrained GVRNN, and bad input (one visible player, an empty test set, a 25 Hz checkpoint)."""

from __future__ import annotations

import json
import lzma
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from soccerai.errors import CheckpointError, InvalidInputError, InvalidParameterError
from soccerai.evaluate import forecast_table, metrics
from soccerai.models import TrajectoryBatch, build_model
from soccerai.models.base import hold_last_tracked
from soccerai.models.baselines import ConstantVelocity
from soccerai.training import pretrained
from soccerai.windows import cutter as window_cutter
from soccerai.windows import sources as datasets
from soccerai.windows.container import MIN_PLAYERS

FIRST_HALF_S, SECOND_HALF_S, VAL_S = 420, 300, 120


@pytest.fixture(scope="session")
def skillcorner_slice(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real slice of the SkillCorner match: the first 7 minutes of play of each half's tracked frames (first half)
    and 4 minutes of the second half, in SkillCorner's own files."""
    source = data_dir / datasets.SKILLCORNER
    frames = json.loads(lzma.open(source / "structured_data.json.xz").read())
    tracked = [f for f in frames if f["data"]]
    kept = []
    for period, seconds in ((1, FIRST_HALF_S), (2, SECOND_HALF_S)):
        first = next(f["frame"] for f in tracked if f["period"] == period)
        kept += [f for f in tracked if f["period"] == period and f["frame"] < first + seconds * 10]
    folder = tmp_path_factory.mktemp("skillcorner-slice")
    shutil.copy(source / "match_data.json", folder / "match_data.json")
    (folder / "structured_data.json").write_text(json.dumps(kept))
    return folder


@pytest.fixture(scope="session")
def real_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("real-cache")


@pytest.fixture()
def sets(skillcorner_slice: Path, real_cache: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SOCCERAI_OUT_DIR", str(real_cache))  # the 10 Hz slice is read once per session
    with pytest.warns(UserWarning, match="skipped"):
        return datasets.skillcorner_sets(skillcorner_slice, train_stride=10, test_stride=10, val_s=VAL_S)


def test_skillcorner_sets_share_no_frame_and_keep_a_window_apart(sets) -> None:
    train, val, test = sets
    assert len(train) > 10 and len(val) > 3 and len(test) > 10
    assert not (train.simulated or val.simulated or test.simulated)
    assert set(train.meta["period"]) == set(val.meta["period"]) == {1} and set(test.meta["period"]) == {2}
    train_frames = datasets.window_frames(train)
    for held_out in (val, test):
        assert not train_frames & datasets.window_frames(held_out)
    train_end = datasets.window_spans(train)[1].max()
    assert datasets.window_spans(val)[0].min() - train_end > train.states.shape[1]  # a window length apart
    datasets.check_separated(train, test, 60)
    with pytest.raises(InvalidParameterError, match="closer than"):
        datasets.check_separated(train, train.subset([0]), 60)
    # broadcast tracking: players leave the view, and they are masked with zero features, never a player at (0, 0)
    visible = train.mask[..., :22].sum(-1)
    assert visible.min() >= MIN_PLAYERS and visible.max() < 22
    assert np.all(train.states[~train.mask] == 0)


def test_window_cutter_default_keeps_broadcast_windows(skillcorner_slice: Path, real_cache: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """``make_windows`` with its defaults (the pipeline's and the demo's path) keeps REAL broadcast windows, where
    12-19 of the 22 players are in view: a default of 20 left the real match almost without windows."""
    monkeypatch.setenv("SOCCERAI_OUT_DIR", str(real_cache))
    match = datasets.real_match_10hz(skillcorner_slice)
    with pytest.warns(UserWarning, match="skipped"):
        windows = window_cutter.make_windows(match)
    visible = windows.mask[..., :22].sum(-1).min(-1)  # fewest players in view over each window
    assert len(windows) > 50 and (visible < 20).mean() > 0.9 and visible.min() >= MIN_PLAYERS


def test_hold_last_tracked_never_feeds_zeros() -> None:
    positions = torch.tensor([[[[1.0, 2.0]], [[0.0, 0.0]], [[3.0, 4.0]], [[0.0, 0.0]]]])  # [1, 4, 1, 2]
    mask = torch.tensor([[[True], [False], [True], [False]]])
    held = hold_last_tracked(positions, mask)
    assert held[0, :, 0].tolist() == [[1.0, 2.0], [1.0, 2.0], [3.0, 4.0], [3.0, 4.0]]


class _Spy(ConstantVelocity):
    """Constant velocity that records what the evaluation passes it."""

    def sample(self, history, horizon, n_samples, predict_mask=None, given_future=None, generator=None):
        self.seen = (history, predict_mask.clone(), given_future.clone())
        return super().sample(history, horizon, n_samples, predict_mask, given_future, generator)


def test_forecast_predicts_present_agents_scores_visible_frames_and_holds_given_ones(sets) -> None:
    test = sets[2]
    spy = _Spy()
    for scenario in metrics.SCENARIOS:
        samples, truth, valid = metrics.forecast(spy, test, scenario, n_samples=2, batch_size=len(test))
        history, predict, given = spy.seen
        present = history.mask[:, -1]
        future = torch.as_tensor(test.mask[:, test.obs_len:])
        assert not (predict & ~present).any()  # nobody absent at the last observed frame is forecast
        assert torch.equal(valid, future & predict[:, None])  # scored only where visible
        given_agents = (~predict & present)[:, None].expand_as(future)
        gone = given_agents & ~future
        if scenario == "ghosting":
            assert gone.any()  # given players do leave the camera view in this slice ...
        assert not (given[gone] == 0).all(dim=-1).any()  # ... and are held, never fed as (0, 0)


def test_forecast_table_on_the_real_test_half(sets) -> None:
    test = sets[2].subset(list(range(12)))
    models = {"gvrnn": build_model("gvrnn", {"hidden": 8, "latent": 4})}
    table = forecast_table.forecast_table(models, {"skillcorner_test": test}, n_samples=4, n_boot=200)
    assert table.height == 2 * 2 * 2 and set(table["tracking"]) == {"real"}
    numeric = table.select(forecast_table.pl.col(forecast_table.pl.Float64)).to_numpy()
    assert np.isfinite(numeric).all()  # never NaN in a table
    cv = table.filter(table["model"] == "constant_velocity")
    assert (cv["win_vs_cv"] == 0.5).all() and ((cv["min_ade_4_4s"] - cv["ade_1"]).abs() < 1e-9).all()
    assert ((table["min_ade_4_4s_lo"] <= table["min_ade_4_4s"]) & (table["min_ade_4_4s"] <= table["min_ade_4_4s_hi"])).all()
    assert (table["min_ade_4_1s"] < table["min_ade_4_4s"]).all()
    whole = table.filter(table["agents"] == "whole_window")
    visible = table.filter(table["agents"] == "visible")
    assert (whole["agent_windows"] <= visible["agent_windows"]).all()
    md = forecast_table.markdown(table, k=4)
    assert "OTHER protocols" in md and "MART" in md and md.count("\n|") > table.height


def test_window_errors_per_scene_and_per_agent_on_a_hand_case() -> None:
    # two samples, one window, 10 steps, two agents: sample 0 errs 1 m on agent 0 and 3 m on agent 1, sample 1 the
    # reverse order of quality (3 m, 1 m): per scene both samples average 2 m, per agent each agent's best is 1 m.
    truth = torch.zeros(1, 10, 2, 2)
    samples = torch.zeros(2, 1, 10, 2, 2)
    samples[0, ..., 0, 0], samples[0, ..., 1, 0] = 1.0, 3.0
    samples[1, ..., 0, 0], samples[1, ..., 1, 0] = 3.0, 1.0
    errors = metrics.window_errors(samples, truth, torch.ones(1, 10, 2, dtype=torch.bool), k=2, horizons=(5, 10))
    assert errors.min_ade.tolist() == [[2.0, 2.0]] and errors.ade_one.tolist() == [2.0]
    assert errors.agent_min_sum.tolist() == [2.0] and errors.agent_count.tolist() == [2]


def test_block_bootstrap_interval() -> None:
    blocks = np.repeat(np.arange(10), 3)
    constant = metrics.bootstrap_interval(np.full(30, 2.0), np.ones(30), blocks)
    assert constant == pytest.approx((2.0, 2.0))
    lo, hi = metrics.bootstrap_interval(np.arange(30.0), np.ones(30), blocks, n_boot=500)
    assert lo < 14.5 < hi


def test_one_visible_player_and_empty_test_sets(sets) -> None:
    test = sets[2].subset([0, 1])
    test.mask[0, :, 1:22] = False  # window 0: one visible player (and the ball)
    test.states[0][~test.mask[0]] = 0.0
    table = forecast_table.forecast_table({}, {"one_player": test}, n_samples=2, n_boot=50,
                                          scenarios=("full_scene",))
    numeric = table.select(forecast_table.pl.col(forecast_table.pl.Float64)).to_numpy()
    assert np.isfinite(numeric).all()
    test.mask[:, :, :22] = False  # nobody visible: nothing to score is an error, not a NaN row
    test.states[~test.mask] = 0.0
    with pytest.raises(InvalidInputError, match="no window of one_player"):
        forecast_table.forecast_table({}, {"one_player": test}, n_samples=2, scenarios=("full_scene",))
    with pytest.raises(InvalidInputError, match="no valid windows"):
        forecast_table.forecast_table({}, {"empty": test.subset(np.zeros(0, dtype=int))}, n_samples=2)


def test_pretrained_gvrnn_loads_by_name_and_beats_constant_velocity_on_the_real_test_half(sets) -> None:
    assert pretrained.DEFAULT_MODEL in pretrained.available()
    test = sets[2]
    model, record = pretrained.load(pretrained.DEFAULT_MODEL, test)
    meta = record["metadata"]
    assert record["model"] == "gvrnn" and meta["fps"] == 10 and meta["steps"] > 0
    assert "SkillCorner" in meta["data"] and "second half" in meta["split"] and len(meta["commit"]) == 40
    gvrnn = metrics.score(*metrics.forecast(model, test, "full_scene", n_samples=20), k=20)
    cv = metrics.score(*metrics.forecast(ConstantVelocity(), test, "full_scene", n_samples=1), k=1)
    assert np.isfinite(gvrnn.min_ade) and gvrnn.min_ade < cv.ade, (gvrnn.min_ade, cv.ade)


def test_checkpoint_of_another_frame_rate_or_layout_is_refused(tmp_path: Path) -> None:
    from soccerai.training.checkpoint import save_checkpoint

    model = build_model("gvrnn", {"hidden": 8, "latent": 4})
    save_checkpoint(model, tmp_path / "at25", fps=25.0)
    with pytest.raises(CheckpointError, match="25 Hz"):
        pretrained.load(tmp_path / "at25")
    save_checkpoint(model, tmp_path / "agents", n_agents=22)
    with pytest.raises(CheckpointError, match="22 agents"):
        pretrained.load(str(tmp_path / "agents"))
    with pytest.raises(InvalidParameterError, match="neither a checkpoint folder"):
        pretrained.resolve("no-such-model")


def test_batch_given_future_holds_untracked_frames(sets) -> None:
    batch = TrajectoryBatch.from_windows(sets[2], slice(0, 8))
    given, future = batch.given_future(), batch.future_mask()
    tracked_before = batch.mask[:, : batch.obs_len].any(1)[:, None].expand_as(future) | future.cummax(1).values
    assert torch.equal(given[future], batch.future_positions()[future])
    assert not (given[~future & tracked_before] == 0).all(-1).any()


def test_checkpoint_with_a_shorter_horizon_than_the_windows_is_refused(tmp_path: Path) -> None:
    from soccerai.training.checkpoint import save_checkpoint
    from soccerai.windows.sources import random_walk_windows

    save_checkpoint(build_model("ae", {"hidden": 8, "horizon": 20}), tmp_path / "ae20")
    pretrained.load(tmp_path / "ae20", random_walk_windows(2, 20, 20))  # its own horizon: fine
    with pytest.raises(CheckpointError, match="forecasts 20 frames, the windows need 40"):
        pretrained.load(tmp_path / "ae20", random_walk_windows(2, 20, 40))
