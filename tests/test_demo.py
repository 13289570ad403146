"""The demo end to end, small: every stage runs on simulated matches and writes what it promises."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from soccerai.cli.demo import run_demo
from soccerai.data.store import read_match
from soccerai.errors import InvalidParameterError


def test_demo_runs_every_stage_on_simulated_matches(tmp_path: Path) -> None:
    result = run_demo(tmp_path / "demo", minutes=6, train_budget_s=5, max_shots=1, n_samples=2, log=lambda _m: None,
                      store=tmp_path / "store")
    assert len(result.stored) == 2 and all(read_match(p).metadata.simulated for p in result.stored)
    table = result.forecast_table
    assert set(table["model"]) == {"constant_velocity", "gvrnn"} and (table["data"] == "simulated").all()
    assert (result.checkpoint / "manifest.json").is_file()
    out = {name: pl.read_parquet(tmp_path / "demo" / f"{name}.parquet")
           for name in ("forecast", "shot_obso", "cobso_pairs", "cobso_players")}
    # the written table is the returned one, labelled with its tracking source (2 models x 3 scenarios)
    assert (out["forecast"]["tracking"] == "simulated").all() and table.height == 6
    assert out["forecast"].drop("tracking").equals(table.drop("tracking", strict=False))
    for column in ("ade", "fde", "min_ade_20", "min_fde_20"):
        values = table[column].to_numpy()
        assert np.isfinite(values).all() and (values > 0).all() and (values < 60).all(), (column, values)
    assert (table["min_ade_20"] <= table["ade"] + 1e-4).all()  # the best of 20 samples is never worse than all
    shots = out["shot_obso"]
    assert shots.height == 1 and 0 < shots["shooter_obso"][0] <= shots["best_obso"][0] <= 1
    pairs, players = out["cobso_pairs"], out["cobso_players"]
    assert pairs.height >= 1 and set(pairs["shot_id"]) == set(shots["shot_id"])
    assert (pairs["real_obso"] - shots["shooter_obso"][0]).abs().max() < 1e-9
    assert ((pairs["cobso"] >= 0) & (pairs["predicted_obso_mean"] >= 0)).all()
    assert sorted(players["player"]) == sorted(pairs["a1"]) and players["shots"].sum() == pairs.height
    # the seeded demo finds a shot with off-ball attackers: the figure must be there
    assert result.figure is not None and result.figure.read_bytes()[:4] == b"\x89PNG"


def test_demo_refuses_absurd_settings(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match="minutes"):
        run_demo(tmp_path, minutes=0.5)
    with pytest.raises(InvalidParameterError, match="train budget"):
        run_demo(tmp_path, train_budget_s=-1)


def test_real_match_files_come_from_kloppy_without_a_data_folder(tmp_path: Path, monkeypatch) -> None:
    """On a fresh machine with no data folder the demo reads the real match kloppy's wheel ships."""
    import json

    from soccerai.cli.demo import real_match_files

    monkeypatch.setenv("SOCCERAI_DATA_DIR", str(tmp_path / "no-data"))
    meta, raw = real_match_files()
    assert (meta.name, raw.name) == ("skillcorner_match_data.json", "skillcorner_structured_data.json")
    match_data = json.loads(meta.read_text())
    assert match_data["id"] == 2417 and match_data["home_team"]["short_name"] == "Bayern Munchen"
    assert raw.stat().st_size > 50_000_000  # the full match, not a sample


@pytest.mark.slow
def test_real_demo_writes_real_shots_obso_cobso_and_the_figure(tmp_path: Path) -> None:
    from soccerai.cli.demo import run_real_demo

    result = run_real_demo(tmp_path / "demo", train_budget_s=5, max_shots=3, n_samples=2, log=lambda _m: None,
                           store=tmp_path / "store")
    assert result.tracking == "real" and not read_match(result.stored[0]).metadata.simulated
    assert result.shots.height > 5 and set(result.shots["shot_source"]) == {"detected"}
    for name in ("forecast", "shots", "shot_obso", "cobso_pairs", "cobso_players", "cobso_players_constant_velocity"):
        table = pl.read_parquet(tmp_path / "demo" / f"{name}.parquet")
        assert set(table["tracking"]) == {"real"}
    assert result.shot_obso.height > 0 and result.shot_obso["shooter_obso"].is_between(0, 1).all()
    assert any("skipped" in note for note in result.shot_notes)  # broadcast: shooters out of view are counted
    assert result.figure is None or result.figure.read_bytes()[:4] == b"\x89PNG"
    roles = pl.read_parquet(tmp_path / "demo" / "shot_roles.parquet")
    assert roles.height == result.shots.height  # every shot listed, skipped ones with their reason
    assert roles.filter(pl.col("a1").is_null())["reason"].null_count() == 0
    pairs = pl.read_parquet(tmp_path / "demo" / "cobso_pairs.parquet")
    assert {"cobso_signed", "cobso"} <= set(pairs.columns) and (pairs["cobso"] >= 0).all()
    goals = set(result.shot_obso.filter(pl.col("result") == "GOAL")["shot_id"])
    if goals:  # the story is a goal: C-OBSO is computed for the goals first
        assert goals & set(pairs["shot_id"]) or not pairs.height
