"""Faults the pipeline survives, each for real: a file-size limit (disk full) while writing, a read-only state
folder, a second run at once, a corrupt ledger, a source file changing during ingest, SIGKILL of a pool worker.

After each: no half-written parquet, no ledger row claiming work that is not on disk, and a rerun completes.
Matches are short SIMULATED ones (the real Metrica event timeline driving the synthesizer) in Metrica CSV format.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from soccerai.data.store import read_match
from soccerai.errors import InvalidInputError
from soccerai.pipeline import backends as pipeline_backends
from soccerai.pipeline import load_config, run_pipeline
from soccerai.pipeline.ledger import Ledger

MATCH_SECONDS = 12.0
PIPELINE = [sys.executable, "-m", "soccerai.pipeline", "run", "--no-progress", "--config"]


def write_job(tmp: Path, executor: str = "inline", workers: int = 1) -> Path:
    path = tmp / "job.toml"
    path.write_text(
        f'[pipeline]\nname = "faults"\ndrop_dir = "drop"\nstate_dir = "state"\nsteps = ["ingest", "summary"]\n'
        f'executor = "{executor}"\nworkers = {workers}\ntracking = "simulated"\n'
    )
    return path


@pytest.fixture(scope="module")
def template(events_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from soccerai.synth import synthesize_match, write_match_files

    drop = tmp_path_factory.mktemp("faults") / "drop"
    for i in range(2):
        match = synthesize_match(events_dir / "Sample_Game_1_RawEventsData.csv", seed=i, duration_s=MATCH_SECONDS)
        write_match_files(match, drop / f"match{i}", ("metrica-csv",))
    return drop


@pytest.fixture()
def job(template: Path, tmp_path: Path) -> Path:
    shutil.copytree(template, tmp_path / "drop")
    return write_job(tmp_path)


def assert_state_truthful(state: Path) -> None:
    """Every ``done`` step's outputs exist and read back; no temporary (hidden) file is left; every parquet reads."""
    with Ledger(state / "ledger.sqlite") as ledger:
        for rec in ledger.steps(status="done"):
            for rel in rec.outputs.values():
                path = state / rel
                assert path.is_file(), f"{rec.match_key}/{rec.step} marked done but {rel} is missing"
    for path in state.rglob("*"):
        assert not path.name.startswith(".") or path.name == ".", f"temporary file left: {path}"
        if path.suffix == ".parquet":
            assert read_match(path).tracking.height > 0
        if path.name == "summary.json":
            json.loads(path.read_text())


def completes(job: Path, done: int | None = None) -> None:
    result = run_pipeline(load_config(job))
    assert result.exit_code == 0, result.errors
    if done is not None:
        assert result.done == done
    assert run_pipeline(load_config(job)).status == "nothing-to-do"
    assert_state_truthful(job.parent / "state")


def _file_size_limit(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG, like a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_disk_full_while_writing(job: Path) -> None:
    """100 kB: the ledger fits but a match parquet (~130 kB) does not; 8 kB: even the ledger cannot be written."""
    state = job.parent / "state"
    run = subprocess.run([*PIPELINE, str(job)], preexec_fn=_file_size_limit(100_000), capture_output=True,
                         text=True, timeout=180)
    assert run.returncode == 1 and "Errno 27" in run.stdout, run.stdout + run.stderr  # EFBIG
    assert not list(state.glob("matches/*/*.parquet")), "a half-written parquet is visible"
    assert_state_truthful(state)

    shutil.rmtree(state)
    run = subprocess.run([*PIPELINE, str(job)], preexec_fn=_file_size_limit(8_000), capture_output=True,
                         text=True, timeout=180)
    # the work failed (exit 1, as ``soccerai pipeline run`` says it: soccerai.errors.exit_code_for), not a usage error
    assert run.returncode == 1 and run.stderr.count("\n") == 1 and "pipeline I/O failed" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
    completes(job, done=4)


def _without_write_permission() -> list[str]:
    """A prefix that makes permission bits bind even for root (which otherwise ignores them)."""
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"] if os.geteuid() == 0 else []


def test_read_only_state_folder(job: Path, template: Path) -> None:
    state = job.parent / "state"
    shutil.rmtree(job.parent / "drop" / "match1")
    completes(job, done=2)
    shutil.copytree(template / "match1", job.parent / "drop" / "match1")
    before = sorted(p.relative_to(state) for p in state.rglob("*"))
    modes = {p: p.stat().st_mode for p in [state, *state.rglob("*")]}
    try:
        for path in modes:
            path.chmod(path.stat().st_mode & ~0o222)
        run = subprocess.run([*_without_write_permission(), *PIPELINE, str(job)], capture_output=True, text=True,
                             timeout=180)
    finally:
        for path, mode in modes.items():
            path.chmod(mode)
    assert run.returncode == 1 and run.stderr.count("\n") == 1, run.stdout + run.stderr
    assert "pipeline I/O failed" in run.stderr and "Permission denied" in run.stderr
    assert sorted(p.relative_to(state) for p in state.rglob("*")) == before
    completes(job, done=2)


def test_two_runs_at_once_the_second_refuses_clearly(job: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from soccerai.pipeline.lock import state_lock\n"
         f"with state_lock({str(job.parent / 'state')!r}):\n    print('held', flush=True); time.sleep(120)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        second = subprocess.run([*PIPELINE, str(job)], capture_output=True, text=True, timeout=120)
        assert second.returncode == 1 and second.stderr.count("\n") == 1, second.stderr
        assert f"another pipeline run (pid {holder.pid})" in second.stderr
    finally:
        holder.send_signal(signal.SIGKILL)  # the kernel drops the lock with its holder: no stale lock
        holder.wait()
    assert not (job.parent / "state" / "ledger.sqlite").exists(), "the refused run wrote to the ledger"
    completes(job, done=4)


@pytest.mark.parametrize("damage", ["garbage", "torn_page"])
def test_corrupt_ledger_is_refused_then_a_fresh_one_completes(job: Path, damage: str) -> None:
    state = job.parent / "state"
    completes(job, done=4)
    ledger = state / "ledger.sqlite"
    raw = bytearray(ledger.read_bytes())
    if damage == "garbage":
        raw[:100] = b"\x00not a database" * 6 + b"\x00" * 10
    else:  # overwrite the middle of page 2 (a table's b-tree page): the header is intact, the content is not
        raw[4096 + 8 : 4096 + 600] = os.urandom(592)
    ledger.write_bytes(bytes(raw))
    with pytest.raises(InvalidInputError, match="not a healthy SQLite database.*move it aside") as info:
        run_pipeline(load_config(job))
    assert "\n" not in str(info.value)
    ledger.rename(state / "ledger.sqlite.corrupt")
    completes(job, done=4)  # outputs the lost ledger knew of are redone, never trusted blindly


def test_source_file_changing_during_ingest(job: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second match's home tracking file is rewritten (one position moved) just after it was read."""
    target = next((job.parent / "drop" / "match1").glob("*Home_Team.csv"))
    real = pipeline_backends.load_match_files

    def load_while_growing(files):
        match = real(files)
        if target in files:
            lines = target.read_text().splitlines()
            fields = lines[-1].split(",")
            fields[3] = f"{float(fields[3]) + 1e-5:.5f}"
            target.write_text("\n".join([*lines[:-1], ",".join(fields)]) + "\n")
        return match

    monkeypatch.setattr(pipeline_backends, "load_match_files", load_while_growing)
    result = run_pipeline(load_config(job))
    assert result.exit_code == 1 and any("changed while match1 was ingested" in e for e in result.errors)
    state = job.parent / "state"
    assert not (state / "matches" / "match1" / "match.parquet").exists()
    assert (state / "matches" / "match0" / "match.parquet").is_file()
    assert_state_truthful(state)
    monkeypatch.undo()
    completes(job, done=2)  # match1 (now stable) is ingested and summarised; match0 is not redone


def test_exit_codes_are_the_clis(job: Path, tmp_path: Path) -> None:
    """``python -m soccerai.pipeline`` exits as ``soccerai`` does (soccerai.errors.exit_code_for): 2 for a usage
    error (a config file that does not exist, an unknown option), one line and no traceback."""
    missing = subprocess.run([*PIPELINE, str(tmp_path / "no-such-job.toml")], capture_output=True, text=True,
                             timeout=120)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr, missing.stdout + missing.stderr
    assert missing.stderr.count("\n") == 1 and "no-such-job.toml" in missing.stderr, missing.stderr
    unknown = subprocess.run([*PIPELINE, str(job), "--no-such-option"], capture_output=True, text=True, timeout=120)
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr, unknown.stdout + unknown.stderr


def _workers(pid: int) -> list[psutil.Process]:
    try:
        children = psutil.Process(pid).children()
    except psutil.NoSuchProcess:
        return []
    return [c for c in children if "spawn_main" in " ".join(c.cmdline())]


def test_sigkill_of_a_worker_mid_match(job: Path) -> None:
    job = write_job(job.parent, "process", 2)
    state = job.parent / "state"
    run = subprocess.Popen([*PIPELINE, str(job)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and time.monotonic() < deadline and run.poll() is None:
        workers = _workers(run.pid)
        running = False
        if workers and (state / "ledger.sqlite").exists():
            with Ledger(state / "ledger.sqlite") as ledger:
                running = bool(ledger.steps(status="running"))
        if running:
            killed = workers[0].pid
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    out, err = run.communicate(timeout=180)
    assert killed is not None, "no worker was caught mid-match"
    assert run.returncode == 1 and "BrokenProcessPool" in out and "Traceback" not in err, out + err
    assert_state_truthful(state)
    completes(job)
    for name in ("match0", "match1"):
        assert read_match(state / "matches" / name / "match.parquet").metadata.simulated
