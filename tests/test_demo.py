"""The demo end to end, small: every stage runs on simulated matches and writes what it promises."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from soccerai.demo import run_demo
from soccerai.errors import InvalidParameterError
from soccerai.store import read_match


def test_demo_runs_every_stage_on_simulated_matches(tmp_path: Path) -> None:
    result = run_demo(tmp_path / "demo", minutes=6, train_budget_s=5, max_shots=1, n_samples=2, log=lambda _m: None,
                      store=tmp_path / "store")
    assert len(result.stored) == 2 and all(read_match(p).metadata.simulated for p in result.stored)
    table = result.forecast_table
    assert set(table["model"]) == {"constant_velocity", "gvrnn"} and (table["data"] == "simulated").all()
    assert (result.checkpoint / "manifest.json").is_file()
    out = {name: pl.read_parquet(tmp_path / "demo" / f"{name}.parquet")
           for name in ("forecast", "shot_obso", "cobso_pairs", "cobso_players")}
    assert out["forecast"].equals(table) and table.height == 6  # 2 models x (full scene players, ball; ghosting)
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
