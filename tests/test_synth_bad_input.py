"""Bad event timelines: one clear soccerai error naming the file, and no output files."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from soccerai.errors import InvalidInputError, InvalidParameterError
from soccerai.synth import synthesize_match, write_match_files
from soccerai.synth.timeline import read_timeline

GAME1 = "Sample_Game_1_RawEventsData.csv"


@pytest.fixture()
def game1_rows(events_dir: Path) -> pl.DataFrame:
    return pl.read_csv(events_dir / GAME1, glob=False).head(300)


def _write(df: pl.DataFrame, path: Path) -> Path:
    df.write_csv(path)
    return path


def _expect(path: Path, words: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        synthesize_match(path, seed=0, duration_s=60)
    message = str(info.value)
    assert str(path) in message and words in message and "\n" not in message


def test_wrong_provider(samples_dir: Path, tmp_path: Path) -> None:
    _expect(samples_dir / "metrica_home.csv", "not a Metrica event CSV")  # a tracking file, not events
    _expect(samples_dir / "statsbomb_event.json", "EPTS metadata")  # no Metrica metadata beside it
    fake = tmp_path / "Fake_events.json"
    fake.write_text((samples_dir / "statsbomb_event.json").read_text())
    (tmp_path / "Fake_metadata.xml").write_text((samples_dir / "epts_metrica_metadata.xml").read_text())
    _expect(fake, "not a Metrica JSON event file")


def test_missing_columns(game1_rows: pl.DataFrame, tmp_path: Path) -> None:
    _expect(_write(game1_rows.drop("Start Frame"), tmp_path / "e.csv"), "missing columns ['Start Frame']")


def test_frames_going_backwards(game1_rows: pl.DataFrame, tmp_path: Path) -> None:
    frames = game1_rows["Start Frame"].to_list()
    frames[100], frames[101] = frames[101] + 500, frames[100]
    _expect(
        _write(game1_rows.with_columns(pl.Series("Start Frame", frames)), tmp_path / "e.csv"), "go backwards"
    )


def test_shot_outside_the_pitch(game1_rows: pl.DataFrame, tmp_path: Path) -> None:
    bad = game1_rows.with_columns(
        pl.when(pl.col("Type") == "SHOT").then(pl.lit(1.6)).otherwise(pl.col("Start X")).alias("Start X")
    )
    assert (bad["Type"] == "SHOT").any()
    _expect(_write(bad, tmp_path / "e.csv"), "SHOT at frame")


def test_empty_timeline_and_empty_file(game1_rows: pl.DataFrame, tmp_path: Path) -> None:
    _expect(_write(game1_rows.head(0), tmp_path / "header_only.csv"), "empty")
    (tmp_path / "zero.csv").write_bytes(b"")
    _expect(tmp_path / "zero.csv", "empty")
    _expect(tmp_path / "absent.csv", "no such event file")


def test_corrupt_values(game1_rows: pl.DataFrame, tmp_path: Path) -> None:
    bad = game1_rows.with_columns(pl.col("Team").replace({"Home": "Blue"}))
    _expect(_write(bad, tmp_path / "e.csv"), "unknown team values ['blue']")


def test_absurd_parameters(events_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError):
        synthesize_match(events_dir / GAME1, duration_s=-5)
    with pytest.raises(InvalidParameterError):
        synthesize_match(events_dir / GAME1, seed=-1)
    match = synthesize_match(events_dir / GAME1, duration_s=20)
    with pytest.raises(InvalidParameterError):
        write_match_files(match, tmp_path / "out", ("mp4",))
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def _cli() -> typer.Typer:
    from soccerai.cli.commands import synthesize

    app = typer.Typer()
    app.callback()(lambda: None)
    synthesize.register(app)
    return app


def test_cli_writes_a_short_match(events_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "sim"
    result = CliRunner().invoke(
        _cli(),
        [
            "synthesize",
            str(events_dir / GAME1),
            "--format",
            "metrica-csv",
            "--minutes",
            "1",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert (
        len(names) == 4 and any("Home_Team" in n for n in names) and any("RawEventsData" in n for n in names)
        and "soccerai_provenance.json" in names  # the mark that keeps the CSV simulated on ingest
    )
    assert "SIMULATED" in result.output


def test_cli_bad_file_writes_nothing(samples_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "sim"
    result = CliRunner().invoke(
        _cli(), ["synthesize", str(samples_dir / "metrica_home.csv"), "--out", str(out)]
    )
    assert isinstance(result.exception, InvalidInputError)
    assert not out.exists()


def test_read_timeline_names_the_file(events_dir: Path) -> None:
    tl = read_timeline(events_dir / GAME1)
    assert tl.source == events_dir / GAME1
