"""Vectorised pitch control against the loop reference and the model's properties, on real frames."""

from __future__ import annotations

import math

import pytest
import torch
from reference_pitch_control import (
    kloppy_tracking_table,
    lastrow_frames,
    reference_cell,
    reference_pitch_control,
    reference_players,
)

from soccerai.errors import InvalidParameterError, InvalidTrackingError
from soccerai.evaluate.pitch_control import (
    FrameTensors,
    Grid,
    PitchControlParams,
    control_surfaces,
    frames_from_tracking,
    offside_attackers,
    pitch_control,
    usable_frames,
)


@pytest.fixture(scope="module")
def lastrow(clips_dir):
    return lastrow_frames(clips_dir)


@pytest.fixture(scope="module")
def epts(samples_dir):
    """The Metrica EPTS sample (22 players, 100 frames) through kloppy, as canonical-style tables.

    kloppy knows no positions for it, so each team's goalkeeper is marked as its player deepest on average.
    """
    import polars as pl
    from kloppy import metrica

    dataset = metrica.load_tracking_epts(
        meta_data=samples_dir / "epts_metrica_metadata.xml",
        raw_data=samples_dir / "epts_metrica_tracking.txt",
        coordinates="secondspectrum",
    )
    tracking, players = kloppy_tracking_table(dataset)
    depth = (
        tracking.filter(pl.col("team") != "ball").group_by("object_id", "team").agg(pl.col("x").abs().mean())
    )
    keepers = depth.sort("x", descending=True).group_by("team").first().get_column("object_id").to_list()
    return tracking, players.with_columns(is_goalkeeper=pl.col("object_id").is_in(keepers))


def _max_diff(fast: torch.Tensor, loop: list) -> float:
    return float((fast.double() - torch.tensor(loop, dtype=torch.float64)).abs().max())


def test_fast_matches_loop_reference_on_real_lastrow_frames(lastrow):
    positions, velocities, valid = (t[[0, 180]] for t in lastrow)
    grid, params = Grid(50, 32), PitchControlParams()
    fast = pitch_control(positions, velocities, valid, grid, params)
    assert fast.shape == (2, 32, 50)
    assert _max_diff(fast, reference_pitch_control(positions, velocities, valid, grid, params)) < 1e-3


@pytest.mark.parametrize("engine", ["numba", "torch"])
def test_both_engines_match_loop_reference_on_real_lastrow_frames(lastrow, engine):
    """The numba CPU engine (the CPU default) and the torch engine (the GPU one) each match the loop."""
    positions, velocities, valid = (t[[15, 100, 190]] for t in lastrow)
    grid, params = Grid(25, 16), PitchControlParams()
    fast = pitch_control(positions, velocities, valid, grid, params, engine=engine)
    assert _max_diff(fast, reference_pitch_control(positions, velocities, valid, grid, params)) < 1e-3


def test_numba_engine_agrees_with_torch_engine_on_lastrow_frames(lastrow):
    positions, velocities, valid = (t[::5].clone() for t in lastrow)  # 39 frames across the clip
    positions[7, 22] = math.nan  # a skipped frame is NaN in both
    grid = Grid(50, 32)
    numba_engine = control_surfaces(positions, velocities, valid, grid, engine="numba")
    torch_engine = control_surfaces(positions, velocities, valid, grid, engine="torch")
    assert torch.equal(numba_engine.usable, torch_engine.usable) and numba_engine.skipped == 1
    assert torch.isnan(numba_engine.attack[7]).all()
    diff = (numba_engine.attack - torch_engine.attack).nan_to_num(0.0).abs()
    assert diff.max() < 1e-3 and diff.mean() < 1e-5
    total = numba_engine.attack + numba_engine.defence
    assert torch.allclose(total[numba_engine.usable], torch.ones(()))


def test_unknown_engine_raises(lastrow):
    with pytest.raises(InvalidParameterError):
        pitch_control(*(t[:1] for t in lastrow), Grid(5, 4), engine="cuda-magic")


def test_fast_matches_loop_reference_with_spearman_fitted_params(lastrow):
    positions, velocities, valid = (t[[45, 150]] for t in lastrow)
    grid, params = Grid(21, 14), PitchControlParams.spearman_fitted()
    fast = pitch_control(positions, velocities, valid, grid, params)
    assert _max_diff(fast, reference_pitch_control(positions, velocities, valid, grid, params)) < 1e-3


def test_fast_matches_loop_reference_on_real_epts_frames_through_kloppy(epts):
    tracking, players = epts
    frames = frames_from_tracking(tracking.filter(_frames_at(tracking, 0.1, 0.9)), players, "home")
    assert frames.valid[:, 22].all() and frames.valid.sum() >= 2 * 19 + 2, (
        "ball and most players in both frames"
    )
    assert usable_frames(frames.positions, frames.velocities, frames.valid).all()
    grid = Grid(25, 16)
    fast = pitch_control(frames.positions, frames.velocities, frames.valid, grid)
    loop = reference_pitch_control(
        frames.positions, frames.velocities, frames.valid, grid, PitchControlParams()
    )
    assert _max_diff(fast, loop) < 1e-3


def _frames_at(tracking, *fractions):
    """A polars filter keeping the frames at these fractions of the table's frames."""
    import polars as pl

    present = sorted(tracking.get_column("frame").unique().to_list())
    return pl.col("frame").is_in([present[int(f * (len(present) - 1))] for f in fractions])


def test_fast_matches_loop_reference_when_max_time_cuts_the_integration_short(lastrow):
    """With a 0.6 s horizon most cells are still open at the last step and close their books there."""
    positions, velocities, valid = (t[[30, 120]] for t in lastrow)
    grid, params = Grid(21, 14), PitchControlParams(max_time=0.6)
    fast = pitch_control(positions, velocities, valid, grid, params)
    assert _max_diff(fast, reference_pitch_control(positions, velocities, valid, grid, params)) < 1e-3


def test_defending_control_matches_the_reference_which_integrates_both_teams(lastrow):
    """The fast path returns defence as ``1 - attack``; the loop integrates both teams separately."""
    positions, velocities, valid = (t[[0, 90]] for t in lastrow)
    grid, params = Grid(12, 8), PitchControlParams()
    surfaces = control_surfaces(positions, velocities, valid, grid, params)
    assert surfaces.skipped == 0
    assert surfaces.attack.min() >= 0 and surfaces.attack.max() <= 1
    for f in range(2):
        players = reference_players(positions[f].tolist(), velocities[f].tolist(), valid[f].tolist(), params)
        ball = tuple(positions[f, 22].tolist())
        for iy, y in enumerate(grid.ys().tolist()):
            for ix, x in enumerate(grid.xs().tolist()):
                attack, defence = reference_cell(x, y, ball, players, params)
                assert attack + defence == pytest.approx(1.0, abs=1e-9)
                assert float(surfaces.defence[f, iy, ix]) == pytest.approx(defence, abs=1e-3)


def _lone_players(attacker_xy, defender_xy, ball_xy):
    positions = torch.full((1, 23, 2), math.nan)
    valid = torch.zeros(1, 23, dtype=torch.bool)
    positions[0, 1], positions[0, 12], positions[0, 22] = (
        torch.tensor(p) for p in (attacker_xy, defender_xy, ball_xy)
    )
    valid[0, [1, 12, 22]] = True
    return positions, torch.zeros(1, 23, 2), valid


def test_a_lone_player_near_a_cell_controls_it():
    grid = Grid(21, 14)
    cells = grid.cells()
    positions, velocities, valid = _lone_players((-20.0, 10.0), (20.0, -10.0), (0.0, 0.0))
    control = pitch_control(positions, velocities, valid, grid)[0].reshape(-1)
    near_attacker = int(grid.cell_index(torch.tensor([-20.0, 10.0])))
    near_defender = int(grid.cell_index(torch.tensor([20.0, -10.0])))
    assert control[near_attacker] > 0.95
    assert control[near_defender] < 0.05
    # the attacking side of the pitch is his, the defending side is not
    assert control[cells[:, 0] < -30].min() > 0.9 and control[cells[:, 0] > 30].max() < 0.1


def test_moving_every_defender_away_raises_attacking_control(lastrow):
    positions, velocities, valid = (t[[60, 120]] for t in lastrow)
    grid = Grid(30, 20)
    before = pitch_control(positions, velocities, valid, grid)
    moved = positions.clone()
    moved[:, 11:22, 0] += 200.0  # 200 m along x: later to every cell of a 105 m pitch, and nobody is offside
    after = pitch_control(moved, velocities, valid, grid)
    assert (after >= before - 1e-4).all()
    assert after.mean() > before.mean() + 0.2
    assert after.min() > 0.5


def test_offside_attacker_is_removed():
    positions, velocities, valid = _lone_players((-10.0, 0.0), (0.0, 0.0), (-12.0, 0.0))
    positions[0, 2], positions[0, 13], valid[0, [2, 13]] = (
        torch.tensor([40.0, 20.0]),
        torch.tensor([-5.0, 5.0]),
        True,
    )
    offside = offside_attackers(positions, valid, tolerance=0.2)
    assert offside[0].tolist() == [False, False, True] + [False] * 8
    grid = Grid(21, 14)
    cell = int(grid.cell_index(torch.tensor([40.0, 20.0])))
    with_rule = pitch_control(positions, velocities, valid, grid).reshape(-1)[cell]
    without_rule = pitch_control(positions, velocities, valid, grid, PitchControlParams(remove_offside=False))
    assert without_rule.reshape(-1)[cell] > 0.9 > 0.1 > with_rule


def test_goalkeeper_factor_strengthens_slot_11():
    positions, velocities, valid = _lone_players((-10.0, 0.0), (10.0, 0.0), (-30.0, 0.0))
    as_keeper = positions.clone()
    as_keeper[0, 11], valid_keeper = positions[0, 12], valid.clone()
    valid_keeper[0, 11], valid_keeper[0, 12] = True, False
    grid = Grid(21, 14)
    outfield = pitch_control(positions, velocities, valid, grid)
    keeper = pitch_control(as_keeper, velocities, valid_keeper, grid)
    assert keeper.mean() < outfield.mean() - 0.01


def test_bad_frames_are_skipped_and_counted_not_zeroed(lastrow):
    positions, velocities, valid = (t[[10, 20, 30, 40]].clone() for t in lastrow)
    positions[1, 22] = math.nan  # NaN ball
    valid[2, 22] = False  # missing ball
    positions[3, 5, 0] = math.nan  # NaN position of a valid player
    grid = Grid(10, 8)
    surfaces = control_surfaces(positions, velocities, valid, grid)
    assert surfaces.skipped == 3 and surfaces.usable.tolist() == [True, False, False, False]
    assert torch.isnan(surfaces.attack[1:]).all() and torch.isfinite(surfaces.attack[0]).all()
    alone = pitch_control(positions[:1], velocities[:1], valid[:1], grid)
    assert torch.equal(alone[0], surfaces.attack[0])
    assert usable_frames(positions, velocities, valid).sum() == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_player_speed": -5.0},
        {"ball_speed": 0.0},
        {"tti_sigma": math.nan},
        {"reaction_time": -0.1},
        {"converged": 1.5},
        {"dt": 0.0},
    ],
)
def test_absurd_parameters_raise(kwargs):
    with pytest.raises(InvalidParameterError):
        PitchControlParams(**kwargs)


def test_empty_grid_and_wrong_shapes_raise():
    with pytest.raises(InvalidParameterError):
        Grid(0, 10)
    with pytest.raises(InvalidParameterError):
        Grid(10, 10, length=-105.0)
    with pytest.raises(InvalidParameterError):
        pitch_control(torch.zeros(2, 22, 2), torch.zeros(2, 22, 2), torch.ones(2, 22, dtype=torch.bool))


def test_frames_from_tracking_orders_agents_and_flips_for_the_away_team(epts):
    tracking, players = epts
    first = tracking.filter(_frames_at(tracking, 0.0, 0.5))
    home = frames_from_tracking(first, players, "home")
    away = frames_from_tracking(first, players, "away")
    assert isinstance(home, FrameTensors) and home.positions.shape == (2, 23, 2)
    keepers = set(players.filter(players["is_goalkeeper"])["object_id"].to_list())
    assert home.object_ids[0] in keepers and home.object_ids[11] in keepers and home.object_ids[22] == "ball"
    assert home.object_ids[:11] == away.object_ids[11:22]
    assert torch.allclose(away.positions[:, 11:22], -home.positions[:, :11], equal_nan=True)
    assert torch.allclose(away.velocities[:, 22], -home.velocities[:, 22])
    # the home keeper defends -x, so seen by the away attack he stands at +x
    assert home.positions[0, 0, 0] < 0 < away.positions[0, 11, 0]


def test_frames_from_tracking_rejects_bad_input(epts):
    tracking, players = epts
    with pytest.raises(InvalidParameterError):
        frames_from_tracking(tracking, players, "ball")
    with pytest.raises(InvalidTrackingError):
        frames_from_tracking(tracking.head(0), players, "home")
    with pytest.raises(InvalidTrackingError):
        frames_from_tracking(tracking.with_columns(vx=None), players, "home")
