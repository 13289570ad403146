"""The nightly pipeline on short SIMULATED matches (driven by the real Metrica event timelines), written in the
real Metrica CSV format and read back through soccerai.io: idempotency, incrementality, quarantine, lock, ledger,
and kill-and-resume (SIGKILL at seeded random moments)."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from soccerai.data.store import read_match
from soccerai.errors import InvalidInputError, InvalidParameterError
from soccerai.pipeline import load_config, run_pipeline
from soccerai.pipeline.discover import discover
from soccerai.pipeline.ledger import Ledger
from soccerai.pipeline.lock import PipelineBusyError, state_lock
from soccerai.pipeline.runner import stages
from soccerai.pipeline.training import split_holdout

REPO = Path(__file__).resolve().parents[1]
MATCH_SECONDS = 12.0


def synth_drop(events_dir: Path, drop: Path, name: str, seed: int, game: int = 1) -> Path:
    """One short simulated match in Metrica CSV (home + away + events) in ``drop/<name>/``."""
    from soccerai.synth import synthesize_match, write_match_files

    match = synthesize_match(
        events_dir / f"Sample_Game_{game}_RawEventsData.csv", seed=seed, duration_s=MATCH_SECONDS
    )
    write_match_files(match, drop / name, ("metrica-csv",))
    return drop / name


def write_job(tmp: Path, executor: str = "inline", workers: int = 1) -> Path:
    path = tmp / "job.toml"
    path.write_text(
        f'[pipeline]\nname = "test"\ndrop_dir = "drop"\nstate_dir = "state"\nsteps = ["ingest", "summary"]\n'
        f'executor = "{executor}"\nworkers = {workers}\ntracking = "simulated"\n'
    )
    return path


def assert_ledger_truthful(state: Path) -> None:
    """Every step the ledger calls done has all its outputs, complete and readable; no temporary file is visible."""
    with Ledger(state / "ledger.sqlite") as ledger:
        for rec in ledger.steps(status="done"):
            for rel in rec.outputs.values():
                path = state / rel
                assert path.is_file(), f"{rec.match_key}/{rec.step} marked done but {rel} is missing"
                if path.suffix == ".parquet":
                    assert read_match(path).tracking.height > 0
                else:
                    json.loads(path.read_text())


@pytest.fixture(scope="module")
def drop_template(events_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three short simulated matches (games 1 and 2 timelines) and a corrupt one, made once per module."""
    drop = tmp_path_factory.mktemp("template") / "drop"
    for i, game in enumerate((1, 2, 1)):
        synth_drop(events_dir, drop, f"match{i}", seed=i, game=game)
    return drop


def copy_drop(template: Path, target: Path, names: list[str]) -> None:
    for name in names:
        shutil.copytree(template / name, target / name)


def test_nightly_config_loads_and_bad_configs_are_refused(tmp_path: Path) -> None:
    cfg = load_config(REPO / "pipelines" / "nightly.toml")
    assert cfg.steps[0] == "ingest" and cfg.executor == "process" and cfg.drop_dir.is_absolute()
    assert stages(cfg.steps) == [
        ("ingest", "summary", "windows", "obso"),
        ("train",),
        ("evaluate",),
        ("cobso",),
    ]
    for bad in (
        'steps = ["ingest", "fly"]',
        "workers = 0",
        'executor = "slurm"',
        'steps = ["summary"]',
        'steps = ["ingest", "train"]',
        'workers = "2"',
        'tracking = "maybe"',
    ):
        path = tmp_path / "bad.toml"
        path.write_text(f'[pipeline]\ndrop_dir = "d"\nstate_dir = "s"\n{bad}\n')
        with pytest.raises(InvalidParameterError):
            load_config(path)
    path.write_text("[pipeline\n")
    with pytest.raises(InvalidInputError, match="bad.toml"):
        load_config(path)
    path.write_text('[pipeline]\ndrop_dir = "d"\nstate_dir = "s"\n[obso]\nsamples = 5\n')
    with pytest.raises(InvalidParameterError, match=r"\[obso\] has unknown keys \['samples'\]"):
        load_config(path)


def test_obso_options_go_to_the_step_that_uses_them(tmp_path: Path) -> None:
    """``[obso]`` is shared: the OBSO step gets only its keys, C-OBSO only its own (so each reruns only when needed)."""
    path = tmp_path / "job.toml"
    path.write_text(
        '[pipeline]\ndrop_dir = "d"\nstate_dir = "s"\n'
        '[obso]\nscore_model = "distance"\nn_samples = 4\nhorizon_s = 3.0\n'
    )
    cfg = load_config(path)
    assert cfg.step_params("obso") == {"score_model": "distance", "horizon_s": 3.0}
    assert cfg.step_params("cobso") == {"n_samples": 4, "horizon_s": 3.0}


def test_discover_groups_by_folder_and_stem_and_hashes_content(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    (drop / "g2").mkdir(parents=True)
    (drop / "g1_home.csv").write_text("a")
    (drop / "g1_away.csv").write_text("b")
    (drop / "g2" / "raw.txt").write_text("c")
    (drop / ".hidden").write_text("x")
    (drop / "g3.parquet.part").write_text("copy in progress")
    first = {m.key: m for m in discover(drop)}
    assert sorted(first) == ["g1", "g2"] and len(first["g1"].files) == 2
    (drop / "g1_away.csv").write_text("b")  # same bytes, new mtime: same hash
    assert discover(drop)[0].source_hash == first["g1"].source_hash
    (drop / "g1_away.csv").write_text("B")
    assert discover(drop)[0].source_hash != first["g1"].source_hash


def test_holdout_split_is_stable_and_never_empty() -> None:
    keys = [f"m{i}" for i in range(20)]
    train, hold = split_holdout(keys, 0.2)
    assert train and hold and set(train) | set(hold) == set(keys) and not set(train) & set(hold)
    train2, hold2 = split_holdout([*keys, "new1", "new2"], 0.2)
    assert set(hold) <= set(hold2) and set(train) <= set(train2)
    assert split_holdout(["a", "b"], 0.5)[0] and split_holdout(["a", "b"], 0.5)[1]


def test_first_run_all_second_nothing_new_match_only_it_corrupt_quarantined(
    drop_template: Path, tmp_path: Path
) -> None:
    copy_drop(drop_template, tmp_path / "drop", ["match0", "match1"])
    cfg = load_config(write_job(tmp_path, "process", 2))
    first = run_pipeline(cfg)
    assert (first.status, first.done, first.exit_code) == ("ok", 4, 0)
    assert first.report is not None and "simulated tracking" in first.report.read_text()
    second = run_pipeline(cfg)
    assert (second.status, second.done, second.report) == ("nothing-to-do", 0, None)

    copy_drop(drop_template, tmp_path / "drop", ["match2"])
    bad = tmp_path / "drop" / "broken"
    bad.mkdir()
    home = next((drop_template / "match0").glob("*Home_Team.csv")).read_bytes()
    (bad / "broken_RawTrackingData_Home_Team.csv").write_bytes(home[: len(home) // 3] + b"\x00\xff garbage")
    (bad / "broken_RawTrackingData_Away_Team.csv").write_bytes(b"")
    third = run_pipeline(cfg)
    assert (third.done, third.quarantined, third.exit_code) == (2, 1, 1)
    with Ledger(cfg.state_dir / "ledger.sqlite") as ledger:
        assert {s.match_key for s in ledger.steps(run_id=third.run_id, status="done")} == {"match2"}
        quarantined = ledger.steps(status="quarantined")
    assert [q.match_key for q in quarantined] == ["broken"] and "broken" in (quarantined[0].error or "")
    assert (cfg.state_dir / quarantined[0].outputs["quarantine"] / "REASON.txt").is_file()
    assert run_pipeline(cfg).status == "nothing-to-do"  # a known bad match is not retried until it changes
    assert_ledger_truthful(cfg.state_dir)


def test_changed_match_and_changed_settings_rerun_only_what_they_touch(
    drop_template: Path, tmp_path: Path
) -> None:
    copy_drop(drop_template, tmp_path / "drop", ["match0", "match1"])
    cfg = load_config(write_job(tmp_path))
    assert run_pipeline(cfg).done == 4
    summary = cfg.state_dir / "matches" / "match1" / "summary.json"
    summary.unlink()  # an output lost behind the ledger's back is redone
    redo = run_pipeline(cfg)
    assert redo.done == 1 and summary.is_file()
    events = next((tmp_path / "drop" / "match0").glob("*RawEventsData.csv"))
    events.write_text(events.read_text() + "\n")  # any byte of a match's files changes its source hash
    with Ledger(cfg.state_dir / "ledger.sqlite") as ledger:
        changed = run_pipeline(cfg)
        assert {s.match_key for s in ledger.steps(run_id=changed.run_id)} == {"match0"}


def test_second_concurrent_run_is_refused_by_the_lock(drop_template: Path, tmp_path: Path) -> None:
    copy_drop(drop_template, tmp_path / "drop", ["match0"])
    cfg = load_config(write_job(tmp_path))
    with state_lock(cfg.state_dir):
        with pytest.raises(PipelineBusyError, match="another pipeline run"):
            run_pipeline(cfg)
    assert run_pipeline(cfg).done == 2  # the lock is released with its holder


def test_status_command_shows_the_ledger(drop_template: Path, tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from soccerai.cli.commands.pipeline import register

    copy_drop(drop_template, tmp_path / "drop", ["match0"])
    job = write_job(tmp_path)
    run_pipeline(load_config(job))
    app = typer.Typer()
    register(app)
    out = CliRunner().invoke(app, ["pipeline", "status", "--config", str(job)])
    assert out.exit_code == 0 and "ok" in out.output and "runs of test" in out.output


# ---- kill and resume ------------------------------------------------------------------------------------------
KILL_SEED = 7
KILL_ATTEMPTS = 8
ORPHAN_GRACE_S = 5.0


def live_members(pgid: int) -> list[int]:
    """Pids of the process group ``pgid`` that are alive (zombies waiting to be reaped do not count)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


def wait_group_gone(pgid: int) -> list[int]:
    deadline = time.monotonic() + ORPHAN_GRACE_S
    while (alive := live_members(pgid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


def test_sigkill_at_random_points_then_resume(drop_template: Path, tmp_path: Path) -> None:
    copy_drop(drop_template, tmp_path / "drop", ["match0", "match1", "match2"])
    job = write_job(tmp_path, "process", 2)
    state = tmp_path / "state"
    cmd = [sys.executable, "-m", "soccerai.pipeline", "run", "--config", str(job), "--no-progress"]
    rng = random.Random(KILL_SEED)
    kills = 0
    for _ in range(KILL_ATTEMPTS):
        if kills >= 3:
            break
        proc = subprocess.Popen(
            cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            proc.wait(timeout=rng.uniform(0.5, 4.0))
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)  # the pipeline only: its pool workers must notice and go
            proc.wait()
            kills += 1
        try:
            assert wait_group_gone(proc.pid) == [], "pool workers outlived the killed pipeline"
        finally:
            for pid in live_members(proc.pid):
                os.kill(pid, signal.SIGKILL)
        if state.joinpath("ledger.sqlite").exists():
            assert_ledger_truthful(state)
    assert kills >= 1, "the seeded delays should interrupt at least one run (the machine was idle enough?)"

    final = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stdout + final.stderr
    assert_ledger_truthful(state)
    for name in ("match0", "match1", "match2"):
        folder = state / "matches" / name
        assert read_match(folder / "match.parquet").metadata.simulated
        assert json.loads((folder / "summary.json").read_text())["frames"] > 0
        assert not [p.name for p in folder.iterdir() if p.name.startswith(".")], "temporary files left behind"
    with Ledger(state / "ledger.sqlite") as ledger:
        assert ledger.steps(status="running") == []
        statuses = {r["status"] for r in ledger.runs(100)}
        assert "interrupted" in statuses and statuses <= {"interrupted", "ok", "nothing-to-do"}

    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0 and "nothing-to-do" in rerun.stdout


# ---- model versions ------------------------------------------------------------------------------------------------
MODEL_JOB = """[pipeline]
name = "models"
drop_dir = "drop"
state_dir = "state"
steps = ["ingest", "summary", "windows", "train", "evaluate"]
executor = "inline"
tracking = "simulated"
[windows]
obs_s = 1.0
pred_s = 1.0
stride_s = 0.5
[train]
model = "vrnn"
max_steps = 2
batch_size = 8
accelerator = "cpu"
holdout_fraction = 0.34
retrain_every_runs = 7
model_options = {hidden = 8, latent = 4}
"""


def test_models_are_versioned_evaluated_and_fine_tuned_on_new_data(
    drop_template: Path, tmp_path: Path
) -> None:
    copy_drop(drop_template, tmp_path / "drop", ["match0", "match1"])
    (tmp_path / "job.toml").write_text(MODEL_JOB)
    cfg = load_config(tmp_path / "job.toml")
    first = run_pipeline(cfg)
    assert first.exit_code == 0, first.errors
    with Ledger(cfg.state_dir / "ledger.sqlite") as ledger:
        (model,) = ledger.models()
    assert model["mode"] == "retrain" and model["parent_id"] is None and len(model["train_matches"]) == 1
    assert model["metrics"]["windows"] > 0 and model["metrics"]["ade_model"] > 0 and model["simulated"] == 1
    assert model["model_id"] in first.report.read_text()
    assert run_pipeline(cfg).status == "nothing-to-do"

    copy_drop(drop_template, tmp_path / "drop", ["match2"])
    third = run_pipeline(cfg)
    assert third.exit_code == 0, third.errors
    with Ledger(cfg.state_dir / "ledger.sqlite") as ledger:
        models = ledger.models()
        done = {(s.match_key, s.step) for s in ledger.steps(run_id=third.run_id, status="done")}
    assert {k for k, _ in done} <= {"match2", "*"} and ("match2", "windows") in done
    if len(models) == 2:  # the new match went to training: the model was fine-tuned from the first one
        assert models[1]["mode"] == "finetune" and models[1]["parent_id"] == model["model_id"]
        assert "match2" in models[1]["train_matches"] and ("*", "evaluate") in done
    else:  # it was held out: the same model is re-evaluated on the larger held-out set
        assert ("*", "evaluate") in done and ("*", "train") not in done


@pytest.fixture(scope="module")
def game1_190s(events_dir: Path):
    """The first 190 s of Metrica game 1 synthesized (seed 0): the first shot is 91 s into the first half."""
    from soccerai.synth import synthesize_match

    return synthesize_match(events_dir / "Sample_Game_1_RawEventsData.csv", seed=0, duration_s=190.0)


def _one_match_job(tmp_path: Path, match, steps: list[str]):
    """A drop folder holding ``match`` as one canonical parquet (``g1``) and an inline job running ``steps``."""
    from soccerai.data.store import write_match

    write_match(match, tmp_path / "drop" / "g1.parquet")
    job = tmp_path / "job.toml"
    job.write_text(f'[pipeline]\ndrop_dir = "drop"\nstate_dir = "state"\nsteps = {json.dumps(steps)}\n'
                   'executor = "inline"\n')
    return load_config(job)


def test_obso_step_scores_every_shot_of_a_new_match(game1_190s, tmp_path: Path) -> None:
    """A canonical parquet drop (events included): the first shot of game 1 is 91 s into the first half."""
    shots = game1_190s.events.filter(game1_190s.events["type"] == "SHOT")
    assert shots.height >= 1
    result = run_pipeline(_one_match_job(tmp_path, game1_190s, ["ingest", "obso"]))
    assert result.exit_code == 0, result.errors
    import polars as pl

    table = pl.read_parquet(tmp_path / "state" / "matches" / "g1" / "obso.parquet")
    assert table["event_id"].to_list() == shots["event_id"].to_list()
    assert table["shooter_obso"].is_between(0.0, 1.0).all() and (table["tracking"] == "simulated").all()
    assert str(shots["event_id"][0]) in result.report.read_text()


def test_cobso_step_scores_off_ball_attackers_of_every_shot(game1_190s, tmp_path: Path) -> None:
    """C-OBSO with no trained model yet (constant velocity counterfactuals), on a simulated match with shots."""
    import polars as pl

    cfg = _one_match_job(tmp_path, game1_190s, ["ingest", "cobso"])
    result = run_pipeline(cfg)
    assert result.exit_code == 0, result.errors
    table = pl.read_parquet(tmp_path / "state" / "matches" / "g1" / "cobso.parquet")
    assert table.height >= 1 and (table["tracking"] == "simulated").all()
    assert (table["cobso"] >= 0).all() and (table["cobso"] <= table["real_run_obso_mean"] + 1e-9).all()
    assert run_pipeline(cfg).status == "nothing-to-do"


def test_report_lists_goals_first_with_names_and_cobso_per_player() -> None:
    """The report's story: goals then chances, shooters and A1 by name, C-OBSO clipped and signed per player."""
    import polars as pl

    from soccerai.pipeline.report import cobso_per_player, goals_and_chances

    shots = pl.DataFrame({"event_id": ["s1", "s2"], "period": [1, 2], "team": ["home", "home"],
                          "shooter": ["9", "25"], "shooter_name": ["Robert Lewandowski (#9)", "Thomas Müller (#25)"],
                          "result": ["SAVED", "GOAL"], "shooter_obso": [0.2, 0.1]})
    pairs = pl.DataFrame({"shot_id": ["s2", "s2", "s1"], "team": ["home"] * 3, "a1": ["9", "7", "25"],
                          "a1_name": ["Robert Lewandowski (#9)", "Serge Gnabry (#22)", "Thomas Müller (#25)"],
                          "cobso": [0.0, 0.004, 0.001], "cobso_signed": [-0.002, 0.004, 0.001]})
    table = goals_and_chances(shots, pairs)
    assert table["shot"].to_list() == ["s2", "s1"] and table["result"][0] == "GOAL"
    assert table["shooter"][0] == "Thomas Müller (#25)" and table["best A1"][0] == "Serge Gnabry (#22)"
    players = cobso_per_player(pairs)
    assert players["player"][0] == "Serge Gnabry (#22)"
    assert players.filter(pl.col("player") == "Robert Lewandowski (#9)")["C-OBSO signed mean"][0] == -0.002


def test_obso_step_detects_the_shots_of_a_match_without_events(game1_190s, tmp_path: Path) -> None:
    """Broadcast and most provider matches come without events: the step scores the shots found in the tracking."""
    import dataclasses

    import polars as pl

    result = run_pipeline(_one_match_job(tmp_path, dataclasses.replace(game1_190s, events=None), ["ingest", "obso"]))
    assert result.exit_code == 0, result.errors
    table = pl.read_parquet(tmp_path / "state" / "matches" / "g1" / "obso.parquet")
    assert table.height >= 1 and (table["source"] == "detected").all()
    assert table["shooter_obso"].is_between(0.0, 1.0).all()


def test_training_starts_from_the_jobs_base_model(drop_template: Path, tmp_path: Path) -> None:
    """``base_model``: the first training fine-tunes that checkpoint; one of another kind is refused by name."""
    from soccerai.models.registry import build_model
    from soccerai.training.checkpoint import save_checkpoint

    copy_drop(drop_template, tmp_path / "drop", ["match0", "match1"])
    base = save_checkpoint(build_model("vrnn", {"hidden": 8, "latent": 4}), tmp_path / "base", {"matches": ["x"]})
    (tmp_path / "job.toml").write_text(MODEL_JOB + f'base_model = "{base}"\n')
    cfg = load_config(tmp_path / "job.toml")
    assert cfg.train.base_model == str(base)
    result = run_pipeline(cfg)
    assert result.exit_code == 0, result.errors
    with Ledger(cfg.state_dir / "ledger.sqlite") as ledger:
        (model,) = ledger.models()
    record = json.loads((cfg.state_dir / model["checkpoint"] / "model.json").read_text())
    assert model["mode"] == "retrain" and record["fine_tuned_from"] == str(base)

    foreign = save_checkpoint(build_model("gvrnn", {"hidden": 8, "latent": 4}), tmp_path / "g", {"matches": ["x"]})
    (tmp_path / "job2.toml").write_text(MODEL_JOB.replace('state_dir = "state"', 'state_dir = "state2"')
                                        + f'base_model = "{foreign}"\n')
    refused = run_pipeline(load_config(tmp_path / "job2.toml"))
    assert refused.exit_code == 1 and any("holds a gvrnn model" in e for e in refused.errors)
