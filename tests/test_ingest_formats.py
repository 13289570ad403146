"""Inputs as users have them: every provider compressed (gzip, bzip2, xz, read from the content, suffix or not),
Last Row clips through ``soccerai ingest``, and ``soccerai info``'s per-player visible share."""

from __future__ import annotations

import bz2
import gzip
import lzma
import shutil
from pathlib import Path

import polars as pl
import pytest
from test_ingest_providers import SAMPLES
from typer.testing import CliRunner

from soccerai.cli.app import app
from soccerai.data.store import read_match
from soccerai.errors import InvalidInputError
from soccerai.io import detect_provider, load_match
from soccerai.io.grouping import group_match_files
from soccerai.match.quality import player_visibility, quality_summary

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

COMPRESS = {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}


@pytest.mark.parametrize(
    ("provider", "files", "kind", "suffix"),
    [(p, f, kind, suffix) for i, (p, f, *_) in enumerate(SAMPLES)
     for kind, suffix in [(("gz", "bz2", "xz")[i % 3], i % 2 == 0)]],
    ids=[f"{p}:{f[-1]}" for p, f, *_ in SAMPLES],
)
def test_every_provider_reads_compressed(
    samples_dir: Path, tmp_path: Path, provider: str, files: list[str], kind: str, suffix: bool
) -> None:
    """Each sample with every file compressed (one codec per sample, half of them without the suffix) gives the
    same canonical tracking as the plain files, through the default engine."""
    plain = [samples_dir / name for name in files]
    packed = []
    for path in plain:
        target = tmp_path / (path.name + (f".{kind}" if suffix else ""))
        target.write_bytes(COMPRESS[kind](path.read_bytes()))
        packed.append(target)
    assert detect_provider(packed) == provider
    assert len(group_match_files([tmp_path])) == 1
    reference, match = load_match(plain), load_match(packed)
    assert match.tracking.drop("match_id").equals(reference.tracking.drop("match_id"))
    assert match.players.equals(reference.players)


def test_a_truncated_xz_is_one_line_naming_it(samples_dir: Path, tmp_path: Path) -> None:
    raw = tmp_path / "tracab_raw.dat.xz"
    packed = lzma.compress((samples_dir / "tracab_raw.dat").read_bytes())
    raw.write_bytes(packed[: len(packed) // 2])
    meta = tmp_path / "tracab_meta.xml"
    shutil.copy(samples_dir / "tracab_meta.xml", meta)
    for engine in ("auto", "kloppy"):
        with pytest.raises(InvalidInputError, match=r"tracab_raw\.dat\.xz: truncated or corrupt xz file") as err:
            load_match([meta, raw], engine=engine)
        assert "\n" not in str(err.value)
    done = CliRunner().invoke(app, ["ingest", str(tmp_path), "--store", str(tmp_path / "store")])
    assert done.exit_code == 1 and "truncated or corrupt xz" in done.output
    assert not (tmp_path / "store").exists() or not list((tmp_path / "store").iterdir())  # nothing half-written


# ----------------------------------------------------------------------------------------------------------------
# Last Row
# ----------------------------------------------------------------------------------------------------------------


def test_lastrow_csv_through_ingest(clips_dir: Path, tmp_path: Path) -> None:
    clip = clips_dir / "lastrow" / "LIV_[2]-1_CHE.csv"  # brackets: a glob to polars unless told otherwise
    assert detect_provider([clip]) == "lastrow"
    groups = group_match_files([clips_dir / "lastrow"])
    assert groups == [[clip]]  # the passes table beside it is not tracking
    for extra in ([], ["--provider", "lastrow"]):
        done = CliRunner().invoke(app, ["ingest", str(clip), *extra, "--store", str(tmp_path / "store"), "--force"])
        assert done.exit_code == 0, done.output
    match = read_match(tmp_path / "store" / "liv_2_-1_che.parquet")
    assert (match.metadata.provider, match.metadata.frame_rate) == ("lastrow", 20.0)
    assert match.tracking.select(pl.struct("period", "frame").n_unique()).item() == 195
    with pytest.raises(Exception, match="no 'kloppy' reader for lastrow"):
        load_match([clip], engine="kloppy")


# ----------------------------------------------------------------------------------------------------------------
# soccerai info: per-player visible share
# ----------------------------------------------------------------------------------------------------------------


def test_visible_share_per_player(samples_dir: Path) -> None:
    full = load_match([samples_dir / "epts_metrica_metadata.xml", samples_dir / "epts_metrica_tracking.txt"])
    gappy = load_match(
        [samples_dir / "epts_metrica_metadata.xml", samples_dir / "epts_metrica_tracking_with_empty_values.txt"]
    )
    seen_full, seen_gappy = player_visibility(full), player_visibility(gappy)
    frames = full.tracking.select(pl.struct("period", "frame").n_unique()).item()
    counted = full.tracking.filter(pl.col("team") != "ball").group_by("object_id").len()
    expected = dict(zip(counted["object_id"], counted["len"], strict=True))
    assert dict(zip(seen_full["object_id"], seen_full["frames_visible"], strict=True)) == expected
    assert (seen_full["visible_pct"] == (100.0 * seen_full["frames_visible"] / frames).round(1)).all()
    assert seen_gappy["visible_pct"].min() < 100.0 and seen_gappy["frames_visible"].sum() < seen_full["frames_visible"].sum()
    summary = quality_summary(gappy)
    assert summary["players_seen"] == seen_gappy.height and len(summary["player_visible"]) == seen_gappy.height


def test_info_prints_the_visible_share(samples_dir: Path) -> None:
    from rich.console import Console

    from soccerai.cli.output import rich_table
    from soccerai.match.quality import quality_frame, quality_title

    files = [samples_dir / "epts_metrica_metadata.xml", samples_dir / "epts_metrica_tracking_with_empty_values.txt"]
    done = CliRunner().invoke(app, ["info", *map(str, files)])
    assert done.exit_code == 0, done.output
    summary = quality_summary(load_match(files))
    console = Console(width=200, record=True)
    console.print(rich_table(quality_frame(summary), quality_title(summary)))
    text = console.export_text()
    assert "player_visible_pct_median" in text and text.count("while on the pitch") == summary["players_seen"] > 10
