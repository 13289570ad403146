"""Forecast metrics on hand-computed cases, C-OBSO agent choice, plausibility statistics on real play."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from soccerai.errors import InvalidParameterError
from soccerai.evaluate import metrics
from soccerai.models import build_model
from soccerai.windows.container import N_AGENTS
from soccerai.windows.sources import lastrow_clip_windows


def _case() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Two samples, one window, two steps, two agents; truth at the origin.

    Sample 0 errors: step1 (3, 0), step2 (4, 1) -> agent0 3,4 (3-4-5: (0,3) then (0,4)); agent1 0, 1.
    Sample 1 errors: all 2.
    """
    truth = torch.zeros(1, 2, 2, 2)
    s0 = torch.tensor([[[0.0, 3.0], [0.0, 0.0]], [[0.0, 4.0], [1.0, 0.0]]])
    s1 = torch.full((2, 2, 2), 2.0 / math.sqrt(2))
    samples = torch.stack([s0, s1])[:, None]
    return samples, truth, torch.ones(1, 2, 2, dtype=torch.bool)


def test_ade_fde_min_on_hand_computed_case() -> None:
    samples, truth, valid = _case()
    assert metrics.ade(samples, truth, valid) == pytest.approx((3 + 0 + 4 + 1 + 8) / 8)
    assert metrics.fde(samples, truth, valid) == pytest.approx((4 + 1 + 2 + 2) / 4)
    assert metrics.min_ade(samples, truth, valid, k=2) == pytest.approx(2.0)
    assert metrics.min_ade(samples, truth, valid, k=1) == pytest.approx(2.0)  # only sample 0: (3+0+4+1)/4
    assert metrics.min_fde(samples, truth, valid, k=2) == pytest.approx(2.0)
    np.testing.assert_allclose(metrics.error_by_step(samples, truth, valid), [(3 + 0 + 2 + 2) / 4, (4 + 1 + 2 + 2) / 4])


def test_masking_excludes_agents_and_empty_windows() -> None:
    samples, truth, valid = _case()
    valid[:, :, 0] = False  # only agent 1 counts: sample 0 errors 0, 1; sample 1 errors 2, 2
    assert metrics.ade(samples, truth, valid) == pytest.approx((0 + 1 + 2 + 2) / 4)
    assert metrics.min_fde(samples, truth, valid) == pytest.approx(1.0)
    two = torch.cat([samples, samples], 1), torch.cat([truth, truth]), torch.cat([valid, torch.zeros_like(valid)])
    assert metrics.min_ade(*two) == pytest.approx(0.5)  # the empty second window is left out
    with pytest.raises(InvalidParameterError):
        metrics.ade(samples, truth, valid[0])


def test_motion_statistics_of_known_motion() -> None:
    t = torch.arange(6, dtype=torch.float32)
    positions = torch.stack([0.5 * t, torch.zeros(6)], -1)[:, None]  # 0.5 m per frame = 5 m/s, no acceleration
    stats = metrics.motion_statistics(positions, torch.ones(6, 1, dtype=torch.bool))
    assert stats["speed_p50"] == pytest.approx(5.0) and stats["share_over_12ms"] == 0.0
    assert stats["accel_p99"] == pytest.approx(0.0, abs=1e-4)


def test_cobso_mask_picks_a1_d1_d2() -> None:
    states = torch.zeros(1, N_AGENTS, 4)
    states[0, :, 0] = torch.arange(N_AGENTS, dtype=torch.float32) * 10 + 100  # everyone far away
    states[0, 22, :2] = torch.tensor([0.0, 0.0])  # ball
    states[0, 4, :2] = torch.tensor([1.0, 0.0])  # carrier
    states[0, 7, :2] = torch.tensor([5.0, 5.0])  # A1, next attacker to the ball
    states[0, 15, :2] = torch.tensor([2.0, 0.0])  # D2, marks the carrier
    states[0, 18, :2] = torch.tensor([5.0, 6.0])  # D1, marks A1
    present = torch.ones(1, N_AGENTS, dtype=torch.bool)
    mask = metrics.cobso_predict_mask(states, present)
    assert mask[0].nonzero().flatten().tolist() == [7, 15, 18]


def test_compare_models_on_real_clip(clips_dir: Path) -> None:
    windows = lastrow_clip_windows(clips_dir / "lastrow" / "LIV_[2]-1_CHE.csv", obs_len=5, pred_len=5, stride=10)
    models = {"constant_velocity": build_model("constant_velocity"), "gvrnn": build_model("gvrnn", {"hidden": 8})}
    table = metrics.compare_models(models, windows, n_samples=3)
    assert table.height == 2 * 3 and set(table["data"]) == {"real"}
    cv = table.filter((table["model"] == "constant_velocity") & (table["agents"] == "players"))
    assert (cv["min_ade_3"] - cv["ade"]).abs().max() < 1e-5  # deterministic: best-of-K equals the mean
    assert (table["min_ade_3"] <= table["ade"] + 1e-5).all()
    samples, truth, valid = metrics.forecast(models["gvrnn"], windows, "ghosting", n_samples=2)
    assert int(valid[:, 0].sum(-1).max()) == 3
