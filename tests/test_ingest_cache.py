"""Ingesting into the parquet store: written once, skipped when unchanged, rebuilt when the bytes change, never
half-written; the ``ingest`` / ``info`` commands; the quality summary."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

import soccerai.data.store
from soccerai.cli.app import app
from soccerai.data.ingest import ingest_paths, source_hash
from soccerai.data.store import read_match, read_source_hash
from soccerai.io import load_match
from soccerai.io.grouping import group_match_files
from soccerai.match.quality import player_raw_speeds, quality_summary

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

METRICA_FILES = (
    "metrica_home.csv",
    "metrica_away.csv",
    "epts_metrica_metadata.xml",
    "epts_metrica_tracking.txt",
    "epts_metrica_tracking_with_empty_values.txt",
)


@pytest.fixture()
def sources(samples_dir: Path, tmp_path: Path) -> Path:
    """The real Metrica samples copied into a writable folder (so a test may change their bytes)."""
    folder = tmp_path / "sources"
    folder.mkdir()
    for name in METRICA_FILES:
        shutil.copy(samples_dir / name, folder / name)
    return folder


def _ingest(sources: Path, store: Path, **kwargs) -> dict[str, str]:
    return {r.match_id: r.status for r in ingest_paths(group_match_files([sources]), store, **kwargs)}


def _touch_one_digit(path: Path) -> None:
    """Change one coordinate digit in the last data row (still a valid file, different bytes)."""
    data = bytearray(path.read_bytes())
    position = data.rindex(b"0.", 0, len(data) - 8) + 3
    data[position] = ord("7") if data[position] != ord("7") else ord("3")
    path.write_bytes(bytes(data))


def test_groups_real_samples_into_matches(sources: Path) -> None:
    groups = {tuple(p.name for p in g) for g in group_match_files([sources])}
    assert groups == {
        ("metrica_home.csv", "metrica_away.csv"),
        ("epts_metrica_tracking.txt", "epts_metrica_metadata.xml"),
        ("epts_metrica_tracking_with_empty_values.txt", "epts_metrica_metadata.xml"),
    }


def test_ingest_writes_zstd_parquet_equal_to_the_loaded_match(sources: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    statuses = _ingest(sources, store)
    assert statuses == {
        "metrica": "ingested",
        "epts_metrica_tracking": "ingested",
        "epts_metrica_tracking_with_empty_values": "ingested",
    }
    stored = store / "metrica.parquet"
    codecs = {
        pq.ParquetFile(stored).metadata.row_group(0).column(i).compression
        for i in range(pq.ParquetFile(stored).metadata.num_columns)
    }
    assert codecs == {"ZSTD"}
    match = read_match(stored)
    loaded = load_match([sources / "metrica_home.csv", sources / "metrica_away.csv"])
    assert_frame_equal(match.tracking, loaded.tracking)
    assert match.metadata.simulated is False and match.metadata.provider == "metrica-csv"
    assert read_source_hash(stored) == source_hash(
        [sources / "metrica_home.csv", sources / "metrica_away.csv"]
    )


def test_second_run_skips_and_changed_byte_reingests(sources: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    _ingest(sources, store)
    mtime = (store / "metrica.parquet").stat().st_mtime_ns
    assert set(_ingest(sources, store).values()) == {"unchanged"}
    assert (store / "metrica.parquet").stat().st_mtime_ns == mtime

    _touch_one_digit(sources / "metrica_away.csv")
    _touch_one_digit(sources / "metrica_home.csv")  # the ball column is shared: keep the pair consistent
    statuses = _ingest(sources, store)
    assert statuses["metrica"] == "ingested"
    assert statuses["epts_metrica_tracking"] == "unchanged"
    assert _ingest(sources, store, force=True)["epts_metrica_tracking"] == "ingested"


def test_interrupted_write_leaves_old_file_and_no_partial(
    sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "store"
    _ingest(sources, store)
    target = store / "metrica.parquet"
    old_bytes, old_hash = target.read_bytes(), read_source_hash(target)
    _touch_one_digit(sources / "metrica_home.csv")
    _touch_one_digit(sources / "metrica_away.csv")
    real_write = pq.write_table

    def write_then_crash(table, where, **kwargs):
        real_write(table.slice(0, 10), where, **kwargs)  # some bytes reach the disk ...
        raise OSError("disk full")  # ... then the writer dies

    monkeypatch.setattr(soccerai.data.store.pq, "write_table", write_then_crash)
    results = ingest_paths(group_match_files([sources]), store)
    failed = [r for r in results if r.status == "failed"]
    assert [r.match_id for r in failed] == ["metrica"] and "disk full" in failed[0].error
    assert target.read_bytes() == old_bytes and read_source_hash(target) == old_hash
    assert sorted(p.name for p in store.iterdir()) == sorted(
        [
            "metrica.parquet",
            "epts_metrica_tracking.parquet",
            "epts_metrica_tracking_with_empty_values.parquet",
        ]
    )


def test_one_bad_match_does_not_stop_the_others(sources: Path, tmp_path: Path) -> None:
    text = (sources / "epts_metrica_tracking.txt").read_text()
    (sources / "epts_metrica_tracking.txt").write_text(text.replace(";", ";1,", 5))
    results = {r.match_id: r for r in ingest_paths(group_match_files([sources]), tmp_path / "store")}
    assert results["epts_metrica_tracking"].status == "failed"
    assert "epts_metrica_tracking.txt" in results["epts_metrica_tracking"].error
    assert results["metrica"].status == "ingested"
    assert results["epts_metrica_tracking_with_empty_values"].status == "ingested"


# --------------------------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------------------------


def test_cli_ingest_then_unchanged_then_failure_exit_code(sources: Path, tmp_path: Path) -> None:
    runner, store = CliRunner(), tmp_path / "store"
    first = runner.invoke(app, ["ingest", str(sources), "--store", str(store)])
    assert first.exit_code == 0, first.output
    assert "ingested" in first.output and "3 ok, 0 failed" in first.output
    second = runner.invoke(app, ["ingest", str(sources), "--store", str(store)])
    assert second.exit_code == 0 and "unchanged" in second.output and "ingested" not in second.output
    (sources / "metrica_away.csv").write_text(",,,Away\n")
    third = runner.invoke(
        app,
        [
            "ingest",
            str(sources / "metrica_home.csv"),
            str(sources / "metrica_away.csv"),
            "--store",
            str(store),
        ],
    )
    assert third.exit_code == 1 and "failed" in third.output


def test_cli_info_on_stored_match_and_on_provider_files(sources: Path, tmp_path: Path) -> None:
    runner, store = CliRunner(), tmp_path / "store"
    runner.invoke(app, ["ingest", str(sources), "--store", str(store)])
    stored = runner.invoke(app, ["info", str(store / "epts_metrica_tracking.parquet")])
    assert stored.exit_code == 0, stored.output
    assert "missing_ball_pct" in stored.output and "real tracking" in stored.output
    files = runner.invoke(app, ["info", str(sources / "metrica_home.csv"), str(sources / "metrica_away.csv")])
    assert files.exit_code == 0 and "metrica-csv" in files.output


# --------------------------------------------------------------------------------------------------------------
# Quality summary
# --------------------------------------------------------------------------------------------------------------


def test_quality_summary_of_real_epts_sample(samples_dir: Path) -> None:
    meta = samples_dir / "epts_metrica_metadata.xml"
    full = quality_summary(load_match([meta, samples_dir / "epts_metrica_tracking.txt"]))
    gappy = quality_summary(load_match([meta, samples_dir / "epts_metrica_tracking_with_empty_values.txt"]))
    assert full["frames"] == 100 and [p["frames"] for p in full["periods"]] == [50, 50]
    assert full["tracking"] == "real" and full["measured_frame_rate_hz"] == 25.0
    assert 0.0 < full["max_player_speed_ms"] < 12.0 and full["speeds_over_12ms"] == 0
    assert gappy["frames_under_22_players_pct"] >= full["frames_under_22_players_pct"]
    assert full["duplicated_frames"] == 0


def test_speeds_respect_frame_gaps_and_frozen_frames_are_counted(samples_dir: Path) -> None:
    match = load_match([samples_dir / "epts_metrica_metadata.xml", samples_dir / "epts_metrica_tracking.txt"])
    tracking = match.tracking
    gapped = tracking.filter(~pl.col("frame").is_between(460, 469))  # ten frames dropped everywhere
    full_max = player_raw_speeds(tracking, 25.0).max()
    # Over a gap the speed is the mean speed of the gap, never above the fastest real frame-to-frame speed;
    # dividing the gap's distance by one frame (the naive speed) would exceed it.
    assert player_raw_speeds(gapped, 25.0).max() <= full_max + 1e-9
    gap_step = gapped.filter(pl.col("frame").is_in([459, 470]) & (pl.col("team") != "ball"))
    naive = (
        gap_step.sort("object_id", "frame")
        .group_by("object_id")
        .agg(((pl.col("x").diff() ** 2 + pl.col("y").diff() ** 2).sqrt() * 25.0).max().alias("v"))
        .get_column("v")
        .max()
    )
    assert naive > full_max

    frozen = pl.concat(
        [tracking, tracking.filter(pl.col("frame") == 699).with_columns(pl.lit(700, pl.Int64).alias("frame"))]
    )
    match.tracking = frozen
    assert quality_summary(match)["duplicated_frames"] == 1


def test_event_file_beside_simulated_tracking_is_ingested_with_it(tmp_path: Path) -> None:
    """A Metrica event CSV named like the tracking files travels into the stored match (shots for C-OBSO)."""
    from soccerai.data.ingest import ingest_paths
    from soccerai.data.store import read_match
    from soccerai.io.grouping import group_match_files
    from soccerai.synth import synthesize_match, write_match_files

    match = synthesize_match(None, seed=3, duration_s=120)
    files = write_match_files(match, tmp_path / "drop", formats=("metrica-csv",))
    groups = group_match_files([tmp_path / "drop"])
    assert len(groups) == 1 and files["events"][0] in groups[0]
    (result,) = ingest_paths(groups, tmp_path / "store", simulated=True)
    assert result.status == "ingested", result
    stored = read_match(result.path)
    assert stored.metadata.simulated  # Metrica CSV cannot say so; the caller does
    assert stored.events is not None and stored.events.height == match.events.height
    assert set(stored.events.drop_nulls("player_id")["player_id"]) <= set(stored.tracking["object_id"])
