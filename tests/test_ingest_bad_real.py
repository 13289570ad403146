"""Bad input of issue 13, made from slices of the real SkillCorner and Hawk-Eye files in a temporary folder: each is
a one-line error naming the file and the problem, a non-zero exit, and nothing half-written in the store."""

from __future__ import annotations

import lzma
import shutil
from pathlib import Path

import orjson
import pytest
from test_ingest_real import _hawkeye_slice, _skillcorner_slice
from typer.testing import CliRunner

from soccerai.cli.app import app
from soccerai.errors import SoccerAIError
from soccerai.io import load_match
from soccerai.io.compression import read_bytes
from soccerai.io.grouping import group_match_files


@pytest.fixture(scope="module")
def real_dir(data_dir: Path) -> Path:
    return data_dir / "real-matches"


@pytest.fixture(scope="module")
def templates(real_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real slices, cut once per module (the full files take seconds to decompress and parse)."""
    root = tmp_path_factory.mktemp("templates")
    _skillcorner_slice(real_dir, root / "sc")
    _skillcorner_slice(real_dir, root / "sc_xz", compress="xz")
    _skillcorner_slice(real_dir, root / "sc_small", per_period=40)
    _hawkeye_slice(real_dir, root / "he", seconds=2.0)
    return root


def _copy(templates: Path, name: str, target: Path) -> list[Path]:
    shutil.copytree(templates / name, target)
    return sorted(target.iterdir())


def _sc(templates: Path, target: Path, name: str = "sc") -> tuple[Path, Path]:
    files = _copy(templates, name, target)
    meta = next(p for p in files if p.name == "match_data.json")
    return meta, next(p for p in files if p != meta)


def _ingest_fails(sources: list[Path], store: Path, *names: str) -> str:
    """``soccerai ingest`` of ``sources``: exit 1, the failure line names each of ``names``, no parquet written."""
    done = CliRunner().invoke(app, ["ingest", *map(str, sources), "--store", str(store)], env={"COLUMNS": "300"})
    assert done.exit_code == 1, done.output
    assert "failed" in done.output
    for name in names:
        assert name in done.output.replace("\n", ""), done.output
    assert not store.exists() or not [p for p in store.iterdir()], list(store.iterdir())
    return done.output


def _one_line(exc: SoccerAIError, path: Path) -> None:
    assert "\n" not in str(exc) and str(path) in str(exc)


def _rewrite(path: Path, edit) -> None:
    doc = orjson.loads(read_bytes(path))
    data = orjson.dumps(edit(doc) or doc)
    path.write_bytes(lzma.compress(data) if path.suffix == ".xz" else data)


def test_truncated_structured_data_xz(templates: Path, tmp_path: Path) -> None:
    meta, raw = _sc(templates, tmp_path / "sc", "sc_xz")
    raw.write_bytes(raw.read_bytes()[:-200])
    with pytest.raises(SoccerAIError, match="truncated or corrupt xz file") as err:
        load_match([meta, raw])
    _one_line(err.value, raw)
    _ingest_fails([tmp_path / "sc"], tmp_path / "store", "structured_data.json.xz", "truncated")


def test_structured_data_without_its_match_data(templates: Path, tmp_path: Path) -> None:
    meta, raw = _sc(templates, tmp_path / "sc")
    meta.unlink()
    with pytest.raises(SoccerAIError, match="skillcorner needs a meta file; got structured_data.json"):
        load_match([raw])
    _ingest_fails([tmp_path / "sc"], tmp_path / "store", "needs a meta file")


def test_match_data_whose_players_are_never_tracked(templates: Path, tmp_path: Path) -> None:
    meta, raw = _sc(templates, tmp_path / "sc")

    def renumber(doc: dict) -> None:
        for i, player in enumerate(doc["players"]):
            player["trackable_object"] = 900_000 + i

    _rewrite(meta, renumber)
    with pytest.raises(SoccerAIError, match="none of the 38 players of match_data.json is tracked") as err:
        load_match([meta, raw])
    _one_line(err.value, raw)
    _ingest_fails([tmp_path / "sc"], tmp_path / "store", "none of the 38 players")


def test_skillcorner_frames_out_of_order_are_sorted_and_counted(templates: Path, tmp_path: Path) -> None:
    meta, raw = _sc(templates, tmp_path / "sc")
    reference = load_match([meta, raw])
    _rewrite(raw, lambda frames: frames[::-1])
    shuffled = load_match([meta, raw])
    assert shuffled.metadata.extra["repairs"]["unsorted_frames"] > 100
    assert shuffled.tracking.equals(reference.tracking)


def test_two_skillcorner_matches_in_one_folder_are_split(templates: Path, tmp_path: Path) -> None:
    folder = tmp_path / "two"
    for prefix, template in (("a", "sc_small"), ("b", "sc")):
        meta, raw = _sc(templates, tmp_path / prefix, template)
        folder.mkdir(exist_ok=True)
        shutil.move(meta, folder / f"{prefix}_match_data.json")
        shutil.move(raw, folder / f"{prefix}_structured_data.json")
    groups = group_match_files([folder])
    assert sorted(sorted(p.name for p in g) for g in groups) == [
        ["a_match_data.json", "a_structured_data.json"], ["b_match_data.json", "b_structured_data.json"]
    ]
    done = CliRunner().invoke(app, ["ingest", str(folder), "--store", str(tmp_path / "store")])
    assert done.exit_code == 0 and "2 ok, 0 failed" in done.output, done.output


# ----------------------------------------------------------------------------------------------------------------
# Hawk-Eye
# ----------------------------------------------------------------------------------------------------------------


@pytest.fixture()
def hawkeye(templates: Path, tmp_path: Path) -> Path:
    """A folder with 2 s of every real Hawk-Eye feed and the metadata."""
    _copy(templates, "he", tmp_path / "he")
    return tmp_path / "he"


def _feed(folder: Path, minute: str, kind: str) -> Path:
    return folder / f"hawkeye_{minute}.football.samples.{kind}.xz"


def test_hawkeye_without_a_ball_feed(hawkeye: Path, tmp_path: Path) -> None:
    for path in hawkeye.glob("*.ball.xz"):
        path.unlink()
    with pytest.raises(SoccerAIError, match="hawkeye needs a ball file"):
        load_match(sorted(hawkeye.iterdir()))
    _ingest_fails([hawkeye], tmp_path / "store", "hawkeye needs a ball file")


def test_hawkeye_minute_without_its_ball_feed(hawkeye: Path) -> None:
    _feed(hawkeye, "2_46", "ball").unlink()
    with pytest.raises(SoccerAIError, match="no ball feed for period 2 minute 46") as err:
        load_match(sorted(hawkeye.iterdir()))
    _one_line(err.value, _feed(hawkeye, "2_46", "centroids"))


def test_a_centroid_feed_of_another_match(hawkeye: Path, tmp_path: Path) -> None:
    odd = _feed(hawkeye, "2_46", "centroids")

    def other_match(doc: dict) -> None:
        doc["details"]["match"]["id"]["heId"] = "00000000-another-match"

    _rewrite(odd, other_match)
    with pytest.raises(SoccerAIError, match="feeds of two matches in one match") as err:
        load_match(sorted(hawkeye.iterdir()))
    _one_line(err.value, odd)
    _ingest_fails([hawkeye], tmp_path / "store", odd.name, "two matches")


def test_hawkeye_players_match_no_player_list(hawkeye: Path, tmp_path: Path) -> None:
    odd = _feed(hawkeye, "1_1", "centroids")

    def renamed(doc: dict) -> None:
        for player in doc["details"]["players"]:
            player["id"]["fifaId"] = "x" + player["id"]["fifaId"]

    for minute in ("1_1", "2_46"):  # the player lists of every feed, so that no tracked id is in any
        _rewrite(_feed(hawkeye, minute, "centroids"), renamed)
    with pytest.raises(SoccerAIError, match="is in no player list of the feeds") as err:
        load_match(sorted(hawkeye.iterdir()))
    _one_line(err.value, odd)


def test_a_minute_given_twice_is_refused(hawkeye: Path, tmp_path: Path) -> None:
    for kind in ("ball", "centroids"):
        shutil.copy(_feed(hawkeye, "1_1", kind), hawkeye / f"copy_1_1.football.samples.{kind}.xz")
    with pytest.raises(SoccerAIError, match="minute 1 ball feed already given by") as err:
        load_match(sorted(hawkeye.iterdir()))
    assert "duplicated across minute files" in str(err.value)
    _ingest_fails([hawkeye], tmp_path / "store", "already given by")


def test_hawkeye_samples_out_of_order_read_as_in_order(hawkeye: Path) -> None:
    """Ball samples out of order: the same frames, sorted, and still exactly what kloppy makes of the same files."""
    reference = load_match(sorted(hawkeye.iterdir()))
    def shuffled(doc: dict) -> None:  # the first 26 samples stay: kloppy reads the frame rate from them
        ball = doc["samples"]["ball"]
        doc["samples"]["ball"] = ball[:26] + ball[26:][::-1]

    _rewrite(_feed(hawkeye, "1_1", "ball"), shuffled)
    fast = load_match(sorted(hawkeye.iterdir()))
    slow = load_match(sorted(hawkeye.iterdir()), engine="kloppy")
    keys = ["period", "frame", "object_id"]
    assert fast.tracking.select(keys).equals(reference.tracking.select(keys))
    assert fast.tracking.equals(slow.tracking)
