"""Hostile input to the dashboard upload and the readers: parquet files claiming billions of rows or decompressing
to gigabytes (refused by their footer, before decoding), upload names with ``../`` or absolute paths, provider
names with HTML / Markdown / mathtext (shown as text), a million players, 1e30 m coordinates, NaN/inf everywhere.
Matches are short SIMULATED ones (synthesizer driven by a real Metrica event timeline)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from soccerai import replay
from soccerai.data.store import check_parquet_budget, read_match, write_match
from soccerai.errors import InvalidInputError, InvalidTrackingError, SoccerAIError
from soccerai.io.providers.metrica import read_metrica_csv
from soccerai.match.schema import Match

HOSTILE_ID = "<img src=x onerror=alert(1)>"
MATHTEXT_ID = "$\\frac{oops$"


@pytest.fixture(scope="module")
def match(events_dir: Path) -> Match:
    from soccerai.synth import synthesize_match

    return synthesize_match(events_dir / "Sample_Game_1_RawEventsData.csv", seed=0, duration_s=100.0)


@pytest.fixture(scope="module")
def match_bytes(match: Match, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return write_match(match, tmp_path_factory.mktemp("valid") / "m.parquet").read_bytes()


@pytest.fixture(scope="module")
def metrica_files(match: Match, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from soccerai.synth import write_match_files

    folder = tmp_path_factory.mktemp("metrica")
    write_match_files(match, folder, ("metrica-csv",))
    return next(folder.glob("*Home_Team.csv")), next(folder.glob("*Away_Team.csv"))


# ---- parquet bombs ------------------------------------------------------------------------------------------------
def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _claim_rows(path: Path, rows: int) -> None:
    """Rewrite the footer's i64 row counts (Thrift compact: field header 0x16, zigzag varint) to ``rows``."""
    data = path.read_bytes()
    length = struct.unpack("<I", data[-8:-4])[0]
    footer = data[-8 - length : -8]
    real = pq.read_metadata(path).num_rows
    old, new = b"\x16" + _varint(real * 2), b"\x16" + _varint(rows * 2)
    assert old in footer
    footer = footer.replace(old, new)
    path.write_bytes(data[: -8 - length] + footer + struct.pack("<I", len(footer)) + b"PAR1")


def test_a_parquet_claiming_billions_of_rows_is_refused_by_its_footer(match_bytes: bytes, tmp_path: Path) -> None:
    path = tmp_path / "billions.parquet"
    path.write_bytes(match_bytes)
    _claim_rows(path, 3_000_000_000)
    assert pq.read_metadata(path).num_rows == 3_000_000_000  # the crafted footer really says so
    for read in (check_parquet_budget, read_match, replay.read_table):
        with pytest.raises(InvalidInputError, match="claims 3000000000 rows"):
            read(path)
    store = tmp_path / "store"
    with pytest.raises(InvalidInputError, match="claims 3000000000 rows"):
        replay.save_upload("billions.parquet", path.read_bytes(), store)
    assert not store.exists() or list(store.iterdir()) == []


def test_a_parquet_decompressing_to_far_more_than_its_size_is_refused(tmp_path: Path) -> None:
    """32 MB of zeros stored in a few kB; an upload claiming ~1 GB decoded in a footer-consistent way is also over
    the upload budget. Both refused before a page is decoded."""
    bomb = tmp_path / "bomb.parquet"
    pq.write_table(pa.table({"x": pa.array(np.zeros(4_000_000))}), bomb, compression="zstd")
    assert bomb.stat().st_size < 200_000
    for read in (check_parquet_budget, read_match, replay.read_table):
        with pytest.raises(InvalidInputError, match="would decode to 31 MiB"):
            read(bomb)
    with pytest.raises(InvalidInputError, match="would decode to"):
        replay.save_upload("bomb.parquet", bomb.read_bytes(), tmp_path / "store")
    wide = tmp_path / "wide.parquet"
    pq.write_table(pa.table({"x": pa.array(np.zeros(10))}), wide)
    _claim_rows(wide, 40_000_000)  # 320 MB decoded by the footer: under the store limit, over an upload's ratio
    with pytest.raises(InvalidInputError, match="would decode to 305 MiB"):
        replay.save_upload("wide.parquet", wide.read_bytes(), tmp_path / "store")


def test_a_real_match_passes_the_budget(match_bytes: bytes, tmp_path: Path) -> None:
    path = tmp_path / "ok.parquet"
    path.write_bytes(match_bytes)
    assert check_parquet_budget(path).num_rows == read_match(path).tracking.height


# ---- upload names -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../../evil.parquet", "/etc/evil.parquet", "..\\..\\evil.parquet",
                                  "a/../../b.parquet", "%2e%2e%2fevil.parquet", "\x00evil.parquet"])
def test_upload_names_cannot_leave_the_store(name: str, match_bytes: bytes, tmp_path: Path) -> None:
    store = tmp_path / "deep" / "store"
    saved = replay.save_upload(name, match_bytes, store)
    assert saved.resolve().parent == store.resolve() and saved.is_file()
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [saved.name]


@pytest.mark.parametrize("name", ["..", "/", "../.parquet", ".parquet", "evil.parquet.exe", "x" * 300])
def test_upload_names_that_name_no_match_are_refused(name: str, match_bytes: bytes, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError):
        replay.save_upload(name, match_bytes, tmp_path / "store")
    assert not (tmp_path / "store").exists() or list((tmp_path / "store").iterdir()) == []


# ---- provider names shown as text -------------------------------------------------------------------------------
def _renamed(match: Match, old: str, new: str) -> Match:
    swap = pl.col("object_id").replace({old: new})
    players = match.players.with_columns(swap, pl.when(pl.col("object_id") == old).then(None)
                                         .otherwise(pl.col("jersey")).alias("jersey"))
    return Match(match.tracking.with_columns(swap), players, match.metadata, match.events)


def test_provider_names_with_html_markdown_or_mathtext_are_shown_as_text(match: Match) -> None:
    home = match.players.filter(pl.col("team") == "home").get_column("object_id").to_list()
    hostile = _renamed(_renamed(match, home[0], HOSTILE_ID), home[1], MATHTEXT_ID).validate()
    moment = replay.timeline(hostile)[0]
    scene = replay.scene_for_moment(hostile, moment)
    assert HOSTILE_ID[: replay.MAX_LABEL] in scene.labels
    figure = replay.replay_figure(scene)
    texts = [t for trace in figure.data for t in (trace.text or ()) if isinstance(t, str)]
    texts += [t for frame in figure.frames for trace in frame.data for t in (trace.text or ())
              if isinstance(t, str)]
    assert any("&lt;img" in t for t in texts) and not any("<img" in t for t in texts)
    png = replay.frame_png(scene, scene.key_index)  # matplotlib would raise on the unbalanced mathtext
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


# ---- provider files: a million players, absurd coordinates, NaN/inf -------------------------------------------------
def _rewrite_rows(path: Path, change) -> None:
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:3] + [change(line) for line in lines[3:]]) + "\n")


def test_a_million_players_is_refused_from_the_header(metrica_files: tuple[Path, Path], tmp_path: Path) -> None:
    home, away = metrica_files
    big = tmp_path / home.name
    n = 1_000_000
    big.write_text(",,," + ",".join(["Home", ""] * n) + ",,\n"
                   + ",,," + ",".join(f"{i},".rstrip(",") + "," for i in range(n)) + ",,\n"
                   + "Period,Frame,Time [s]," + ",".join(f"Player{i}," for i in range(n)) + "Ball,\n"
                   + "1,1,0.04," + ",".join(["NaN"] * (2 * n)) + ",0.5,0.5\n")
    with pytest.raises(InvalidInputError, match="longer than 64 KiB"):
        read_metrica_csv(big, away)
    few = tmp_path / "few" / home.name
    few.parent.mkdir()
    n = 61
    few.write_text(",,," + ",".join(["Home", ""] * n) + ",,\n" + ",,," + "".join(f"{i},," for i in range(n)) + "\n"
                   + "Period,Frame,Time [s]," + "".join(f"Player{i},," for i in range(n)) + "Ball,\n")
    with pytest.raises(InvalidInputError, match="names 61 players"):
        read_metrica_csv(few, away)


@pytest.mark.parametrize(("value", "expected"), [("1e30", "absurd coordinates"), ("inf", "NaN/inf"),
                                                  ("-inf", "NaN/inf")])
def test_absurd_or_infinite_coordinates_are_refused(metrica_files: tuple[Path, Path], tmp_path: Path, value: str,
                                                    expected: str) -> None:
    home, away = metrica_files
    bad = tmp_path / home.name
    bad.write_text(home.read_text())

    def poison(line: str) -> str:
        fields = line.split(",")
        fields[3] = value if fields[3] != "NaN" else fields[3]
        return ",".join(fields)

    _rewrite_rows(bad, poison)
    with pytest.raises(SoccerAIError, match=expected) as info:
        read_metrica_csv(bad, away)
    assert "\n" not in str(info.value)


def test_nan_everywhere_is_refused(metrica_files: tuple[Path, Path], tmp_path: Path) -> None:
    home, away = metrica_files
    for path in (home, away):
        (tmp_path / path.name).write_text(path.read_text())
        _rewrite_rows(tmp_path / path.name, lambda line: ",".join(line.split(",")[:3] + ["NaN"] * (line.count(",") - 2)))
    with pytest.raises(InvalidTrackingError, match="no positions in any frame"):
        read_metrica_csv(tmp_path / home.name, tmp_path / away.name)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 1e30])
def test_an_uploaded_match_with_nan_inf_or_absurd_positions_is_refused(value: float, match_bytes: bytes,
                                                                       tmp_path: Path) -> None:
    good = tmp_path / "good.parquet"
    good.write_bytes(match_bytes)
    table = pq.read_table(good)
    x = table.column("x").to_numpy().copy()
    x[::7] = value
    hostile = tmp_path / "hostile.parquet"
    pq.write_table(table.set_column(table.schema.get_field_index("x"), "x", pa.array(x)), hostile)
    with pytest.raises(InvalidInputError, match="not valid tracking data"):
        replay.save_upload("hostile.parquet", hostile.read_bytes(), tmp_path / "store")
    assert list((tmp_path / "store").iterdir()) == []
