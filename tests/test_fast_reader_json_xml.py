"""The native Second Spectrum, PFF and Sportec readers give exactly the kloppy path's canonical match on every
sample, follow kloppy on repaired input (duplicated / out-of-order frames, unknown players), and fail cleanly on
bad files: one line naming the file, nothing written."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from test_fast_reader import assert_same_match
from typer.testing import CliRunner

from soccerai.cli.app import app
from soccerai.errors import SoccerAIError
from soccerai.io import READERS, load_match

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

SS_XML = "second_spectrum_fake_metadata.xml"
SS_JSON = "second_spectrum_fake_metadata.json"
SS_RAW = "second_spectrum_fake_data.jsonl"
CASES = {
    "secondspectrum-xml": ("secondspectrum", [SS_XML, SS_RAW]),
    "secondspectrum-xml+json": ("secondspectrum", [SS_XML, SS_JSON, SS_RAW]),
    "secondspectrum-utf8sig": ("secondspectrum", [SS_XML, SS_JSON, "second_spectrum_fake_data_utf8sig.jsonl"]),
    "pff-10517-extra-time": ("pff", ["pff_metadata_10517.json", "pff_rosters_10517.json", "pff_10517.jsonl"]),
    "pff-3812": ("pff", ["pff_metadata_3812.json", "pff_rosters_3812.json", "pff_3812.jsonl"]),
    "sportec": ("sportec", ["sportec_meta.xml", "sportec_positional.xml"]),
    "sportec-referee": ("sportec", ["sportec_meta.xml", "sportec_positional_w_referee.xml"]),
}
MODULES = {"secondspectrum": "secondspectrum", "pff": "pff", "sportec": "sportec"}
BASE = {"secondspectrum": "secondspectrum-xml+json", "pff": "pff-3812", "sportec": "sportec-referee"}


def _copy(samples_dir: Path, tmp_path: Path, case: str) -> list[Path]:
    return [Path(shutil.copy(samples_dir / name, tmp_path / name)) for name in CASES[case][1]]


def _both(paths: list[Path], provider: str):
    return load_match(paths, provider=provider, engine="fast"), load_match(paths, provider=provider, engine="kloppy")


@pytest.mark.parametrize("case", list(CASES))
def test_fast_equals_kloppy_on_every_sample(samples_dir: Path, case: str) -> None:
    provider, names = CASES[case]
    fast, slow = _both([samples_dir / n for n in names], provider)
    assert fast.tracking.height > 200 and fast.players.height >= 22
    assert_same_match(fast, slow)


@pytest.mark.parametrize("provider", list(MODULES))
def test_registered_as_fast_and_auto_uses_it(samples_dir: Path, provider: str) -> None:
    assert READERS[provider]["fast"].__module__ == f"soccerai.io.providers.{MODULES[provider]}"
    files = list(reversed([samples_dir / n for n in CASES[BASE[provider]][1]]))  # any order
    assert_same_match(load_match(files), load_match(files, engine="kloppy"))


def test_pff_extra_time_has_four_periods(samples_dir: Path) -> None:
    match = load_match([samples_dir / n for n in CASES["pff-10517-extra-time"][1]])
    assert [p.id for p in match.metadata.periods] == [1, 2, 3, 4]


# ---------------------------------------------------------------------------------------------------------------
# Repairs and unknown players: as kloppy
# ---------------------------------------------------------------------------------------------------------------


def _edit_lines(path: Path, edit) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(edit(lines)))


@pytest.mark.parametrize("provider", ["secondspectrum", "pff"])
def test_duplicated_and_out_of_order_lines_are_repaired_as_kloppy(samples_dir: Path, tmp_path: Path,
                                                                   provider: str) -> None:
    paths = _copy(samples_dir, tmp_path, BASE[provider])
    _edit_lines(paths[-1], lambda ls: [ls[0], ls[2], ls[1], ls[1], *ls[3:]])  # 2 and 1 swapped, 1 twice
    fast, slow = _both(paths, provider)
    assert fast.metadata.extra["repairs"] == {"duplicated_frames": 1, "unsorted_frames": 1}
    assert_same_match(fast, slow)


def test_sportec_duplicated_and_out_of_order_frames_as_kloppy(samples_dir: Path, tmp_path: Path) -> None:
    paths = _copy(samples_dir, tmp_path, "sportec")
    frames = [i for i, line in enumerate(paths[1].read_bytes().splitlines(keepends=True)) if b"<Frame " in line]
    a, b = frames[3], frames[4]

    def edit(ls):
        ls = list(ls)
        ls[a], ls[b] = ls[b], ls[a]
        return [*ls[: frames[10]], ls[frames[10]].replace(b'X="', b'X="1'), *ls[frames[10]:]]  # a frame twice

    _edit_lines(paths[1], edit)
    assert_same_match(*_both(paths, "sportec"))


@pytest.mark.parametrize("provider", list(MODULES))
def test_unknown_players_follow_kloppy(samples_dir: Path, tmp_path: Path, provider: str) -> None:
    """An id the metadata lacks: Second Spectrum adds the player (kloppy's rule), PFF and Sportec drop the rows."""
    paths = _copy(samples_dir, tmp_path, BASE[provider])
    raw = paths[-1]
    text = raw.read_bytes()
    if provider == "secondspectrum":
        text = text.replace(b'"number": 18,', b'"number": 77,', 40)
    elif provider == "pff":
        text = text.replace(b'"jerseyNum": "21"', b'"jerseyNum": "77"', 40)
    else:
        text = text.replace(b'PersonId="DFL-OBJ-002G5S"', b'PersonId="DFL-OBJ-UNKNOWN"', 1)
    raw.write_bytes(text)
    fast, slow = _both(paths, provider)
    assert_same_match(fast, slow)


# ---------------------------------------------------------------------------------------------------------------
# Bad files: one line naming the file
# ---------------------------------------------------------------------------------------------------------------


def _fails(paths: list[Path], provider: str, blamed: Path, match: str | None = None) -> str:
    with pytest.raises(SoccerAIError, match=match) as info:
        load_match(paths, provider=provider, engine="fast")
    message = str(info.value)
    assert blamed.name in message and "\n" not in message and "Traceback" not in message, message
    return message


@pytest.mark.parametrize("provider", list(MODULES))
def test_truncated_raw(samples_dir: Path, tmp_path: Path, provider: str) -> None:
    paths = _copy(samples_dir, tmp_path, BASE[provider])
    data = paths[-1].read_bytes()
    paths[-1].write_bytes(data[: int(len(data) * 0.6)])
    _fails(paths, provider, paths[-1])


@pytest.mark.parametrize("provider", list(MODULES))
def test_compressed_and_truncated_raw(samples_dir: Path, tmp_path: Path, provider: str) -> None:
    paths = _copy(samples_dir, tmp_path, BASE[provider])
    packed = gzip.compress(paths[-1].read_bytes())
    paths[-1].write_bytes(packed[: len(packed) // 2])
    _fails(paths, provider, paths[-1], "truncated or corrupt gz")


@pytest.mark.parametrize("provider", list(MODULES))
def test_compressed_raw_reads_equal(samples_dir: Path, tmp_path: Path, provider: str) -> None:
    paths = _copy(samples_dir, tmp_path, BASE[provider])
    paths[-1].write_bytes(gzip.compress(paths[-1].read_bytes()))
    assert_same_match(*_both(paths, provider))


def test_secondspectrum_metadata_of_another_match(samples_dir: Path, tmp_path: Path) -> None:
    paths = _copy(samples_dir, tmp_path, "secondspectrum-xml")
    paths[0].write_text(paths[0].read_text().replace('iEndFrame="6927840" iId="2" iStartFrame="3907360"',
                                                     'iEndFrame="0" iId="2" iStartFrame="0"'))
    _fails(paths, "secondspectrum", paths[1], "period the metadata lacks")


def test_pff_rosters_of_another_match(samples_dir: Path, tmp_path: Path) -> None:
    paths = _copy(samples_dir, tmp_path, "pff-3812")
    other = Path(shutil.copy(samples_dir / "pff_rosters_10517.json", paths[1]))
    _fails(paths, "pff", other, "rosters of another match")


def test_pff_unknown_every_jersey(samples_dir: Path, tmp_path: Path) -> None:
    paths = _copy(samples_dir, tmp_path, "pff-3812")
    paths[-1].write_bytes(paths[-1].read_bytes().replace(b'"jerseyNum": "', b'"jerseyNum": "9'))
    _fails(paths, "pff", paths[-1], "no tracked jersey")


def test_sportec_metadata_of_another_match(samples_dir: Path, tmp_path: Path) -> None:
    paths = _copy(samples_dir, tmp_path, "sportec")
    paths[1].write_bytes(paths[1].read_bytes().replace(b'PersonId="DFL-OBJ-0', b'PersonId="DFL-OBJ-X'))
    _fails(paths, "sportec", paths[1], "no tracked person")


@pytest.mark.parametrize("provider", list(MODULES))
def test_corrupt_metadata(samples_dir: Path, tmp_path: Path, provider: str) -> None:
    paths = _copy(samples_dir, tmp_path, BASE[provider])
    paths[0].write_bytes(paths[0].read_bytes()[:150])
    _fails(paths, provider, paths[0])


@pytest.mark.parametrize("provider", list(MODULES))
def test_ingest_of_a_truncated_match_writes_nothing(samples_dir: Path, tmp_path: Path, provider: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    paths = _copy(samples_dir, folder, BASE[provider])
    data = paths[-1].read_bytes()
    paths[-1].write_bytes(data[: int(len(data) * 0.6)])
    store = tmp_path / "store"
    done = CliRunner().invoke(app, ["ingest", *map(str, paths), "--store", str(store)], env={"COLUMNS": "300"})
    assert done.exit_code == 1, done.output
    assert paths[-1].name in done.output.replace("\n", "")
    assert not store.exists() or not list(store.iterdir())
