"""Goalkeepers inferred where the provider names none (Metrica CSV)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from soccerai.io import load_match
from soccerai.synth import synthesize_match, write_match_files


def test_metrica_csv_keepers_are_the_synthesized_keepers(tmp_path: Path) -> None:
    match = synthesize_match(None, seed=2, duration_s=120)
    truth = set(match.players.filter(pl.col("is_goalkeeper")).get_column("object_id"))
    files = write_match_files(match, tmp_path, formats=("metrica-csv",))
    loaded = load_match(files["metrica-csv"])
    found = set(loaded.players.filter(pl.col("is_goalkeeper")).get_column("object_id"))
    assert found == truth and len(found) == 2
    assert set(loaded.metadata.extra["inferred_goalkeepers"].values()) == truth


def test_provider_keepers_are_kept(samples_dir: Path) -> None:
    match = load_match([samples_dir / "epts_metrica_metadata.xml", samples_dir / "epts_metrica_tracking.txt"])
    assert "inferred_goalkeepers" not in match.metadata.extra or len(match.metadata.extra["inferred_goalkeepers"]) < 2
    assert match.players.filter(pl.col("is_goalkeeper")).height >= 1
