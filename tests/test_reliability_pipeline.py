"""The pipeline's holdout never leaks: each match's side is recorded on first sight and never moves, and no model is
evaluated on a match it or an ancestor trained on. Matches are short SIMULATED ones in the real Metrica CSV format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from soccerai.pipeline import load_config, run_pipeline
from soccerai.pipeline.ledger import Ledger
from soccerai.pipeline.training import EvaluateTask, HoldoutLeakError, assign_holdout, evaluate, unit_hash

MATCH_SECONDS = 12.0
JOB = """[pipeline]
name = "holdout"
drop_dir = "drop"
state_dir = "state"
steps = ["ingest", "windows", "train", "evaluate"]
executor = "inline"
tracking = "simulated"
[windows]
obs_s = 1.0
pred_s = 1.0
stride_s = 1.0
[train]
model = "vrnn"
max_steps = 1
batch_size = 8
accelerator = "cpu"
holdout_fraction = 0.2
retrain_every_runs = 100
model_options = {hidden = 8, latent = 4}
"""


def synth_drop(events_dir: Path, drop: Path, name: str, seed: int) -> None:
    from soccerai.synth import synthesize_match, write_match_files

    match = synthesize_match(events_dir / "Sample_Game_1_RawEventsData.csv", seed=seed, duration_s=MATCH_SECONDS)
    write_match_files(match, drop / name, ("metrica-csv",))


def test_the_issue_example_no_longer_moves_a_trained_match() -> None:
    """Before: with [match1, match7] train was [match7]; adding match0 made the holdout [match1, match7]."""
    first = assign_holdout(["match1", "match7"], 0.2)
    assert sorted(k for k, v in first.items() if not v) == ["match7"] and first["match1"]
    second = assign_holdout(["match0", "match1", "match7"], 0.2, first)
    assert {k: second[k] for k in first} == first and second["match7"] is False


def test_sides_never_move_as_matches_arrive_one_by_one() -> None:
    recorded: dict[str, bool] = {}
    for i in range(40):
        sides = assign_holdout([*recorded, f"m{i}"], 0.3, recorded)
        assert {k: sides[k] for k in recorded} == recorded
        recorded = sides
    held = [k for k, v in recorded.items() if v]
    assert 4 <= len(held) <= 20  # about 30 % of 40, by the hash
    assert all(recorded[k] == (unit_hash(k) < 0.3) for k in recorded if k not in ("m0", "m1"))


def test_a_match_already_trained_on_is_never_held_out() -> None:
    key = next(f"k{i}" for i in range(100) if unit_hash(f"k{i}") < 0.5)  # the hash alone would hold it out
    assert assign_holdout([key, "other"], 0.5, {}, trained={key})[key] is False


def test_evaluate_refuses_a_match_in_the_models_lineage(tmp_path: Path) -> None:
    window = tmp_path / "matches" / "m1" / "windows.npz"
    with pytest.raises(HoldoutLeakError, match="trained on m1"):
        evaluate(EvaluateTask("vrnn-x", tmp_path, (window,), frozenset({"m1"})))


def test_five_runs_adding_matches_keep_a_fixed_holdout(events_dir: Path, tmp_path: Path) -> None:
    """The issue's sequence: [match1, match7] first (both hash under 0.2, so match7 goes to training), then match0,
    match2, match3, match4, one per run. The old split moved match7 to the holdout in run 2."""
    arrivals = [["match1", "match7"], ["match0"], ["match2"], ["match3"], ["match4"]]
    (tmp_path / "job.toml").write_text(JOB)
    cfg = load_config(tmp_path / "job.toml")
    seen_sides: dict[str, bool] = {}
    evaluated: list[tuple[str, list[str]]] = []
    for run, names in enumerate(arrivals):
        for name in names:
            synth_drop(events_dir, tmp_path / "drop", name, seed=10 + int(name[5:]))
        result = run_pipeline(cfg)
        assert result.exit_code == 0, result.errors
        with Ledger(cfg.state_dir / "ledger.sqlite") as ledger:
            sides = ledger.holdout_sides()
            models = ledger.models()
            lineage = {m["model_id"]: ledger.lineage_matches(m["model_id"]) for m in models}
        assert {k: sides[k] for k in seen_sides} == seen_sides, f"run {run} moved a match"
        assert set(sides) == {k for group in arrivals[: run + 1] for k in group}
        seen_sides = sides
        for model in models:
            assert not set(model["train_matches"]) & {k for k, v in sides.items() if v}
            metrics = cfg.state_dir / model["checkpoint"] / "metrics.json"
            if metrics.is_file():
                holdout = json.loads(metrics.read_text())["holdout"]
                assert holdout and not set(holdout) & lineage[model["model_id"]], (model["model_id"], holdout)
                evaluated.append((model["model_id"], holdout))
        trained_now = [m for m in models if m["run_id"] == result.run_id]
        assert trained_now and sorted(trained_now[0]["train_matches"]) == sorted(k for k, v in sides.items() if not v)
        latest = json.loads((cfg.state_dir / models[-1]["checkpoint"] / "metrics.json").read_text())
        assert sorted(latest["holdout"]) == sorted(k for k, v in sides.items() if v), "evaluated on the recorded holdout"
    assert any(sides.values()) and not all(sides.values())
    assert len(models) >= 2 and any(m["parent_id"] for m in models), "fine-tuning (lineage) was exercised"
    assert len({m for m, _ in evaluated}) >= 2
