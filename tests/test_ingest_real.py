"""The real full-scale tracking of ``real-matches/``: the SkillCorner match and the Hawk-Eye minutes, ingested with
no ``--provider`` from their folders, plus the native readers against kloppy on real slices of the same files.

Each full ingest runs once per module (about 5 s of CPU each); the kloppy comparisons use slices (kloppy takes a
minute on the full SkillCorner match), cut from the real files into a temporary folder.
"""

from __future__ import annotations

import bz2
import functools
import gzip
import lzma
from pathlib import Path

import orjson
import polars as pl
import pytest
from test_fast_reader import assert_same_match
from typer.testing import CliRunner

from soccerai.cli.app import app
from soccerai.data.store import read_match
from soccerai.io import load_match
from soccerai.io.compression import read_bytes
from soccerai.match.schema import BALL_ID

SKILLCORNER = "skillcorner-bayern-dortmund-2019-11-09"
HAWKEYE = "hawkeye-two-minutes"


@pytest.fixture(scope="module")
def real_dir(data_dir: Path) -> Path:
    return data_dir / "real-matches"


@pytest.fixture(scope="module")
def stored(real_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``soccerai ingest <folder>`` of both real folders, no --provider: the stored match of each."""
    store = tmp_path_factory.mktemp("store")
    done = CliRunner().invoke(app, ["ingest", str(real_dir / SKILLCORNER), str(real_dir / HAWKEYE), "--store", str(store)])
    assert done.exit_code == 0, done.output
    assert "2 ok, 0 failed" in done.output
    return {name: store / f"{name}.parquet" for name in (SKILLCORNER, HAWKEYE)}


def _frames(tracking: pl.DataFrame) -> int:
    return tracking.select(pl.struct("period", "frame").n_unique()).item()


def test_skillcorner_match_is_one_canonical_parquet(stored: dict[str, Path], real_dir: Path) -> None:
    match = read_match(stored[SKILLCORNER])
    meta = orjson.loads((real_dir / SKILLCORNER / "match_data.json").read_bytes())
    t = match.tracking
    assert (match.metadata.provider, match.metadata.frame_rate, match.metadata.simulated) == ("skillcorner", 10.0, False)
    assert match.metadata.extra["source_frames"] == 34_783 and _frames(t) == 34_783
    assert [p.id for p in match.metadata.periods] == [1, 2]
    roster = {str(p["id"]) for p in meta["players"]}
    assert set(match.players["object_id"]) == roster and match.players.height == 38
    seen = set(t.filter(pl.col("team") != BALL_ID)["object_id"])
    assert seen <= roster and len(seen) > 22  # substitutes came on
    referee_ids = {str(r["trackable_object"]) for r in meta["referees"]} | {str(r["id"]) for r in meta["referees"]}
    assert not seen & referee_ids and not any("anon" in o for o in seen)
    assert match.metadata.extra["unidentified_rows"] > 0  # anonymous tracks exist in the file and were dropped
    # broadcast tracking: players out of the camera's view have no row, never (0, 0) or NaN
    per_frame = t.filter(pl.col("team") != BALL_ID).group_by("period", "frame").len()["len"]
    assert per_frame.max() <= 22 and per_frame.median() < 22
    assert t.select(pl.col("x").is_nan().any() | pl.col("y").is_nan().any()).item() is False
    assert t.filter((pl.col("x") == 0) & (pl.col("y") == 0) & (pl.col("team") != BALL_ID)).height == 0
    # possession.group is the ball-owning team; a frame without it is dead (kloppy's rule)
    owning = t.group_by("period", "frame").agg(pl.col("ball_owning_team").first(), pl.col("ball_state").first())
    assert set(owning["ball_owning_team"].drop_nulls()) == {"home", "away"}
    assert owning.filter(pl.col("ball_owning_team").is_null())["ball_state"].unique().to_list() == ["dead"]
    assert t.filter(pl.col("team") == BALL_ID)["z"].drop_nulls().len() > 0  # the ball's height where given


def test_hawkeye_minutes_are_one_canonical_parquet(stored: dict[str, Path]) -> None:
    match = read_match(stored[HAWKEYE])
    t = match.tracking
    assert (match.metadata.provider, match.metadata.frame_rate) == ("hawkeye", 50.0)
    assert match.metadata.extra["source_frames"] == 6_000 and _frames(t) == 6_000
    assert [(p.id, p.start_frame, p.end_frame) for p in match.metadata.periods] == [(1, 0, 2999), (2, 135000, 137999)]
    assert (match.metadata.pitch_length, match.metadata.pitch_width) == (104.0, 67.0)  # hawkeye_meta.json's
    per_team = t.filter(pl.col("team") != BALL_ID).group_by("period", "frame", "team").len()["len"]
    assert per_team.min() == per_team.max() == 11  # optical: every player on the pitch, no referee
    assert set(t["object_id"]) - {BALL_ID} <= set(match.players["object_id"])
    assert t.filter(pl.col("team") == BALL_ID).height > 5_800


# ----------------------------------------------------------------------------------------------------------------
# Native readers against kloppy on real slices
# ----------------------------------------------------------------------------------------------------------------

COMPRESSORS = {"plain": (lambda b: b, ""), "gz": (gzip.compress, ".gz"), "bz2": (bz2.compress, ".bz2"),
               "xz": (lzma.compress, ".xz")}


@functools.cache
def _real_bytes(path: Path) -> bytes:
    """Decompressed bytes of a real file, read once per test session (the slices of several tests cut them)."""
    return read_bytes(path)


@functools.cache
def _real_frames(path: Path) -> list[dict]:
    """The parsed SkillCorner frame array (not to be mutated: slices copy from it)."""
    return orjson.loads(_real_bytes(path))


def _skillcorner_slice(real_dir: Path, target: Path, per_period: int = 150, compress: str = "plain") -> list[Path]:
    """The match data and the first ``per_period`` frames with data of each half (plus a few empty ones)."""
    frames = _real_frames(real_dir / SKILLCORNER / "structured_data.json.xz")
    kept: list[dict] = []
    for period in (1, 2):
        first = next(i for i, f in enumerate(frames) if f["period"] == period and f["data"])
        kept += frames[first - 3 : first + per_period]
    target.mkdir(parents=True, exist_ok=True)
    fn, suffix = COMPRESSORS[compress]
    raw = target / f"structured_data.json{suffix}"
    raw.write_bytes(fn(orjson.dumps(kept)))
    meta = target / "match_data.json"
    meta.write_bytes((real_dir / SKILLCORNER / "match_data.json").read_bytes())
    return [meta, raw]


def _hawkeye_slice(real_dir: Path, target: Path, seconds: float = 4.0, compress: str = "xz") -> list[Path]:
    """Every real feed cut to its first ``seconds`` of samples."""
    target.mkdir(parents=True, exist_ok=True)
    fn, suffix = COMPRESSORS[compress]
    out = []
    for path in sorted((real_dir / HAWKEYE).iterdir()):
        if path.name.startswith("hawkeye_meta"):
            out.append(target / path.name)
            out[-1].write_bytes(path.read_bytes())
            continue
        doc = orjson.loads(_real_bytes(path))
        samples = doc["samples"]
        if "ball" in samples:
            samples["ball"] = [s for s in samples["ball"] if s["time"] < seconds]
        else:
            people = []
            for person in samples["people"]:
                person["centroid"] = [c for c in person["centroid"] if c["time"] < seconds]
                if person["centroid"]:
                    people.append(person)
            samples["people"] = people
        name = path.name.removesuffix(".xz") + suffix
        out.append(target / name)
        out[-1].write_bytes(fn(orjson.dumps(doc)))
    return out


def _comparable(match):
    """Metadata notes only one path writes (which reader) are set aside; everything else must be equal."""
    match.metadata.extra.pop("reader", None)
    match.metadata.extra.pop("minutes", None)
    return match


@pytest.mark.parametrize("compress", ["plain", "xz"])
def test_native_skillcorner_equals_kloppy_on_a_real_slice(real_dir: Path, tmp_path: Path, compress: str) -> None:
    files = _skillcorner_slice(real_dir, tmp_path / "sc", compress=compress)
    fast = load_match(files, engine="fast")
    slow = load_match(files, engine="kloppy")
    assert fast.metadata.extra["reader"] == "native-skillcorner-open-data"
    assert _frames(fast.tracking) > 250 and fast.metadata.extra.get("unidentified_rows", 0) >= 0
    assert_same_match(_comparable(fast), slow)


def test_native_hawkeye_equals_kloppy_on_real_slices(real_dir: Path, tmp_path: Path) -> None:
    files = _hawkeye_slice(real_dir, tmp_path / "he")
    fast = load_match(files, engine="fast")
    slow = load_match(files, engine="kloppy")
    assert fast.metadata.extra["reader"] == "native-hawkeye" and fast.metadata.extra["minutes"] == ["1:1", "2:46"]
    assert _frames(fast.tracking) == 2 * 200
    assert_same_match(_comparable(fast), slow)


@pytest.mark.parametrize("compress", ["gz", "bz2", "plain"])
def test_compression_is_read_from_content_not_suffix(real_dir: Path, tmp_path: Path, compress: str) -> None:
    """The same slice, compressed each way and named with no compression suffix, reads the same."""
    reference = load_match(_skillcorner_slice(real_dir, tmp_path / "ref"))
    meta, raw = _skillcorner_slice(real_dir, tmp_path / compress, compress=compress)
    disguised = raw.with_name("structured_data.json")
    raw.rename(disguised)
    match = load_match([disguised, meta])
    assert match.tracking.drop("match_id").equals(reference.tracking.drop("match_id"))
