"""EPTS metadata that says ``<TrackingType>Simulated</TrackingType>`` gives ``metadata.simulated`` on both readers.

Real Metrica EPTS (``Optical``) stays real; soccerai's synthesizer writes ``Simulated``; an explicit ``simulated=``
argument (the ``--simulated`` flag, the pipeline's ``tracking`` label) wins over what the file says.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from soccerai.data.ingest import ingest_paths
from soccerai.data.store import read_match
from soccerai.errors import InvalidInputError
from soccerai.io import load_match
from soccerai.io.detect import declares_simulated
from soccerai.io.grouping import group_match_files
from soccerai.io.providers import kloppy as kloppy_loader
from soccerai.io.providers.metrica import read_metrica_epts
from soccerai.synth import synthesize_match, write_match_files

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

REAL_META, REAL_RAW = "epts_metrica_metadata.xml", "epts_metrica_tracking.txt"
SYNTH_SECONDS = 40.0  # 20 s of each half: a few hundred frames, enough for both readers


@pytest.fixture(scope="module")
def synthesized_epts(events_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """[metadata XML, tracking text] of a short SIMULATED match (real Game 1 events drive it)."""
    match = synthesize_match(events_dir / "Sample_Game_1_RawEventsData.csv", seed=3, duration_s=SYNTH_SECONDS)
    return write_match_files(match, tmp_path_factory.mktemp("synth_epts"), ("epts",))["epts"]


def _with_tracking_type(samples_dir: Path, folder: Path, tracking_type: str | None) -> Path:
    """A copy of the real EPTS metadata whose ``<TrackingType>`` says ``tracking_type`` (None: no such element)."""
    text = (samples_dir / REAL_META).read_text()
    element = "<TrackingType>Optical</TrackingType>"
    assert element in text
    path = folder / f"epts_{tracking_type or 'none'}_metadata.xml"
    replacement = "" if tracking_type is None else f"<TrackingType>{tracking_type}</TrackingType>"
    path.write_text(text.replace(element, replacement))
    return path


def test_the_real_sample_says_optical_and_stays_real(samples_dir: Path) -> None:
    files = [samples_dir / REAL_META, samples_dir / REAL_RAW]
    assert declares_simulated(files[0]) is False
    for engine in ("kloppy", "fast"):
        assert load_match(files, engine=engine).metadata.simulated is False, engine


def test_synthesized_epts_is_simulated_on_both_readers(synthesized_epts: list[Path]) -> None:
    assert "<TrackingType>Simulated</TrackingType>" in synthesized_epts[0].read_text()
    fast = load_match(synthesized_epts, engine="fast")
    slow = load_match(synthesized_epts, engine="kloppy")
    assert fast.metadata.simulated is True and slow.metadata.simulated is True
    assert fast.tracking.height == slow.tracking.height > 1000


@pytest.mark.parametrize(
    ("tracking_type", "simulated"),
    [("Simulated", True), (" simulated ", True), ("GPS", False), (None, False)],
)
def test_tracking_type_decides(
    samples_dir: Path, tmp_path: Path, tracking_type: str | None, simulated: bool
) -> None:
    meta = _with_tracking_type(samples_dir, tmp_path, tracking_type)
    assert declares_simulated(meta) is simulated
    assert read_metrica_epts(meta, samples_dir / REAL_RAW).metadata.simulated is simulated
    assert kloppy_loader.load_metrica_epts(meta, samples_dir / REAL_RAW).metadata.simulated is simulated


def test_an_explicit_argument_wins(samples_dir: Path, synthesized_epts: list[Path]) -> None:
    meta, raw = synthesized_epts
    assert read_metrica_epts(meta, raw, simulated=False).metadata.simulated is False
    assert kloppy_loader.load_metrica_epts(meta, raw, simulated=False).metadata.simulated is False
    real = (samples_dir / REAL_META, samples_dir / REAL_RAW)
    assert read_metrica_epts(*real, simulated=True).metadata.simulated is True
    assert kloppy_loader.load_metrica_epts(*real, simulated=True).metadata.simulated is True


def test_ingest_keeps_the_files_word_even_when_told_real(synthesized_epts: list[Path], tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    for path in synthesized_epts:
        shutil.copy(path, folder / path.name)
    groups = group_match_files([folder])
    assert len(groups) == 1
    (said,) = ingest_paths(groups, tmp_path / "store")
    assert said.ok and read_match(said.path).metadata.simulated is True
    (told,) = ingest_paths(groups, tmp_path / "store_told", simulated=False)
    assert told.ok and read_match(told.path).metadata.simulated is True  # never stored as real


def test_broken_metadata_declares_nothing_and_its_reader_says_why(samples_dir: Path, tmp_path: Path) -> None:
    meta = tmp_path / "epts_cut_metadata.xml"
    meta.write_text((samples_dir / REAL_META).read_text()[:300])  # cut before </TrackingType>
    assert declares_simulated(meta) is False
    assert declares_simulated(tmp_path / "missing.xml") is False
    with pytest.raises(InvalidInputError, match="epts_cut_metadata.xml"):
        read_metrica_epts(meta, samples_dir / REAL_RAW)
    with pytest.raises(InvalidInputError, match="metrica-epts"):
        kloppy_loader.load_metrica_epts(meta, samples_dir / REAL_RAW)


# ----------------------------------------------------------------------------------------------------------------
# The provenance manifest: Metrica CSV (which cannot say "simulated") survives the README's own commands
# ----------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthesized_csv(events_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder ``write_match_files`` wrote a short SIMULATED match into, in Metrica CSV (what synthesize does)."""
    match = synthesize_match(events_dir / "Sample_Game_1_RawEventsData.csv", seed=4, duration_s=12.0)
    folder = tmp_path_factory.mktemp("simulated")
    write_match_files(match, folder, ("metrica-csv",))
    return folder


def test_synthesize_then_ingest_folder_is_stored_simulated(synthesized_csv: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from soccerai.cli.app import app
    from soccerai.io.provenance import MANIFEST_NAME, read_manifest

    listed = read_manifest(synthesized_csv)
    csvs = sorted(p.name for p in synthesized_csv.glob("*.csv"))
    assert (synthesized_csv / MANIFEST_NAME).is_file() and sorted(listed) == csvs  # tracking pair + events
    done = CliRunner().invoke(app, ["ingest", str(synthesized_csv), "--store", str(tmp_path / "store")])
    assert done.exit_code == 0, done.output  # the manifest is not a match of its own
    (stored,) = list((tmp_path / "store").glob("*.parquet"))
    assert read_match(stored).metadata.simulated is True
    info = CliRunner().invoke(app, ["info", str(stored)])
    assert "simulated tracking" in info.output


def test_a_renamed_or_loose_simulated_file_stays_simulated(synthesized_csv: Path, tmp_path: Path) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(synthesized_csv, folder)
    home = next(folder.glob("*Home_Team.csv"))
    home.rename(folder / "renamed_Home_Team.csv")
    files = [folder / "renamed_Home_Team.csv", next(folder.glob("*Away_Team.csv"))]
    assert load_match(files).metadata.simulated is True  # listed by content
    assert load_match(files, engine="kloppy").metadata.simulated is True


def test_real_files_beside_no_manifest_stay_real(samples_dir: Path, tmp_path: Path) -> None:
    for name in ("metrica_home.csv", "metrica_away.csv"):
        shutil.copy(samples_dir / name, tmp_path / name)
    assert load_match([tmp_path / "metrica_home.csv", tmp_path / "metrica_away.csv"]).metadata.simulated is False


def test_a_damaged_manifest_is_an_error_naming_it(synthesized_csv: Path, tmp_path: Path) -> None:
    from soccerai.io.provenance import MANIFEST_NAME

    folder = tmp_path / "damaged"
    shutil.copytree(synthesized_csv, folder)
    (folder / MANIFEST_NAME).write_text("{not json")
    files = [next(folder.glob("*Home_Team.csv")), next(folder.glob("*Away_Team.csv"))]
    with pytest.raises(InvalidInputError, match=MANIFEST_NAME):
        load_match(files)
