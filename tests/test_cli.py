"""The command line: every topic is listed, topics load lazily, errors are one line with exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from soccerai.cli import TOPICS


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
        "from soccerai.cli import app\n"
        "try:\n"
        "    app(['ingest', '--help'], standalone_mode=False)\n"
        "finally:\n"
        "    print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')\n"
    )
    done = _run(code=code)
    assert "Ingest provider tracking files" in done.stdout
    assert done.stdout.strip().endswith("NO-TORCH"), done.stdout[-300:]


def test_bad_input_is_one_line_with_exit_code_2(tmp_path: Path) -> None:
    missing = tmp_path / "LIV_[2]-1_CHE.parquet"
    done = _run("info", str(missing))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert str(missing) in done.stderr.replace("\n", "") and "no such match file" in done.stderr


def test_unknown_command_is_a_usage_error() -> None:
    done = _run("no-such-command")
    assert done.returncode == 2 and "No such command" in done.stderr
