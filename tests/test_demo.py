"""The demo end to end, small: every stage runs on simulated matches and writes what it promises."""

from __future__ import annotations

from pathlib import Path

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
    for name in ("forecast", "shot_obso", "cobso_pairs", "cobso_players"):
        assert pl.read_parquet(tmp_path / "demo" / f"{name}.parquet").columns
    if result.figure is not None:  # a shot with an off-ball attacker in the final third was found
        assert result.figure.read_bytes()[:4] == b"\x89PNG"


def test_demo_refuses_absurd_settings(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match="minutes"):
        run_demo(tmp_path, minutes=0.5)
    with pytest.raises(InvalidParameterError, match="train budget"):
        run_demo(tmp_path, train_budget_s=-1)
