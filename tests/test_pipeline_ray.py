"""The pipeline on a local Ray instance (127.0.0.1, 2 CPUs, started once for this module): the same outputs as the
process pool, and a Ray worker SIGKILLed in the middle of a step is survived (the task is rerun, nothing is left
half-written). Matches are short SIMULATED ones (real Metrica event timelines) in the real Metrica CSV format."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
import ray
from test_pipeline import assert_ledger_truthful, copy_drop, synth_drop

from soccerai.data.store import read_match
from soccerai.pipeline import load_config, run_pipeline
from soccerai.pipeline.runner import RunResult

STEPS = '["ingest", "summary"]'
MATCHES = ["match0", "match1"]


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[str]:
    """One local Ray instance for the whole module; yields its address (what ``ray_address`` would name).

    Asked for 127.0.0.1, Ray registers the node under the machine's own address (``resolve_ip_for_localhost``);
    it is still this one machine, as the test checks.
    """
    ray.init(num_cpus=2, _node_ip_address="127.0.0.1", include_dashboard=False, log_to_driver=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def two_matches(events_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    drop = tmp_path_factory.mktemp("ray-drop") / "drop"
    for i, game in enumerate((1, 2)):
        synth_drop(events_dir, drop, MATCHES[i], seed=i, game=game)
    return drop


def job(tmp: Path, drop: Path, executor: str) -> Path:
    copy_drop(drop, tmp / "drop", MATCHES)
    path = tmp / "job.toml"
    path.write_text(
        f'[pipeline]\nname = "ray-test"\ndrop_dir = "drop"\nstate_dir = "state"\nsteps = {STEPS}\n'
        f'executor = "{executor}"\nworkers = 2\ntracking = "simulated"\n'
    )
    return path


def outputs(state: Path) -> dict[str, object]:
    """Every output of every match, read back: the canonical frames and the summary."""
    out: dict[str, object] = {}
    for name in MATCHES:
        folder = state / "matches" / name
        out[f"{name}/match"] = read_match(folder / "match.parquet").tracking
        out[f"{name}/summary"] = rounded(json.loads((folder / "summary.json").read_text()))
        assert not [p.name for p in folder.iterdir() if p.name.startswith(".")], "temporary files left behind"
    return out


def rounded(value: object) -> object:
    """``value`` with floats to 9 decimals: polars' multithreaded group-by means (the summary's mean positions) may
    add in a different order from one run to the next, whatever the executor."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


def assert_same_outputs(a: dict[str, object], b: dict[str, object]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], pl.DataFrame):
            assert a[key].equals(b[key]), key
        else:
            assert a[key] == b[key], key


def step_workers() -> list[int]:
    """PIDs of Ray workers executing a pipeline step now (Ray titles a busy worker ``ray::<function>``)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes().startswith(b"ray::run_step"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


@pytest.fixture(scope="module")
def process_outputs(two_matches: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("process-run")
    result = run_pipeline(load_config(job(tmp, two_matches, "process")))
    assert result.exit_code == 0 and result.done == 4, result.errors
    return outputs(tmp / "state")


def test_ray_executor_gives_the_process_pools_outputs(
    ray_instance: str, two_matches: Path, process_outputs: dict[str, object], tmp_path: Path
) -> None:
    assert len(ray.nodes()) == 1 and ray.cluster_resources()["CPU"] == 2
    result = run_pipeline(load_config(job(tmp_path, two_matches, "ray")))
    assert result.exit_code == 0 and result.done == 4, result.errors
    assert ray.is_initialized(), "the pipeline must not shut down a Ray instance it did not start"
    assert_ledger_truthful(tmp_path / "state")
    assert_same_outputs(outputs(tmp_path / "state"), process_outputs)


def test_a_ray_worker_killed_mid_step_is_retried_and_nothing_is_half_written(
    ray_instance: str, two_matches: Path, process_outputs: dict[str, object], tmp_path: Path
) -> None:
    config = load_config(job(tmp_path, two_matches, "ray"))
    finished: list[RunResult | BaseException] = []

    def run() -> None:
        try:
            finished.append(run_pipeline(config))
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            finished.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    killed: list[int] = []
    deadline = time.monotonic() + 120
    while thread.is_alive() and not killed and time.monotonic() < deadline:
        for pid in step_workers():
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            break
        time.sleep(0.005)
    thread.join(timeout=300)
    assert killed, "no Ray worker was caught running a step (every step finished between two polls?)"
    assert finished and isinstance(finished[0], RunResult), finished
    result = finished[0]
    assert result.exit_code == 0 and result.done == 4, result.errors
    assert_ledger_truthful(tmp_path / "state")
    assert_same_outputs(outputs(tmp_path / "state"), process_outputs)
