"""The native Metrica readers give exactly the kloppy path's canonical match, and fail cleanly on bad files."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from soccerai.errors import InvalidInputError, SoccerAIError
from soccerai.io import READERS, load_match
from soccerai.io.providers import kloppy as kloppy_loader
from soccerai.io.providers.metrica import read_metrica_csv, read_metrica_epts
from soccerai.match.schema import Match, MatchMetadata

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

CASES = {
    "csv": ("metrica_home.csv", "metrica_away.csv"),
    "epts": ("epts_metrica_metadata.xml", "epts_metrica_tracking.txt"),
    "epts_empty_values": ("epts_metrica_metadata.xml", "epts_metrica_tracking_with_empty_values.txt"),
}


def _both(case: str, first: Path, second: Path) -> tuple[Match, Match]:
    if case == "csv":
        return read_metrica_csv(first, second), kloppy_loader.load_metrica_csv(first, second)
    return read_metrica_epts(first, second), kloppy_loader.load_metrica_epts(first, second)


def assert_same_match(fast: Match, slow: Match) -> None:
    assert_frame_equal(fast.tracking, slow.tracking, check_exact=False, abs_tol=1e-9, rel_tol=0.0)
    assert_frame_equal(fast.players, slow.players)
    assert _without_kloppy_notes(fast.metadata) == _without_kloppy_notes(slow.metadata)


def _without_kloppy_notes(metadata: MatchMetadata) -> MatchMetadata:
    """Metadata minus ``extra["kloppy_warnings"]``: what kloppy itself warned about exists only on its path."""
    extra = {key: value for key, value in metadata.extra.items() if key != "kloppy_warnings"}
    return dataclasses.replace(metadata, extra=extra)


@pytest.mark.parametrize("case", list(CASES))
def test_fast_equals_kloppy_on_real_samples(samples_dir: Path, case: str) -> None:
    first, second = (samples_dir / name for name in CASES[case])
    fast, slow = _both(case, first, second)
    assert fast.tracking.height > 100
    assert_same_match(fast, slow)


def test_empty_values_become_absent_rows(samples_dir: Path) -> None:
    meta = samples_dir / "epts_metrica_metadata.xml"
    full = read_metrica_epts(meta, samples_dir / "epts_metrica_tracking.txt")
    gappy = read_metrica_epts(meta, samples_dir / "epts_metrica_tracking_with_empty_values.txt")
    assert gappy.tracking.height < full.tracking.height
    assert gappy.tracking.select(pl.col("x").is_nan().any() | pl.col("y").is_nan().any()).item() is False


def _tile_csv(source: Path, target: Path, repeats: int) -> None:
    """The sample's 6 data rows repeated with growing frame numbers (period 1 then 2), header kept."""
    lines = source.read_text().splitlines()
    header, rows = lines[:3], [line.split(",") for line in lines[3:]]
    out, frame = list(header), 0
    for period in (1, 2):
        for _ in range(repeats):
            for row in rows:
                frame += 1
                out.append(",".join([str(period), str(frame), f"{frame / 25:.2f}", *row[3:]]))
    target.write_text("\n".join(out) + "\n")


def test_fast_equals_kloppy_on_tiled_csv_in_bracketed_folder(samples_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "LIV_[2]-1_CHE"
    folder.mkdir()
    home, away = folder / "game_[1]_home.csv", folder / "game_[1]_away.csv"
    _tile_csv(samples_dir / "metrica_home.csv", home, repeats=40)
    _tile_csv(samples_dir / "metrica_away.csv", away, repeats=40)
    fast, slow = read_metrica_csv(home, away), kloppy_loader.load_metrica_csv(home, away)
    assert fast.tracking.get_column("frame").n_unique() == 480
    assert_same_match(fast, slow)


def test_registered_as_fast_engine_and_auto_uses_it(samples_dir: Path) -> None:
    files = [samples_dir / "metrica_away.csv", samples_dir / "metrica_home.csv"]  # any order
    auto = load_match(files)
    assert "fast" in READERS["metrica-csv"] and "fast" in READERS["metrica-epts"]
    assert READERS["metrica-csv"]["fast"].__module__ == "soccerai.io.providers.metrica"
    assert_same_match(auto, load_match(files, engine="kloppy"))


# --------------------------------------------------------------------------------------------------------------
# Bad input: one-line soccerai errors naming the file
# --------------------------------------------------------------------------------------------------------------


@pytest.fixture()
def csv_pair(samples_dir: Path, tmp_path: Path) -> tuple[Path, Path]:
    home, away = tmp_path / "m_home.csv", tmp_path / "m_away.csv"
    shutil.copy(samples_dir / "metrica_home.csv", home)
    shutil.copy(samples_dir / "metrica_away.csv", away)
    return home, away


def test_truncated_csv_names_the_file(csv_pair: tuple[Path, Path]) -> None:
    home, away = csv_pair
    text = home.read_text()
    home.write_text(text[: len(text) - 200])  # cut in the middle of a data row
    with pytest.raises(InvalidInputError) as err:
        read_metrica_csv(home, away)
    assert str(home) in str(err.value) and "\n" not in str(err.value)


def test_swapped_csv_files_are_refused(csv_pair: tuple[Path, Path]) -> None:
    home, away = csv_pair
    with pytest.raises(InvalidInputError, match="swapped"):
        read_metrica_csv(away, home)


def test_csv_pair_from_different_matches_is_refused(csv_pair: tuple[Path, Path]) -> None:
    home, away = csv_pair
    lines = away.read_text().splitlines()
    fields = lines[4].split(",")
    fields[-2] = "0.11111"  # another ball position in one frame
    lines[4] = ",".join(fields)
    away.write_text("\n".join(lines) + "\n")
    with pytest.raises(InvalidInputError, match="ball positions differ"):
        read_metrica_csv(home, away)


def test_not_a_metrica_csv(csv_pair: tuple[Path, Path], tmp_path: Path) -> None:
    home, away = csv_pair
    other = tmp_path / "other.csv"
    other.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(InvalidInputError, match="not a Metrica CSV"):
        read_metrica_csv(other, away)


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda text: "", "empty"),
        (lambda text: text.replace(";", ";1,2,", 3), "do not match the metadata"),
        (lambda text: text.replace("450:", ":", 1), "without a frame number"),
    ],
    ids=["empty", "extra-fields", "no-frame"],
)
def test_corrupt_epts_raw(samples_dir: Path, tmp_path: Path, corrupt, message: str) -> None:
    raw = tmp_path / "bad_tracking.txt"
    raw.write_text(corrupt((samples_dir / "epts_metrica_tracking.txt").read_text()))
    with pytest.raises(InvalidInputError, match=message) as err:
        read_metrica_epts(samples_dir / "epts_metrica_metadata.xml", raw)
    assert str(raw) in str(err.value)


def test_corrupt_epts_metadata(samples_dir: Path, tmp_path: Path) -> None:
    meta = tmp_path / "bad_metadata.xml"
    meta.write_text((samples_dir / "epts_metrica_metadata.xml").read_text()[:5000])
    with pytest.raises(SoccerAIError) as err:
        read_metrica_epts(meta, samples_dir / "epts_metrica_tracking.txt")
    assert str(meta) in str(err.value)


def test_ball_never_seen_is_an_error(csv_pair: tuple[Path, Path]) -> None:
    home, away = csv_pair
    for path in (home, away):
        lines = path.read_text().splitlines()
        blanked = [",".join([*row.split(",")[:-2], "NaN", "NaN"]) for row in lines[3:]]
        path.write_text("\n".join(lines[:3] + blanked) + "\n")
    with pytest.raises(SoccerAIError, match="ball"):
        read_metrica_csv(home, away)


def test_duplicated_frame_takes_the_repair_lane_and_still_equals_kloppy(csv_pair: tuple[Path, Path]) -> None:
    home, away = csv_pair
    for path in (home, away):
        lines = path.read_text().splitlines()
        path.write_text("\n".join([*lines[:5], lines[4], *lines[5:]]) + "\n")  # frame 2 twice
    fast, slow = read_metrica_csv(home, away), kloppy_loader.load_metrica_csv(home, away)
    assert fast.metadata.extra["repairs"] == {"duplicated_frames": 1}
    assert_same_match(fast, slow)


# ----------------------------------------------------------------------------------------------------------------
# Native Tracab .dat reader: equal to the kloppy path on every metadata variant kloppy reads with the .dat sample
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("meta", ["tracab_meta.xml", "tracab_meta_2.xml", "tracab_meta.json"])
def test_native_tracab_dat_equals_kloppy(samples_dir: Path, meta: str) -> None:
    files = [samples_dir / meta, samples_dir / "tracab_raw.dat"]
    fast, slow = load_match(files), load_match(files, engine="kloppy")
    assert fast.metadata.extra.pop("reader") == "native-tracab-dat"
    assert fast.tracking.height == 161 and fast.players.height >= 22
    assert_same_match(fast, slow)


def test_tracab_json_raw_still_goes_to_kloppy(samples_dir: Path) -> None:
    files = [samples_dir / "tracab_meta.json", samples_dir / "tracab_raw.json"]
    assert "reader" not in load_match(files).metadata.extra
    assert READERS["tracab"]["fast"] is not READERS["tracab"]["kloppy"]
