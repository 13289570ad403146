"""OBSO, its transition and score models, C-OBSO arithmetic and the figures, on real Last Row frames."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
import torch
from reference_pitch_control import lastrow_frames
from reference_score import reference_potential_score

from soccerai.errors import InvalidParameterError
from soccerai.evaluate.cobso import (
    CobsoAgents,
    cobso,
    cobso_distribution,
    cobso_table,
    counterfactual_frames,
    paired_cobso,
    select_cobso_agents,
)
from soccerai.evaluate.obso import event_summary, match_summary, obso, on_ball_attacker
from soccerai.evaluate.pitch_control import Grid, pitch_control
from soccerai.evaluate.score_model import (
    GOAL_WIDTH,
    PotentialScoreParams,
    ShotVectors,
    distance_score,
    line_blocking,
    potential_score,
)
from soccerai.evaluate.transition import transition

GRID = Grid(25, 16)


@pytest.fixture(scope="module")
def lastrow(clips_dir):
    return lastrow_frames(clips_dir)


def _empty_frame(*placed: tuple[int, float, float]) -> tuple[torch.Tensor, torch.Tensor]:
    positions = torch.full((1, 23, 2), math.nan)
    valid = torch.zeros(1, 23, dtype=torch.bool)
    for agent, x, y in placed:
        positions[0, agent] = torch.tensor([x, y])
        valid[0, agent] = True
    return positions, valid


# ---------------------------------------------------------------------------------------------------- transition
def test_transition_is_a_gaussian_of_sigma_14_with_peak_one_at_the_ball():
    grid = Grid(105, 68)  # 1 m cells: centres at whole metres in x, half metres in y
    ball = torch.tensor([[0.0, 0.5]])
    surface = transition(ball, grid).reshape(-1)
    cells = grid.cells()
    at = lambda x, y: float(surface[int(grid.cell_index(torch.tensor([x, y])))])  # noqa: E731
    assert at(0.0, 0.5) == pytest.approx(1.0)
    assert at(14.0, 0.5) == pytest.approx(math.exp(-0.5), rel=1e-5)
    assert float(surface.max()) == pytest.approx(1.0) and surface.shape[0] == cells.shape[0]
    with pytest.raises(InvalidParameterError):
        transition(ball, grid, sigma=-1.0)


# ---------------------------------------------------------------------------------------------------- score
def test_distance_score_grows_towards_goal():
    score = distance_score(GRID)
    centre_row = score[GRID.ny // 2]
    assert torch.all(centre_row[1:] > centre_row[:-1])
    assert float(score.max()) <= 0.6 and float(score.min()) > 0


def test_line_blocking_closed_form_matches_numerical_line_integral():
    shooter, centre = torch.tensor([30.0, 5.0]), torch.tensor([38.0, 3.0])
    direction = torch.tensor([math.cos(-0.3), math.sin(-0.3)])
    length, std = torch.tensor(25.0), torch.tensor(2.3)
    exact = float(line_blocking(shooter, direction, length, centre, std))
    s = np.linspace(0.0, 25.0, 200_001)
    points = shooter.numpy()[None] + s[:, None] * direction.numpy()[None]
    density = np.exp(-((points - centre.numpy()) ** 2).sum(1) / (2 * 2.3**2)) / (2 * math.pi * 2.3**2)
    assert exact == pytest.approx(np.trapezoid(density, s), rel=1e-4)


def test_potential_score_on_an_empty_pitch_counts_one_degree_vectors():
    positions, valid = _empty_frame((22, 0.0, 0.0))
    grid = Grid(105, 68)
    score = potential_score(positions, valid, grid).reshape(-1)
    spot = torch.tensor([41.0, 0.5])  # a cell centre 11.5 m out, 0.5 m off centre
    left = math.atan2(GOAL_WIDTH / 2 - 0.5, 11.5)
    right = math.atan2(-GOAL_WIDTH / 2 - 0.5, 11.5)
    vectors = math.floor(math.degrees(left - right)) + 1
    assert float(score[int(grid.cell_index(spot))]) == pytest.approx(vectors * 1.1 / 150, rel=1e-5)
    assert float(score.max()) == 1.0  # capped next to the goal


def test_potential_score_blocking_goal_side_only_and_keeper_doubled():
    shooter_cell = torch.tensor([35.7, 0.0])
    grid = GRID
    cell = int(grid.cell_index(shooter_cell))
    cx = float(grid.cells()[cell, 0])
    empty = potential_score(*_empty_frame((22, 0, 0)), grid).reshape(-1)[cell]
    in_front = potential_score(*_empty_frame((22, 0, 0), (12, cx + 6, 0.0)), grid).reshape(-1)[cell]
    behind = potential_score(*_empty_frame((22, 0, 0), (12, cx - 3, 0.0)), grid).reshape(-1)[cell]
    keeper = potential_score(*_empty_frame((22, 0, 0), (11, cx + 6, 0.0)), grid).reshape(-1)[cell]
    assert in_front < empty and float(behind) == pytest.approx(float(empty))
    assert float(empty - keeper) == pytest.approx(2 * float(empty - in_front), rel=1e-4)
    with pytest.raises(InvalidParameterError):
        PotentialScoreParams(c=-1.0)


def test_potential_score_equals_the_dense_reference_on_real_frames(lastrow):
    """Real tracking (Last Row), both grids, odd chunk sizes, and defenders missing, NaN or far off the pitch."""
    positions, _, valid = (t[::16].clone() for t in lastrow)  # 13 frames
    valid[1, 11] = False  # no goalkeeper
    positions[2, 12:16] = math.nan  # NaN defenders (still marked valid)
    valid[3, 11:22] = False  # no defenders at all
    positions[4, 13] = torch.tensor([1e30, 0.0])  # absurdly far: present, never goal side
    without_far = positions.clone()
    without_far[4, 13] = math.nan  # the reference overflows to NaN there: compare with him absent
    for grid, chunk in ((GRID, 1), (GRID, 5), (Grid(50, 32), 32)):
        fast = potential_score(positions, valid, grid, frames_per_chunk=chunk)
        reference = reference_potential_score(without_far, valid, grid)
        assert fast.shape == reference.shape == (13, grid.ny, grid.nx) and torch.isfinite(fast).all()
        assert float((fast - reference).abs().max()) < 1e-5
    assert float(fast[3].max()) == 1.0 and float(fast[0].mean()) < float(fast[3].mean())  # defenders block


def test_potential_score_equals_the_reference_with_other_parameters(lastrow):
    positions, _, valid = (t[[30, 150]] for t in lastrow)
    params = PotentialScoreParams(
        c=0.4, angle_step_deg=2.5, base_variance=2.0, goalkeeper_weight=3.0, goal_width=5.0
    )
    fast = potential_score(positions, valid, GRID, params)
    assert float((fast - reference_potential_score(positions, valid, GRID, params)).abs().max()) < 1e-5
    assert float((fast - potential_score(positions, valid, GRID)).abs().max()) > 1e-3  # the parameters matter
    assert potential_score(positions[:0], valid[:0], GRID).shape == (0, GRID.ny, GRID.nx)
    done: list[int] = []
    potential_score(positions, valid, GRID, frames_per_chunk=1, progress=done.append)
    assert done == [1, 1]
    with pytest.raises(InvalidParameterError):
        potential_score(positions, valid, GRID, frames_per_chunk=0)
    with pytest.raises(InvalidParameterError, match="positions"):
        potential_score(positions[:, :22], valid[:, :22], GRID)


def test_shot_vectors_reach_the_goal_mouth_and_are_sorted_by_distance_to_goal():
    grid = Grid(105, 68)
    vectors = ShotVectors.build(grid, PotentialScoreParams())
    assert torch.all(vectors.cell_to_goal[1:] >= vectors.cell_to_goal[:-1])
    spot = int(grid.cell_index(torch.tensor([41.0, 0.5])))  # 11.5 m out, 0.5 m off centre
    left, right = math.atan2(GOAL_WIDTH / 2 - 0.5, 11.5), math.atan2(-GOAL_WIDTH / 2 - 0.5, 11.5)
    assert int((vectors.cell == spot).sum()) == math.floor(math.degrees(left - right)) + 1
    ends = vectors.start + vectors.direction * vectors.length  # each ends on the goal line, in the mouth
    assert torch.allclose(ends[0], torch.full_like(ends[0], 52.5), atol=1e-3)
    assert float(ends[1].abs().max()) <= GOAL_WIDTH / 2 + 1e-3
    assert len(vectors) < grid.nx * grid.ny * 181 / 10


# ---------------------------------------------------------------------------------------------------- OBSO
def test_obso_is_the_product_and_player_values_read_their_cells(lastrow):
    positions, velocities, valid = (t[::40] for t in lastrow)
    result = obso(positions, velocities, valid, GRID)
    expected = pitch_control(positions, velocities, valid, GRID) * result.transition * result.score
    assert torch.allclose(result.surface, expected, atol=1e-7)
    assert result.surface.min() >= 0 and result.surface.max() <= 1 and result.skipped == 0
    f, k = 2, int(torch.nonzero(valid[2, 1:11])[0]) + 1
    cell = int(GRID.cell_index(positions[f, k]))
    assert float(result.player_values[f, k]) == pytest.approx(float(result.surface[f].reshape(-1)[cell]))
    assert torch.isnan(result.player_values[:, 0]).all() and torch.isnan(result.player_values[:, 22]).all()
    nearest = on_ball_attacker(positions, valid)
    distance = (positions[torch.arange(len(nearest)), nearest] - positions[:, 22]).norm(dim=-1)
    others = (positions[:, 1:11] - positions[:, 22:23]).norm(dim=-1).nan_to_num(math.inf).min(-1).values
    assert torch.allclose(distance, others)
    assert torch.equal(result.on_ball_value, result.player_values[torch.arange(len(nearest)), nearest])


def test_obso_with_the_distance_score_and_summaries(lastrow):
    positions, velocities, valid = (t[[0, 100, 190]].clone() for t in lastrow)
    positions[1, 22] = math.nan
    result = obso(positions, velocities, valid, GRID, score_model="distance")
    assert result.skipped == 1 and torch.isnan(result.surface[1]).all()
    events = event_summary(result, ["a", "b", "c"])
    assert events.height == 3 and events["usable"].to_list() == [True, False, True]
    assert events["obso_total"][1] is None and events["obso_total"][0] > 0
    assert events["best_off_ball_player"][0] != events["on_ball_player"][0]
    per_player = match_summary(result)
    assert per_player.height == 10 and per_player["frames"].max() == 2
    assert per_player["obso_mean"].is_sorted(descending=True)
    with pytest.raises(InvalidParameterError):
        obso(positions, velocities, valid, GRID, score_model="xg-magic")


# ---------------------------------------------------------------------------------------------------- C-OBSO
def test_select_cobso_agents_on_a_real_frame(lastrow):
    positions, _, valid = (t[150] for t in lastrow)
    shooter = int(on_ball_attacker(positions[None], valid[None])[0])
    candidates = select_cobso_agents(positions, valid, shooter)
    in_third = [k for k in range(1, 11) if k != shooter and valid[k] and positions[k, 0] > 52.5 - 35.0]
    assert [c.attacker for c in candidates] == in_third and candidates
    for c in candidates:
        distances = (positions[11:22] - positions[c.attacker]).norm(dim=-1).nan_to_num(math.inf)
        assert c.attacker_defender == 11 + int(distances.argmin())
        assert c.shooter_defender == candidates[0].shooter_defender
    with pytest.raises(InvalidParameterError):
        select_cobso_agents(positions, valid, 22)


def test_cobso_is_zero_for_real_predictions_and_positive_when_the_run_mattered(lastrow):
    positions, velocities, valid = (t[150] for t in lastrow)
    shooter = int(on_ball_attacker(positions[None], valid[None])[0])
    agents = select_cobso_agents(positions, valid, shooter)[0]
    same = positions.expand(3, -1, -1)
    unchanged = cobso(positions, velocities, valid, shooter, agents, same, grid=GRID)
    assert unchanged.per_sample.abs().max() == 0 and unchanged.mean == 0.0
    # predictions that put the shooter's defender on top of the shooter: less opportunity than in reality
    predicted = positions[agents.replaced].expand(4, -1, -1).clone()
    d2 = agents.replaced.index(agents.shooter_defender)
    predicted[:, d2] = positions[shooter] + torch.tensor([[1.0, 0.0], [1.5, 0.0], [0.5, 0.5], [8.0, 8.0]])
    result = cobso(positions, velocities, valid, shooter, agents, predicted, grid=GRID)
    assert (result.per_sample >= 0).all() and result.per_sample[0] > 0
    manual = (result.real_obso - result.predicted_obso).clamp(min=0)
    assert torch.equal(result.per_sample, manual)
    assert result.mean == pytest.approx(float(manual.mean())) and result.std > 0
    scenes, _ = counterfactual_frames(positions, velocities, agents, predicted)
    untouched = [k for k in range(23) if k not in agents.replaced]
    assert torch.allclose(scenes[:, untouched], positions[untouched].expand(4, -1, -1), equal_nan=True)
    table = cobso_table([result, unchanged], shot_ids=["s1", "s2"])
    assert table.columns == ["player", "shots", "cobso_mean", "cobso_signed_mean", "cobso_spread", "cobso_total"]
    assert table["shots"].to_list() == [2] and table["cobso_total"][0] == pytest.approx(result.mean)


def _attack_scene() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A hand-built frame: shooter 9 near the box, A1 = 7 wide, D2 = 12 marking the shooter, D1 = 13 on A1; the
    ball with attacker 6 at midfield-right. Positions [23, 2], velocities (zero) [23, 2], valid [23]."""
    positions, valid = _empty_frame(
        (0, -50.0, 0.0), (6, 22.0, 0.0), (7, 30.0, -12.0), (9, 36.0, 3.0),
        (11, 51.0, 0.0), (12, 37.0, 3.5), (13, 31.0, -11.0), (14, 25.0, 12.0), (15, 18.0, -20.0), (22, 22.0, 0.0),
    )
    return positions[0], torch.zeros(23, 2), valid[0]


def _moved(positions: torch.Tensor, **moves: tuple[float, float]) -> torch.Tensor:
    out = positions.clone()
    for agent, xy in moves.items():
        out[int(agent.removeprefix("a"))] = torch.tensor(xy)
    return out[None]


def test_paired_cobso_of_a_decoy_run_that_drags_the_shooters_marker_away_is_positive():
    """A1's real run pulls D2 off the shooter; in the counterfactual A1 stays and D2 keeps marking: positive."""
    positions, velocities, valid = _attack_scene()
    agents = CobsoAgents(7, 13, 12)
    real_run = _moved(positions, a7=(42.0, -9.0), a13=(41.0, -9.5), a12=(40.0, -7.0))
    counterfactual = _moved(positions, a7=(30.0, -12.0), a13=(31.0, -11.0), a12=(37.0, 3.5))
    result = paired_cobso(positions, velocities, valid, 9, agents, real_run, counterfactual,
                          torch.zeros(1, 23, 2), torch.zeros(1, 23, 2), grid=GRID)
    assert result.signed is not None and result.paired_real_obso is not None
    assert float(result.signed[0]) > 0 and result.mean == pytest.approx(float(result.signed[0]))
    assert float(result.signed[0]) == pytest.approx(float(result.paired_real_obso[0] - result.predicted_obso[0]))


def test_paired_cobso_of_a_run_that_brings_a_marker_onto_the_shooter_is_negative_and_clips_to_zero():
    """A1's real run drags D1 onto the shooter; in the counterfactual A1 (and D1) stay wide: negative signed,
    clipped C-OBSO exactly 0."""
    positions, velocities, valid = _attack_scene()
    positions[12] = torch.tensor([44.0, -15.0])  # the shooter is free in the observed frame
    agents = CobsoAgents(7, 13, 12)
    real_run = _moved(positions, a7=(37.0, 5.0), a13=(36.5, 3.8), a12=(44.0, -15.0))
    counterfactual = _moved(positions, a7=(30.0, -12.0), a13=(31.0, -11.0), a12=(44.0, -15.0))
    result = paired_cobso(positions, velocities, valid, 9, agents, real_run, counterfactual,
                          torch.zeros(1, 23, 2), torch.zeros(1, 23, 2), grid=GRID)
    assert float(result.signed[0]) < 0 and result.mean == 0.0 and result.signed_mean < 0


def test_paired_cobso_of_identical_scenes_is_exactly_zero_whatever_the_forecast():
    """The selection bias the pairing removes: the forecast moves D2 off the shooter in BOTH scenes (an imperfect
    forecast), the unpaired C-OBSO (observed minus forecast) is negative, the paired one exactly 0."""
    positions, velocities, valid = _attack_scene()
    agents = CobsoAgents(7, 13, 12)
    both = _moved(positions, a7=(30.0, -12.0), a13=(31.0, -11.0), a12=(40.0, 10.0))
    zero = torch.zeros(1, 23, 2)
    paired = paired_cobso(positions, velocities, valid, 9, agents, both, both.clone(), zero, zero, grid=GRID)
    unpaired = cobso(positions, velocities, valid, 9, agents, both, zero, grid=GRID)
    assert float(paired.signed[0]) == 0.0 and paired.mean == 0.0
    assert float(unpaired.signed[0]) < 0 and unpaired.mean == 0.0


def test_cobso_distribution_counts_zeros_and_signs():
    d = cobso_distribution([0.1, -0.2, 0.0, 0.3])
    assert d["pairs"] == 4 and d["zero_share"] == 0.5 and d["positive_share"] == 0.5
    assert d["negative_share"] == 0.25 and d["clipped_mean"] == pytest.approx(0.1)
    assert cobso_distribution([])["pairs"] == 0


def test_cobso_agents_replace_d1_once_when_it_is_also_d2():
    assert CobsoAgents(3, 14, 14).replaced == [3, 14]


# ---------------------------------------------------------------------------------------------------- figures
def test_figures_are_written(lastrow, tmp_path):
    from matplotlib.image import AxesImage

    from soccerai.viz import plot_runs, plot_surface, save_figure

    positions, velocities, valid = (t[[120]] for t in lastrow)
    result = obso(positions, velocities, valid, Grid(35, 22))
    ax = plot_surface(
        positions[0],
        result.control[0],
        velocities=velocities[0],
        valid=valid[0],
        title="Pitch control, Last Row LIV 2-1 CHE (real tracking)",
        vmax=1.0,
    )
    assert any(isinstance(child, AxesImage) for child in ax.get_children())
    surface_png = save_figure(ax, tmp_path / "pitch_control.png")
    real = lastrow[0][100:180:4]
    fan = real[None].repeat(6, 1, 1, 1) + torch.randn(6, 1, 23, 2).cumsum(1) * 0.0
    fan[:, :, [3, 14]] += (
        torch.linspace(0, 1, real.shape[0])[None, :, None, None] * torch.randn(6, 1, 2, 2) * 5
    )
    runs_png = save_figure(
        plot_runs(real, fan, title="real vs predicted (real tracking, synthetic fan)"), tmp_path / "runs.png"
    )
    for png in (surface_png, runs_png):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


# ---------------------------------------------------------------------------------------------------- CLI
def _soccerai(*args: str):
    """Run the CLI in-process (typer's runner); soccerai errors come back as ``result.exception``."""
    from typer.testing import CliRunner

    from soccerai.cli.app import app

    return CliRunner().invoke(app, list(args))


def test_cli_obso_on_an_ingested_real_epts_sample(samples_dir, tmp_path, monkeypatch):
    import shutil

    from soccerai.errors import InvalidInputError

    monkeypatch.setenv("SOCCERAI_OUT_DIR", str(tmp_path / "out"))
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("epts_metrica_metadata.xml", "epts_metrica_tracking.txt"):
        shutil.copy(samples_dir / name, inputs / name)
    assert _soccerai("ingest", str(inputs)).exit_code == 0
    stored = next((tmp_path / "out" / "store").glob("*.parquet"))
    done = _soccerai("obso", str(stored), "--seconds", "2", "--grid", "20x12")
    assert done.exit_code == 0, done.output
    assert "real tracking" in done.output
    summary = pl.read_parquet(next((tmp_path / "out" / "obso").glob("*_summary.parquet")))
    assert summary.height >= 8 and summary["frames"].min() > 0
    assert next((tmp_path / "out" / "obso").glob("*_best.png")).stat().st_size > 10_000
    bad = _soccerai("obso", str(stored), "--attacking", "ball")
    assert isinstance(bad.exception, InvalidParameterError) and "attacking_team" in str(bad.exception)
    missing = _soccerai("obso", str(tmp_path / "nope[1].parquet"))
    assert isinstance(missing.exception, InvalidInputError) and "nope[1].parquet" in str(missing.exception)
    assert "\n" not in str(missing.exception)
