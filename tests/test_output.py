"""Output a person and a nightly log can read (issue 25): whole cells in pipes, --format md/csv/json, one
``error: <path>: <problem>`` line per failure, player names beside ids, defaults that work on the real match."""

from __future__ import annotations

import csv
import io
import json
import lzma
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from soccerai.cli.output import Output
from soccerai.match.names import player_label, player_names, with_player_names
from soccerai.windows import sources as datasets

CLIP = "clips/lastrow/LIV_[2]-1_CHE.csv"
MODELS = ("constant_velocity", "gvrnn")
SCENARIOS = ("full_scene", "ghosting")


def _cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The real entry point in a child process, stdout and stderr piped (not a terminal)."""
    env = {**os.environ, "SOCCERAI_OUT_DIR": str(tmp_path / "out")}
    return subprocess.run([sys.executable, "-m", "soccerai.cli", *args], capture_output=True,
                          text=True, timeout=300, env=env)


@pytest.fixture(scope="module")
def evaluated(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    """``evaluate`` of the real Last Row clip with the shipped GVRNN, piped, in every format."""
    tmp = tmp_path_factory.mktemp("evaluate")
    return {fmt: _cli("evaluate", str(data_dir / CLIP), "--checkpoint", "gvrnn-skillcorner", "--samples", "2",
                      "--format", fmt, tmp_path=tmp) for fmt in ("table", "csv", "json")}


def test_piped_evaluate_prints_every_name_whole_on_one_line(evaluated) -> None:
    done = evaluated["table"]
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    for name in (*MODELS, *SCENARIOS):
        assert any(f"| {name} |" in row for row in rows), (name, done.stdout)
    assert "…" not in done.stdout and "constant_velocit\n" not in done.stdout


def test_evaluate_csv_and_json_parse(evaluated) -> None:
    as_csv, as_json = evaluated["csv"], evaluated["json"]
    assert as_csv.returncode == 0 and as_json.returncode == 0, as_csv.stderr + as_json.stderr
    blocks = [list(csv.DictReader(io.StringIO(b))) for b in as_csv.stdout.strip().split("\n\n")]
    assert len(blocks) == 2 and {r["model"] for r in blocks[0]} == set(MODELS)
    assert {r["scenario"] for r in blocks[0]} == set(SCENARIOS) and all(float(r["ade"]) > 0 for r in blocks[0])
    tables = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert len(tables) == 2 and tables[0]["title"].startswith("Honest forecast error")
    assert {r["model"] for r in tables[0]["rows"]} == set(MODELS)


def test_markdown_format_keeps_long_cells_whole(capsys: pytest.CaptureFixture[str]) -> None:
    long = "/a/very/long/folder/" + "x" * 150 + "/metrica_home.csv"
    Output("md").table(pl.DataFrame({"detail": [long], "value": [1.5]}), "Ingest")
    out = capsys.readouterr().out
    assert f"| {long} | 1.50 |" in out.splitlines() and out.startswith("**Ingest**")


def test_ingest_failure_prints_its_full_path_on_stderr(samples_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / ("a-very-long-folder-name-that-a-narrow-table-would-cut-" * 3).rstrip("-")
    folder.mkdir()
    home = Path(shutil.copy(samples_dir / "metrica_home.csv", folder / "metrica_home.csv"))
    (folder / "metrica_away.csv").write_bytes(b"")
    done = _cli("ingest", str(folder), str(samples_dir / "metrica_home.csv"), str(samples_dir / "metrica_away.csv"),
                "--store", str(tmp_path / "store"), tmp_path=tmp_path)
    assert done.returncode == 1, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and str(folder) in errors[0], done.stderr
    assert errors[0].startswith(f"error: {folder}/metrica_") and home.parent == folder
    assert str(folder) in done.stdout and "1 ok, 1 failed" in done.stdout  # the table keeps the path whole too


def test_player_label_and_names_beside_ids() -> None:
    players = pl.DataFrame({"object_id": ["9724", "7"], "name": ["Serge Gnabry", None], "jersey": [22, None]})
    assert player_names(players) == {"9724": "Serge Gnabry (#22)", "7": "player 7"}
    assert player_label("1", "Thomas Müller", 25) == "Thomas Müller (#25)"
    named = with_player_names(pl.DataFrame({"shot_id": ["s"], "shooter": ["9724"], "a1": ["8"]}), players)
    assert named.columns == ["shot_id", "shooter", "shooter_name", "a1", "a1_name"]
    assert named.row(0) == ("s", "9724", "Serge Gnabry (#22)", "8", "player 8")


@pytest.fixture(scope="module")
def skillcorner_start(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real SkillCorner match's first 25 s of first-half tracking, in SkillCorner's own files."""
    source = data_dir / datasets.SKILLCORNER
    frames = json.loads(lzma.open(source / "structured_data.json.xz").read())
    tracked = [f for f in frames if f["data"] and f["period"] == 1]
    kept = [f for f in tracked if f["frame"] < tracked[0]["frame"] + 250]
    folder = tmp_path_factory.mktemp("skillcorner-start")
    shutil.copy(source / "match_data.json", folder / "match_data.json")
    (folder / "structured_data.json").write_text(json.dumps(kept))
    return folder


def test_obso_default_span_works_on_the_real_match(skillcorner_start: Path, tmp_path: Path) -> None:
    from soccerai.data.load import load_any

    starts = load_any([skillcorner_start]).tracking["time_s"].min()
    assert starts > 10.0  # broadcast tracking starts late: a 0-10 s default span found nothing (exit 2)
    done = _cli("obso", str(skillcorner_start), "--grid", "20x13", "--out", str(tmp_path / "obso"),
                tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = pl.read_parquet(next((tmp_path / "obso").glob("*_summary.parquet")))
    assert summary.columns.index("player_name") == summary.columns.index("player") + 1
    assert summary["player_name"].str.contains(r" \(#\d+\)$").all()
    assert any(f"| {name} |" in done.stdout for name in summary["player_name"])  # names in the printed table
