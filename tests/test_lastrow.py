"""The Last Row reader on the real clip LIV_[2]-1_CHE.csv and on corrupt copies of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from soccerai.errors import InvalidInputError
from soccerai.io.providers.lastrow import load_lastrow

CLIP = "LIV_[2]-1_CHE.csv"


@pytest.fixture(scope="module")
def clip_path(clips_dir: Path) -> Path:
    return clips_dir / "lastrow" / CLIP


@pytest.fixture(scope="module")
def raw(clip_path: Path) -> pl.DataFrame:
    return pl.read_csv(clip_path, glob=False)


def test_real_clip_is_canonical(clip_path: Path) -> None:
    match = load_lastrow(clip_path)
    tracking = match.tracking
    assert match.metadata.provider == "lastrow"
    assert match.metadata.simulated is False
    assert match.metadata.frame_rate == 20.0
    assert tracking.get_column("frame").n_unique() == 195
    per_frame = tracking.group_by("frame").len().get_column("len")
    assert per_frame.min() == per_frame.max() == 21  # what Last Row tracked: nobody invented
    assert set(tracking.get_column("team").unique()) == {"home", "away", "ball"}
    assert tracking.get_column("x").abs().max() <= 52.5 + 2.0
    assert tracking.get_column("y").abs().max() <= 34.0
    assert tracking.filter(pl.col("frame") == 3).get_column("time_s").unique().to_list() == [
        pytest.approx(0.15)
    ]


def test_home_attacks_positive_x_and_scores(clip_path: Path) -> None:
    """Liverpool (attack -> home) scores: the ball ends in the +x goal mouth, the Chelsea keeper near +x."""
    match = load_lastrow(clip_path)
    ball_end = match.tracking.filter((pl.col("team") == "ball") & (pl.col("frame") == 194)).row(0, named=True)
    assert ball_end["x"] > 52.0 and abs(ball_end["y"]) < 3.66
    keepers = match.players.filter(pl.col("is_goalkeeper"))
    assert keepers.height == 1 and keepers.item(0, "team") == "away"
    keeper_x = (
        match.tracking.filter(pl.col("object_id") == keepers.item(0, "object_id")).get_column("x").mean()
    )
    assert keeper_x > 40.0
    assert (
        match.metadata.periods[0].home_attacks_positive_x is False
    )  # the provider file has Liverpool towards x=0


def test_metres_mapping(clip_path: Path, raw: pl.DataFrame) -> None:
    """x_m = (x/100 - 1/2) 105 and y_m = (y/100 - 1/2) 68, then the 180-degree static rotation."""
    match = load_lastrow(clip_path)
    row = raw.filter((pl.col("frame") == 10) & (pl.col("player") == 12)).row(0, named=True)
    canon = match.tracking.filter((pl.col("frame") == 10) & (pl.col("object_id") == "12")).row(0, named=True)
    assert canon["x"] == pytest.approx(-(row["x"] / 100 - 0.5) * 105)
    assert canon["y"] == pytest.approx(-(row["y"] / 100 - 0.5) * 68)


def test_brackets_are_literal(clip_path: Path, tmp_path: Path) -> None:
    target = tmp_path / "[1]" / "LIV_[3]-0_X.csv"
    target.parent.mkdir()
    shutil.copy(clip_path, target)
    assert load_lastrow(target).match_id == "LIV_[3]-0_X"


def _write(tmp_path: Path, df: pl.DataFrame, name: str = "bad_[1].csv") -> Path:
    path = tmp_path / name
    df.write_csv(path)
    return path


def test_bad_files(tmp_path: Path, clip_path: Path, raw: pl.DataFrame, samples_dir: Path) -> None:
    with pytest.raises(InvalidInputError, match="no such"):
        load_lastrow(tmp_path / "missing.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InvalidInputError, match="empty.csv"):
        load_lastrow(empty)
    header_only = tmp_path / "header.csv"
    header_only.write_text(clip_path.read_text().splitlines()[0] + "\n")
    with pytest.raises(InvalidInputError, match="no rows"):
        load_lastrow(header_only)
    truncated = tmp_path / "truncated.csv"
    truncated.write_text(clip_path.read_text()[:5000].rsplit(",", 3)[0] + "\n")
    with pytest.raises(InvalidInputError, match="truncated.csv"):
        load_lastrow(truncated)
    with pytest.raises(InvalidInputError, match="not a Last Row clip"):
        load_lastrow(samples_dir / "metrica_home.csv")


def test_bad_content(tmp_path: Path, raw: pl.DataFrame) -> None:
    nan_rows = raw.with_columns(
        pl.when(pl.col("frame") == 5).then(float("nan")).otherwise(pl.col("x")).alias("x")
    )
    with pytest.raises(InvalidInputError, match="NaN"):
        load_lastrow(_write(tmp_path, nan_rows))
    no_ball = raw.filter(pl.col("team").is_not_null())
    with pytest.raises(InvalidInputError, match="ball"):
        load_lastrow(_write(tmp_path, no_ball))
    ball_gap = raw.filter(~(pl.col("team").is_null() & (pl.col("frame") == 7)))
    with pytest.raises(InvalidInputError, match="ball missing in 1"):
        load_lastrow(_write(tmp_path, ball_gap))
    duplicated = pl.concat([raw, raw.head(3)])
    with pytest.raises(InvalidInputError, match="duplicated"):
        load_lastrow(_write(tmp_path, duplicated))
    wrong_team = raw.with_columns(pl.col("team").replace({"attack": "offense"}))
    with pytest.raises(InvalidInputError, match="offense"):
        load_lastrow(_write(tmp_path, wrong_team))


# --- the other readers build on load_lastrow ------------------------------------------------------------------


def test_clip_windows_are_the_canonical_match_at_10_hz(clip_path: Path) -> None:
    """Every window's agents sit where load_lastrow (then 10 Hz + smoothed velocities) puts them."""
    from soccerai.windows.layout import to_model_rate
    from soccerai.windows.sources import lastrow_clip_windows

    windows = lastrow_clip_windows(clip_path, obs_len=5, pred_len=5, stride=4)
    match = load_lastrow(clip_path)
    canonical = to_model_rate(match).tracking
    n_frames = canonical.get_column("frame").n_unique()
    assert len(windows) == len(range(0, n_frames - 10 + 1, 4))  # a window every 4th 10 Hz frame, whole clip
    assert windows.simulated is False and (windows.meta.get_column("attacking_team") == "home").all()
    starts = windows.meta.get_column("start_frame").to_list()
    assert starts[:3] == [0, 8, 16]  # source (20 Hz) frame numbers
    keeper = match.players.filter(pl.col("is_goalkeeper")).item(0, "object_id")
    for w in (0, len(windows) - 1):
        ids = windows.meta.get_column("object_ids")[w].to_list()
        assert ids[11] == keeper and windows.is_goalkeeper[w, 11] and ids[22] == "ball"
        for slot in (1, 11, 15, 22):
            truth = canonical.filter(pl.col("object_id") == ids[slot]).filter(
                pl.col("frame").is_between(starts[w], starts[w] + 18)
            )
            assert truth.height == 10
            got = windows.states[w, :, slot]
            assert got[:, 0] == pytest.approx(truth.get_column("x").to_numpy(), abs=1e-4)
            assert got[:, 1] == pytest.approx(truth.get_column("y").to_numpy(), abs=1e-4)
            assert got[:, 2] == pytest.approx(truth.get_column("vx").to_numpy(), abs=1e-4)
    # 10 + 10 players tracked; no attacking keeper is known, so slot 0 stays empty (soccerai.windows.layout's keeper rule)
    assert windows.mask[:, :, [0, 21]].sum() == 0 and windows.mask[:, :, 1:11].all()


def test_clip_windows_bad_input_names_the_file(
    tmp_path: Path, clip_path: Path, raw: pl.DataFrame, samples_dir: Path
) -> None:
    from soccerai.windows.sources import lastrow_clip_windows

    truncated = tmp_path / "cut_[1].csv"
    truncated.write_text(clip_path.read_text()[:5000].rsplit(",", 3)[0] + "\n")
    with pytest.raises(InvalidInputError, match=r"cut_\[1\]\.csv"):
        lastrow_clip_windows(truncated, 5, 5)
    with pytest.raises(InvalidInputError, match="metrica_home.csv: not a Last Row clip"):
        lastrow_clip_windows(samples_dir / "metrica_home.csv", 5, 5)
    short = _write(tmp_path, raw.filter(pl.col("frame") < 30), "short.csv")  # 15 frames at 10 Hz
    with pytest.raises(InvalidInputError, match="short.csv: .*fewer than a window of 20"):
        lastrow_clip_windows(short, 10, 10)


def test_realism_clip_is_the_canonical_match(clip_path: Path, tmp_path: Path) -> None:
    """The realism report's Last Row columns come from load_lastrow: same positions, keeper flagged."""
    from soccerai.synth.realism import motion_stats, read_lastrow_clip

    wide = read_lastrow_clip(clip_path)
    match = load_lastrow(clip_path)
    assert wide.name == "Last Row LIV_[2]-1_CHE (real)" and wide.frame_rate == 20.0 and not wide.simulated
    assert wide.x.shape == (195, 20) and np.isfinite(wide.x).all()  # 10 + 10 players, the ball left out
    players = match.tracking.filter(pl.col("team") != "ball")
    assert np.sort(wide.x.ravel()) == pytest.approx(np.sort(players.get_column("x").to_numpy()))
    assert wide.keeper.sum() == 1 and wide.team[wide.keeper].tolist() == [1]
    stats = motion_stats(wide)
    assert 7.0 < stats["speed p99 (m/s)"] < 9.0 and stats["speed max (m/s)"] < 12.0  # clean human motion
    broken = tmp_path / "broken.csv"
    broken.write_text("player,frame\n1,2\n")
    with pytest.raises(InvalidInputError, match="broken.csv"):
        read_lastrow_clip(broken)
