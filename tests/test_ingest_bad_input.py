"""Corrupt variants of the real samples, made in tmp_path: each fails with a one-line soccerai error naming the
file, or is repaired as documented (duplicated frames, frames out of order)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from soccerai.errors import InvalidInputError, InvalidTrackingError, SoccerAIError
from soccerai.io import load_match
from soccerai.io.events import load_events

TRACAB = ["tracab_meta.xml", "tracab_raw.dat"]
METRICA = ["metrica_home.csv", "metrica_away.csv"]
PAIRS = {
    "tracab": TRACAB,
    "metrica-epts": ["epts_metrica_metadata.xml", "epts_metrica_tracking.txt"],
    "secondspectrum": ["second_spectrum_fake_metadata.json", "second_spectrum_fake_data.jsonl"],
    "pff": ["pff_metadata_3812.json", "pff_rosters_3812.json", "pff_3812.jsonl"],
    "metrica-csv": METRICA,
}


def _copy(samples_dir: Path, tmp_path: Path, names: list[str]) -> list[Path]:
    return [Path(shutil.copy(samples_dir / name, tmp_path / name)) for name in names]


def _assert_names(exc: SoccerAIError, path: Path) -> None:
    message = str(exc)
    assert path.name in message, message
    assert "\n" not in message and "Traceback" not in message


def _edit_metrica(paths: list[Path], edit: Callable[[list[list[str]]], list[list[str]]]) -> None:
    """Apply ``edit`` to the data rows (split on commas) of both Metrica CSV files."""
    for path in paths:
        lines = path.read_text().splitlines()
        rows = edit([line.split(",") for line in lines[3:]])
        path.write_text("\n".join(lines[:3] + [",".join(row) for row in rows]) + "\n")


@pytest.mark.parametrize("provider", list(PAIRS))
def test_truncated_raw_file(samples_dir: Path, tmp_path: Path, provider: str) -> None:
    paths = _copy(samples_dir, tmp_path, PAIRS[provider])
    raw = paths[-1]
    data = raw.read_bytes()
    raw.write_bytes(data[: int(len(data) * 0.6)])  # cut in the middle of a frame
    with pytest.raises((InvalidInputError, InvalidTrackingError)) as info:
        load_match(paths, provider=provider, engine="kloppy")
    _assert_names(info.value, raw)


@pytest.mark.parametrize("provider", ["tracab", "metrica-csv", "pff"])
def test_empty_file(samples_dir: Path, tmp_path: Path, provider: str) -> None:
    paths = _copy(samples_dir, tmp_path, PAIRS[provider])
    paths[0].write_bytes(b"")
    with pytest.raises(InvalidInputError, match="empty") as info:
        load_match(paths, provider=provider, engine="kloppy")
    _assert_names(info.value, paths[0])


@pytest.mark.parametrize("provider", [None, "tracab"])
def test_binary_garbage(samples_dir: Path, tmp_path: Path, provider: str | None) -> None:
    paths = _copy(samples_dir, tmp_path, TRACAB)
    paths[1].write_bytes(bytes(range(256)) * 64)
    with pytest.raises(InvalidInputError, match="binary") as info:
        load_match(paths, provider=provider, engine="kloppy")
    _assert_names(info.value, paths[1])


def test_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some words, not tracking data\n")
    with pytest.raises(InvalidInputError, match="unknown tracking format") as info:
        load_match(path)
    _assert_names(info.value, path)


def test_wrong_provider_given_explicitly(samples_dir: Path, tmp_path: Path) -> None:
    paths = _copy(samples_dir, tmp_path, TRACAB)
    with pytest.raises(InvalidInputError, match="not a sportec file") as info:
        load_match(paths, provider="sportec")
    _assert_names(info.value, paths[0])


def test_files_of_two_providers_in_one_match(samples_dir: Path, tmp_path: Path) -> None:
    paths = _copy(samples_dir, tmp_path, ["tracab_meta.xml", "sportec_positional.xml"])
    with pytest.raises(InvalidInputError, match="different providers"):
        load_match(paths, engine="kloppy")


@pytest.mark.parametrize("provider", ["tracab", "pff", "metrica-epts"])
def test_metadata_file_missing(samples_dir: Path, tmp_path: Path, provider: str) -> None:
    paths = _copy(samples_dir, tmp_path, PAIRS[provider])
    with pytest.raises(InvalidInputError, match="needs a meta") as info:
        load_match(paths[-1:], provider=provider, engine="kloppy")
    _assert_names(info.value, paths[-1])


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no such file"):
        load_match([tmp_path / "tracab_meta.xml", tmp_path / "tracab_raw.dat"], provider="tracab")


def test_blank_ball_column(samples_dir: Path, tmp_path: Path) -> None:
    paths = _copy(samples_dir, tmp_path, METRICA)
    _edit_metrica(paths, lambda rows: [row[:-2] + ["", ""] for row in rows])
    with pytest.raises((InvalidInputError, InvalidTrackingError)) as info:
        load_match(paths, provider="metrica-csv", engine="kloppy")
    _assert_names(info.value, paths[0])


def test_ball_never_seen(samples_dir: Path, tmp_path: Path) -> None:
    paths = _copy(samples_dir, tmp_path, METRICA)
    _edit_metrica(paths, lambda rows: [row[:-2] + ["NaN", "NaN"] for row in rows])
    with pytest.raises(InvalidTrackingError, match="ball has no position") as info:
        load_match(paths, engine="kloppy")
    _assert_names(info.value, paths[0])


def test_players_dropped(samples_dir: Path, tmp_path: Path) -> None:
    paths = _copy(samples_dir, tmp_path, METRICA)
    _edit_metrica(paths, lambda rows: [row[:3] + ["NaN"] * (len(row) - 5) + row[-2:] for row in rows])
    with pytest.raises(InvalidTrackingError, match="no player") as info:
        load_match(paths, engine="kloppy")
    _assert_names(info.value, paths[0])


def test_some_players_dropped_is_fine(samples_dir: Path, tmp_path: Path) -> None:
    paths = _copy(samples_dir, tmp_path, METRICA)
    _edit_metrica(
        paths[:1], lambda rows: [row[:3] + ["NaN", "NaN"] + row[5:] for row in rows]
    )  # home_11 gone
    match = load_match(paths, engine="kloppy")
    assert "home_11" not in set(match.tracking["object_id"])
    assert match.tracking.filter(pl.col("team") == "home").group_by("frame").len()["len"].max() == 10


def test_duplicated_frames_are_dropped_and_counted(samples_dir: Path, tmp_path: Path) -> None:
    clean = load_match([samples_dir / name for name in METRICA], engine="kloppy")
    paths = _copy(samples_dir, tmp_path, METRICA)
    _edit_metrica(paths, lambda rows: rows[:2] + [rows[1]] + rows[2:])
    repaired = load_match(paths, engine="kloppy")
    assert repaired.metadata.extra["repairs"] == {"duplicated_frames": 1}
    assert clean.metadata.extra["repairs"] == {}
    assert_frame_equal(repaired.tracking, clean.tracking)


def test_frames_out_of_order_are_sorted_and_counted(samples_dir: Path, tmp_path: Path) -> None:
    clean = load_match([samples_dir / name for name in METRICA], engine="kloppy")
    paths = _copy(samples_dir, tmp_path, METRICA)
    _edit_metrica(paths, lambda rows: [r for r in rows if r[0] == "2"] + [r for r in rows if r[0] == "1"])
    repaired = load_match(paths, engine="kloppy")
    assert repaired.metadata.extra["repairs"].get("unsorted_frames", 0) >= 1
    assert_frame_equal(repaired.tracking.drop("time_s"), clean.tracking.drop("time_s"))


def test_swapped_halves_are_an_error(samples_dir: Path, tmp_path: Path) -> None:
    paths = _copy(samples_dir, tmp_path, METRICA)
    _edit_metrica(paths, lambda rows: [[{"1": "2", "2": "1"}[r[0]]] + r[1:] for r in rows])
    with pytest.raises(InvalidTrackingError, match="halves swapped") as info:
        load_match(paths, engine="kloppy")
    _assert_names(info.value, paths[0])


def test_corrupt_event_files(events_dir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty_RawEventsData.csv"
    empty.write_text("")
    with pytest.raises(InvalidInputError, match="empty"):
        load_events(empty)
    truncated = tmp_path / "Sample_Game_1_RawEventsData.csv"
    lines = (events_dir / "Sample_Game_1_RawEventsData.csv").read_text().splitlines()
    truncated.write_text("\n".join(lines[:50]) + "\nHome,PASS,,1,12")
    with pytest.raises(InvalidInputError) as info:
        load_events(truncated)
    _assert_names(info.value, truncated)
    garbage = tmp_path / "Sample_Game_3_events.json"
    garbage.write_text((events_dir / "Sample_Game_3_events.json").read_text()[:5000])
    shutil.copy(events_dir / "Sample_Game_3_metadata.xml", tmp_path / "Sample_Game_3_metadata.xml")
    with pytest.raises(InvalidInputError) as info:
        load_events(garbage)
    _assert_names(info.value, garbage)
