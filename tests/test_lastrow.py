"""The Last Row reader on the real clip LIV_[2]-1_CHE.csv and on corrupt copies of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from soccerai.errors import InvalidInputError
from soccerai.io.lastrow import load_lastrow

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
