"""The command line: every topic is listed, topics load lazily, errors are one line, exit codes a script can trust."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from soccerai.cli.app import TOPICS


def _run(*args: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "soccerai.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def test_help_lists_every_command() -> None:
    done = _run("--help")
    assert done.returncode == 0, done.stderr
    for names in TOPICS.values():
        for name in names:
            assert name in done.stdout


def test_a_light_command_does_not_import_torch() -> None:
    code = (
        "import sys\n"
        "from soccerai.cli.app import app\n"
        "try:\n"
        "    app(['ingest', '--help'], standalone_mode=False)\n"
        "finally:\n"
        "    print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')\n"
    )
    done = _run(code=code)
    assert "Ingest provider tracking files" in done.stdout
    assert done.stdout.strip().endswith("NO-TORCH"), done.stdout[-300:]


def test_a_missing_file_is_one_line_with_exit_code_2(tmp_path: Path) -> None:
    missing = tmp_path / "LIV_[2]-1_CHE.parquet"
    done = _run("info", str(missing))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert str(missing) in done.stderr.replace("\n", "") and "no such match file" in done.stderr


def test_unknown_command_is_a_usage_error() -> None:
    done = _run("no-such-command")
    assert done.returncode == 2 and "No such command" in done.stderr


# ----------------------------------------------------------------------------------------------------------------
# Exit codes a script can trust, through the real entry point (soccerai.cli.main, in process: one import)
# 0 all requested work succeeded; 1 some of it failed (successes still written and listed); 2 usage error.
# ----------------------------------------------------------------------------------------------------------------


def _main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    from soccerai.cli.app import main

    monkeypatch.setattr(sys, "argv", ["soccerai", *args])
    with pytest.raises(SystemExit) as stopped:
        main()
    out = capsys.readouterr()
    return int(stopped.value.code or 0), out.out + out.err


@pytest.fixture()
def bad_files(tmp_path: Path, samples_dir: Path) -> dict[str, Path]:
    """The failing inputs of issue 13, made from real samples: every one of them exited 0 before."""
    folder = tmp_path / "bad"
    folder.mkdir()
    csv = (samples_dir / "metrica_home.csv").read_bytes()
    files = {
        "empty_csv": folder / "empty.csv",
        "truncated_csv": folder / "cut_home.csv",
        "garbage_dat": folder / "garbage.dat",
        "sportec_cut": folder / "sportec_positional.xml",
    }
    files["empty_csv"].write_bytes(b"")
    files["truncated_csv"].write_bytes(csv[: len(csv) // 2])
    files["garbage_dat"].write_bytes(b"12:3,4,5;garbage\x00\x01")
    sportec = (samples_dir / "sportec_positional.xml").read_bytes()
    files["sportec_cut"].write_bytes(sportec[: len(sportec) // 2])
    return files


@pytest.mark.parametrize("case", ["empty_csv", "truncated_csv", "garbage_dat", "sportec_cut"])
def test_ingest_exits_1_when_its_only_match_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], bad_files: dict[str, Path], tmp_path: Path,
    samples_dir: Path, case: str,
) -> None:
    sources = [bad_files[case]]
    if case == "sportec_cut":
        shutil.copy(samples_dir / "sportec_meta.xml", bad_files[case].parent / "sportec_meta.xml")
        sources.append(bad_files[case].parent / "sportec_meta.xml")
    code, out = _main(monkeypatch, capsys, "ingest", *map(str, sources), "--store", str(tmp_path / "store"))
    assert code == 1, out
    assert "0 ok, 1 failed" in out
    assert not list((tmp_path / "store").glob("*.parquet")) if (tmp_path / "store").exists() else True


def test_metadata_of_another_provider_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], samples_dir: Path, tmp_path: Path
) -> None:
    code, out = _main(monkeypatch, capsys, "ingest", str(samples_dir / "tracab_raw.dat"),
                      str(samples_dir / "sportec_meta.xml"), "--provider", "tracab", "--store", str(tmp_path / "s"))
    assert code == 1 and "failed" in out


def test_ingest_with_one_bad_match_exits_1_and_keeps_the_good_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], bad_files: dict[str, Path],
    samples_dir: Path, tmp_path: Path,
) -> None:
    good = [samples_dir / "metrica_home.csv", samples_dir / "metrica_away.csv"]
    store = tmp_path / "store"
    code, out = _main(monkeypatch, capsys, "ingest", *map(str, good), str(bad_files["empty_csv"]), "--store", str(store))
    assert code == 1 and "1 ok, 1 failed" in out
    assert [p.name for p in store.glob("*.parquet")] == ["metrica.parquet"] and "metrica" in out


def test_ingest_all_good_exits_0_and_usage_errors_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], samples_dir: Path, tmp_path: Path
) -> None:
    good = [str(samples_dir / "metrica_home.csv"), str(samples_dir / "metrica_away.csv")]
    assert _main(monkeypatch, capsys, "ingest", *good, "--store", str(tmp_path / "s"))[0] == 0
    assert _main(monkeypatch, capsys, "ingest", str(tmp_path / "no-such-folder"))[0] == 2
    assert _main(monkeypatch, capsys, "ingest", *good, "--no-such-option")[0] == 2
    assert _main(monkeypatch, capsys, "ingest", *good, "--provider", "nobody", "--store", str(tmp_path / "s2"))[0] == 1


def test_info_exit_codes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], bad_files: dict[str, Path]
) -> None:
    assert _main(monkeypatch, capsys, "info", str(bad_files["truncated_csv"]))[0] == 1
    assert _main(monkeypatch, capsys, "info", str(bad_files["truncated_csv"].with_name("gone.parquet")))[0] == 2


def test_synthesize_exit_codes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], bad_files: dict[str, Path], tmp_path: Path
) -> None:
    assert _main(monkeypatch, capsys, "synthesize", "--format", "tiff")[0] == 2
    assert _main(monkeypatch, capsys, "synthesize", "--minutes", "-1")[0] == 2
    assert _main(monkeypatch, capsys, "synthesize", str(tmp_path / "missing_RawEventsData.csv"))[0] == 2
    code, out = _main(monkeypatch, capsys, "synthesize", str(bad_files["truncated_csv"]), "--out", str(tmp_path / "o"))
    assert code == 1, out


def test_obso_and_cobso_exit_codes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], bad_files: dict[str, Path], tmp_path: Path
) -> None:
    assert _main(monkeypatch, capsys, "obso", str(bad_files["empty_csv"]))[0] == 1
    assert _main(monkeypatch, capsys, "obso", str(bad_files["empty_csv"]), "--grid", "fifty")[0] == 2
    assert _main(monkeypatch, capsys, "cobso", str(bad_files["garbage_dat"]), "--out", str(tmp_path / "c"))[0] == 1
    assert _main(monkeypatch, capsys, "cobso", str(tmp_path / "gone.parquet"))[0] == 2


def test_train_and_evaluate_exit_codes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], bad_files: dict[str, Path], tmp_path: Path
) -> None:
    not_a_match = tmp_path / "not_a_match.parquet"
    not_a_match.write_bytes(b"PAR1 this is no parquet file")
    assert _main(monkeypatch, capsys, "train", str(not_a_match), "--out", str(tmp_path / "m"))[0] == 1
    assert _main(monkeypatch, capsys, "train", str(not_a_match), "--model", "nobody")[0] in (1, 2)
    assert _main(monkeypatch, capsys, "train", str(tmp_path / "gone.parquet"))[0] == 2
    assert _main(monkeypatch, capsys, "evaluate", str(not_a_match))[0] == 1
    assert _main(monkeypatch, capsys, "evaluate", str(tmp_path / "gone.parquet"))[0] == 2


def test_pipeline_run_exit_codes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], bad_files: dict[str, Path], tmp_path: Path
) -> None:
    drop = tmp_path / "drop" / "broken"
    drop.mkdir(parents=True)
    shutil.copy(bad_files["truncated_csv"], drop / "broken_RawTrackingData_Home_Team.csv")
    (drop / "broken_RawTrackingData_Away_Team.csv").write_bytes(b"")
    job = tmp_path / "job.toml"
    job.write_text('[pipeline]\nname = "t"\ndrop_dir = "drop"\nstate_dir = "state"\nsteps = ["ingest"]\n'
                   'executor = "inline"\nworkers = 1\ntracking = "simulated"\n')
    code, out = _main(monkeypatch, capsys, "pipeline", "run", "--config", str(job), "--no-progress")
    assert code == 1, out
    assert _main(monkeypatch, capsys, "pipeline", "run", "--config", str(tmp_path / "gone.toml"))[0] == 2


def test_a_step_limit_before_the_first_validation_is_no_early_stopping_error() -> None:
    """``soccerai train --steps 2 --epochs -1``: early stopping has no ``val_loss`` yet; that is not an error."""
    from soccerai.models import build_model
    from soccerai.training.loop import TrainConfig, fit
    from soccerai.windows.sources import random_walk_windows

    train, val = random_walk_windows(64, 5, 5, seed=0), random_walk_windows(8, 5, 5, seed=1)
    model = build_model("gvrnn", {"hidden": 8, "latent": 4})
    result = fit(model, train, val, TrainConfig(-1, batch_size=4, max_steps=2, accelerator="cpu", progress_bar=False))
    assert result.steps == 2
