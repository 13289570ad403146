"""The counterfactual benchmark's statistics on tiny hand-made cases (soccerai.bench.counterfactual)."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
import torch

from soccerai.bench.counterfactual import (
    BEFORE_25,
    OBS_10,
    PAIR_SCHEMA,
    PRED_10,
    RESPONSE_SCHEMA,
    layout,
    mean_abs_difference,
    rank_correlation,
    response_ratio,
    summarize,
    to_10hz,
)
from soccerai.errors import InvalidParameterError
from soccerai.models.base import TrajectoryBatch
from soccerai.models.baselines import ConstantVelocity, DampedConstantVelocity


def test_response_ratio_by_hand() -> None:
    # truth moves D by 2, 4 (mean 3); the model by 1, 2 (mean 1.5): half the response
    assert response_ratio([1.0, 2.0], [2.0, 4.0]) == pytest.approx(0.5)
    assert response_ratio([0.0, 0.0], [2.0, 4.0]) == 0.0  # a model that ignores A1
    assert math.isnan(response_ratio([1.0], [0.0]))
    with pytest.raises(InvalidParameterError):
        response_ratio([1.0], [1.0, 2.0])


def test_rank_correlation_by_hand() -> None:
    # ranks model (1, 2, 3, 4), truth (1, 3, 2, 4): d = (0, 1, 1, 0), rho = 1 - 6 * 2 / (4 * 15) = 0.8
    assert rank_correlation([0.1, 0.2, 0.3, 0.4], [1.0, 3.0, 2.0, 4.0]) == pytest.approx(0.8)
    assert rank_correlation([1, 2, 3], [30, 20, 10]) == pytest.approx(-1.0)
    assert math.isnan(rank_correlation([0.0, 0.0, 0.0], [1.0, 2.0, 3.0]))  # a constant model ranks nothing
    assert mean_abs_difference([1.0, 2.0, np.nan], [2.0, 0.0, 5.0]) == pytest.approx(1.5)


def test_summary_by_hand() -> None:
    responses = pl.DataFrame(
        [("m", "shot", 1, 10, 3, "stay", "D1", 12, "x", 2.0, 1.0, 3.0),
         ("m", "shot", 1, 10, 3, "drift", "D2", 14, "x", 4.0, 2.0, 5.0)],
        schema=RESPONSE_SCHEMA, orient="row")
    pairs = pl.DataFrame(
        [("m", "shot", 1, 10, a, 12, 14, "x", 0.1, 0.1 - t, t, mc, mc) for a, t, mc in
         ((1, 0.01, 0.1), (2, 0.03, 0.2), (3, 0.02, 0.3), (4, 0.04, 0.4))],
        schema=PAIR_SCHEMA, orient="row")
    row = summarize(responses, pairs).row(0, named=True)
    assert row["response_ratio"] == pytest.approx(0.5)
    assert row["response_ade_m"] == pytest.approx(4.0)
    assert row["cobso_truth_spearman"] == pytest.approx(0.8)
    assert row["cobso_mean_abs_diff"] == pytest.approx(np.mean([0.09, 0.17, 0.28, 0.36]))


def test_resampling_is_exact_on_straight_runs() -> None:
    t = np.arange(BEFORE_25 + 101) / 25.0
    track = np.zeros((t.size, 23, 2))
    track[..., 0] = 3.0 * t[:, None] - 5.0
    track[..., 1] = -1.5 * t[:, None]
    pos, vel = to_10hz(track, BEFORE_25)
    assert pos.shape == (OBS_10 + PRED_10, 23, 2)
    times = BEFORE_25 / 25.0 + 0.1 * np.arange(-(OBS_10 - 1), PRED_10 + 1)
    np.testing.assert_allclose(pos[:, 0, 0], 3.0 * times - 5.0, atol=1e-12)
    np.testing.assert_allclose(vel[..., 0], 3.0, atol=1e-9)
    np.testing.assert_allclose(vel[..., 1], -1.5, atol=1e-9)


def test_layout_puts_the_attack_first_towards_plus_x() -> None:
    pos = np.arange(22 * 2, dtype=float).reshape(1, 22, 2)
    ball = np.array([[7.0, 8.0]])
    out = layout(pos, ball, team=1, home_sign=1.0)  # away attacks -x when home attacks +x: flipped
    np.testing.assert_array_equal(out[0, 0], -pos[0, 11])
    np.testing.assert_array_equal(out[0, 11], -pos[0, 0])
    np.testing.assert_array_equal(out[0, 22], -ball[0])


def test_velocity_baselines_ignore_the_given_future() -> None:
    states = torch.zeros(1, 3, 23, 4)
    states[:, :, :, 0] = torch.arange(3.0)[None, :, None] * 0.1  # 1 m/s along x
    history = TrajectoryBatch(states, torch.ones(1, 3, 23, dtype=torch.bool), torch.zeros(1, 23, dtype=torch.bool),
                              torch.zeros(23, dtype=torch.long), 3)
    mask = torch.zeros(1, 23, dtype=torch.bool)
    mask[0, 12] = True
    for given in (torch.zeros(1, 5, 23, 2), torch.ones(1, 5, 23, 2) * 9.0):
        for model in (ConstantVelocity(), DampedConstantVelocity(0.5)):
            out = model.sample(history, 5, 2, mask, given)
            np.testing.assert_allclose(out[0, 0, :, 12, 0].numpy(), 0.2 + 0.1 * np.cumsum(
                [1.0] * 5 if isinstance(model, ConstantVelocity) else 0.5 ** np.arange(1, 6)), atol=1e-6)
