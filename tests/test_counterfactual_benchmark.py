"""The counterfactual benchmark's statistics on tiny hand-made cases (soccerai.bench.counterfactual)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch

from soccerai.bench.counterfactual import (
    AFTER_25,
    BEFORE_25,
    HORIZON_25,
    OBS_10,
    PAIR_SCHEMA,
    PRED_10,
    RESPONSE_SCHEMA,
    Moment,
    cobso_frames,
    evaluate_moment,
    find_moments,
    layout,
    mean_abs_difference,
    model_cobso,
    rank_correlation,
    response_ratio,
    sample_blocks,
    scenes_at_model_rate,
    spread,
    summarize,
    undefined_reason,
)
from soccerai.errors import InvalidParameterError
from soccerai.evaluate.cobso import CobsoAgents
from soccerai.evaluate.match_obso import ghost_cobso
from soccerai.evaluate.score_model import potential_score
from soccerai.match.schema import PLAYERS_SCHEMA, TRACKING_SCHEMA, Match, MatchMetadata
from soccerai.models.base import TrajectoryBatch
from soccerai.models.baselines import ConstantVelocity, DampedConstantVelocity
from soccerai.models.gvrnn import GVRNN, GVRNNConfig
from soccerai.synth.cache import METRICA_GAMES
from soccerai.synth.replay import ALTERNATIVE_KINDS, MatchReplay
from soccerai.windows.cutter import array_windows
from soccerai.windows.layout import dense_layout, to_model_rate

T25 = BEFORE_25 + HORIZON_25 + AFTER_25 + 1  # 25 Hz frames of one benchmark scene


def _wandering_scenes(n: int, seed: int = 0) -> np.ndarray:
    """``[n, T25, 23, 2]`` smooth, curved 25 Hz tracks (players under 8 m/s, inside the pitch)."""
    rng = np.random.default_rng(seed)
    t = np.arange(T25) / 25.0
    centre = rng.uniform([-40, -25], [40, 25], size=(n, 1, 23, 2))
    freq, phase = rng.uniform(0.2, 0.8, size=(n, 1, 23, 2)), rng.uniform(0, 6.3, size=(n, 1, 23, 2))
    return centre + 3.0 * np.sin(freq * t[None, :, None, None] + phase)


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
    assert undefined_reason([0.0, 0.0, 0.0], [1.0, 2.0, 3.0]) == "model constant (0)"
    assert undefined_reason([1.0, np.nan, 2.0], [1.0, 2.0, 3.0]) == "2 finite pairs (< 3)"
    assert undefined_reason([0.1, 0.2, 0.3], [1.0, 3.0, 2.0]) == ""
    # ties (a clamped C-OBSO at 0) still rank: mean ranks (1.5, 1.5, 3) against (1, 2, 3)
    assert rank_correlation([0.0, 0.0, 0.5], [-1.0, 0.0, 2.0]) == pytest.approx(np.sqrt(3) / 2)
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
    assert row["true_responding"] == 1.0
    assert math.isnan(row["response_spearman"])  # two responses: undefined, and the notes say why
    assert row["notes"] == "response: 2 finite pairs (< 3)"
    assert row["cobso_signed_truth_spearman"] == pytest.approx(0.8)
    assert row["response_ade_m"] == pytest.approx(4.0)
    assert row["cobso_truth_spearman"] == pytest.approx(0.8)
    assert row["cobso_mean_abs_diff"] == pytest.approx(np.mean([0.09, 0.17, 0.28, 0.36]))


def test_resampling_is_exact_on_straight_runs() -> None:
    t = np.arange(T25) / 25.0
    track = np.zeros((1, t.size, 23, 2))
    track[..., 0] = 3.0 * t[:, None] - 5.0
    track[..., 1] = -1.5 * t[:, None]
    states = scenes_at_model_rate(track, BEFORE_25)[0]
    assert states.shape == (OBS_10 + PRED_10, 23, 4)
    times = BEFORE_25 / 25.0 + 0.1 * np.arange(-(OBS_10 - 1), PRED_10 + 1)  # the moment and every 0.1 s around it
    np.testing.assert_allclose(states[:, 0, 0], 3.0 * times - 5.0, atol=1e-12)
    np.testing.assert_allclose(states[..., 2], 3.0, atol=1e-9)
    np.testing.assert_allclose(states[..., 3], -1.5, atol=1e-9)
    with pytest.raises(InvalidParameterError):
        scenes_at_model_rate(track[:, : BEFORE_25 + 50], BEFORE_25)  # not 4 s after the moment


def test_scenes_at_model_rate_is_the_windows_step() -> None:
    """The benchmark's 10 Hz scenes are :func:`to_model_rate` of the 25 Hz tracks (positions interpolated,
    velocities smoothed as the windows the models train on), read at the moment and every 0.1 s around it."""
    scenes = _wandering_scenes(2)
    got = scenes_at_model_rate(scenes, BEFORE_25, first_frame=500)
    shift = 2  # puts the moment (index BEFORE_25 = 73) at 3.0 s, on the 10 Hz grid of a clock starting at 0
    assert (BEFORE_25 + shift) % 5 == 0
    for i, scene in enumerate(scenes):
        rows = [("m", 1, 500 + f, (f + shift) / 25.0, f"p{k:02d}", "ball" if k == 22 else ("home" if k < 11 else
                 "away"), float(scene[f, k, 0]), float(scene[f, k, 1])) for f in range(T25) for k in range(23)]
        table = pl.DataFrame(rows, orient="row", schema=["match_id", "period", "frame", "time_s", "object_id", "team",
                                                         "x", "y"])
        table = table.with_columns(z=None, vx=None, vy=None, ball_state=pl.lit("alive"), ball_owning_team=None)
        table = table.select(pl.col(c).cast(d) for c, d in TRACKING_SCHEMA.items())
        match = Match(table, pl.DataFrame(schema=PLAYERS_SCHEMA), MatchMetadata("m", "test", 25.0))
        part = dense_layout(to_model_rate(match).tracking, None).periods[1]
        at = int(np.flatnonzero(np.isclose(part.times, (BEFORE_25 + shift) / 25.0))[0])
        want = part.features[at - OBS_10 + 1 : at + PRED_10 + 1]
        np.testing.assert_allclose(got[i], want, atol=1e-9)
    # the velocities are the smoothed ones, not a central difference of the 10 Hz positions
    assert np.abs(got[0, 1:-1, :, 2:] - (got[0, 2:, :, :2] - got[0, :-2, :, :2]) / 0.2).max() > 1e-4


def test_sample_blocks_gives_every_block_the_same_draws() -> None:
    """One batched GVRNN call over the blocks gives what each block gives alone from the seed (common random
    numbers), so the blocks differ only by what differs between their scenes."""
    torch.manual_seed(0)
    model = GVRNN(GVRNNConfig(hidden=8, latent=2)).eval()
    scenes = _wandering_scenes(2, seed=1)
    states = scenes_at_model_rate(scenes, BEFORE_25)
    moved = states.copy()
    moved[:, :, 3, :2] += 2.0  # agent 3 (a given future) elsewhere
    gk = np.zeros(23, bool)
    gk[[0, 11]] = True
    blocks = [(states, [[12, 14], [13]]), (moved, [[12, 14], [13]]), (states, [[3, 12, 14], [5, 13, 15]])]
    batched = sample_blocks(model, blocks, 3, 7, gk)
    for (block, replaced), got in zip(blocks, batched, strict=True):
        t_len = OBS_10 + PRED_10
        history = TrajectoryBatch.from_windows(array_windows(
            block[..., :2].reshape(-1, 23, 2), block[..., 2:].reshape(-1, 23, 2), np.ones((2 * t_len, 23), bool),
            [0, t_len], OBS_10, t_len, gk, True))
        mask = torch.zeros(2, 23, dtype=torch.bool)
        for row, agents in enumerate(replaced):
            mask[row, agents] = True
        alone = model.sample(history.history(), PRED_10, 3, mask, history.given_future(),
                             generator=torch.Generator().manual_seed(7))
        assert got.shape == (3, 2, PRED_10, 23, 2)
        np.testing.assert_allclose(got, alone.double().numpy(), atol=1e-4)
    assert not np.allclose(batched[0][:, :, :, 12], batched[1][:, :, :, 12])  # D answers the moved agent
    cv = sample_blocks(ConstantVelocity(), blocks, 2, 7, gk)
    np.testing.assert_allclose(cv[0][:, :, :, 12], cv[1][:, :, :, 12])  # CV ignores it


def test_model_cobso_is_the_projects_ghost_cobso() -> None:
    """C-OBSO with the frames' potential score computed beforehand, in one batch with other frames, equals
    :func:`ghost_cobso`."""
    rng = np.random.default_rng(3)
    positions = torch.as_tensor(np.concatenate([rng.uniform([0, -30], [50, 30], (22, 2)), [[40.0, 5.0]]]))
    velocities = torch.as_tensor(rng.normal(0, 2, (23, 2)))
    valid = torch.ones(23, dtype=torch.bool)
    agents = CobsoAgents(attacker=4, attacker_defender=15, shooter_defender=17)
    futures = positions[None, None] + torch.as_tensor(rng.normal(0, 3, (5, 4, 23, 2))).cumsum(1)
    frames = cobso_frames(positions, velocities, agents, futures)
    other = torch.as_tensor(rng.uniform([0, -30], [50, 30], (3, 23, 2)))
    both = torch.cat([other, frames]).float()
    score = potential_score(both, torch.ones(both.shape[:2], dtype=torch.bool))[3:]
    got = model_cobso(positions, velocities, valid, 2, agents, futures, score)
    want = ghost_cobso(positions, velocities, valid, 2, agents, futures)
    assert got.real_obso == pytest.approx(want.real_obso, rel=1e-5)
    np.testing.assert_allclose(got.predicted_obso.numpy(), want.predicted_obso.numpy(), rtol=1e-5, atol=1e-9)
    assert got.mean == pytest.approx(want.mean, rel=1e-5, abs=1e-9)


def test_spread_covers_both_halves_evenly() -> None:
    moments = [Moment(1, f, 0, 5, "shot") for f in range(0, 1000, 100)] + [Moment(2, 5000, 1, 16, "shot"),
                                                                           Moment(2, 6000, 1, 16, "shot")]
    picked = spread(moments, 5)
    assert [m.period for m in picked] == [1, 1, 1, 2, 2]  # two from the short half, three from the long one
    assert [m.frame for m in picked[:3]] == [0, 400, 900]  # evenly spaced (rounded), first and last kept
    assert spread(moments, None) == moments and len(spread(moments, 1)) == 1


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


def test_one_simulated_moment_end_to_end(events_dir: Path) -> None:
    """A shot of a short SIMULATED match: re-played alternatives share the actual history and change A1's run;
    constant velocity answers no alternative; the pair's true C-OBSO is OBSO(actual) - mean OBSO(alternatives)."""
    mr = MatchReplay.synthesize(events_dir / METRICA_GAMES["game1"], seed=0, duration_s=240)
    moments = find_moments(mr, max_shots=1)
    assert [m.kind for m in moments] == ["shot"]
    result = evaluate_moment(mr, moments[0], {"cv": ConstantVelocity()}, n_samples=2, max_candidates=1)
    scenes, agents = result.figure_data["scenes"], result.figure_data["agents"]  # [1 + K, T, 23, 4]
    assert scenes.shape == (1 + len(ALTERNATIVE_KINDS), OBS_10 + PRED_10, 23, 4)
    history = scenes[:, :OBS_10, :, :2]  # positions up to the moment: the actual play's in every scene
    assert np.array_equal(history, np.broadcast_to(history[:1], history.shape))
    assert np.hypot(*(scenes[1:, -1, agents.attacker, :2] - scenes[0, -1, agents.attacker, :2]).T).max() > 1.0
    responses = pl.DataFrame(result.responses, schema=RESPONSE_SCHEMA, orient="row")
    assert responses.height == 2 * len(ALTERNATIVE_KINDS)
    assert (responses["model_displacement"] == 0).all()
    d1 = responses.filter(pl.col("defender") == "D1")["true_displacement"].to_numpy()
    np.testing.assert_allclose(d1, np.hypot(*(scenes[1:, -1, agents.attacker_defender, :2]
                                               - scenes[0, -1, agents.attacker_defender, :2]).T))
    (pair,) = pl.DataFrame(result.pairs, schema=PAIR_SCHEMA, orient="row").iter_rows(named=True)
    assert pair["true_cobso"] == pytest.approx(pair["obso_actual"] - pair["obso_alternatives_mean"])
    assert pair["model_cobso"] >= 0 and pair["model_cobso"] >= pair["model_cobso_signed"]
