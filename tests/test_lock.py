"""requirements.lock covers pyproject.toml: the check that `make lock-check` and `make setup` run (tools/check_lock.py).

Offline and fast: it reads the two files only. The tampered cases copy them into a temporary folder and change one
thing each, and the message must name the package.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "check_lock.py"

_spec = importlib.util.spec_from_file_location("check_lock", SCRIPT)
check_lock = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_lock)


@pytest.fixture
def copies(tmp_path: Path) -> tuple[Path, Path]:
    pyproject, lock = tmp_path / "pyproject.toml", tmp_path / "requirements.lock"
    pyproject.write_text((ROOT / "pyproject.toml").read_text())
    lock.write_text((ROOT / "requirements.lock").read_text())
    return pyproject, lock


def _add_to_extra(pyproject: Path, extra: str, requirement: str) -> None:
    text = pyproject.read_text()
    start = re.search(rf"^{extra} = \[", text, flags=re.M)
    assert start, f"pyproject.toml has no extra {extra}"
    pyproject.write_text(text[: start.end()] + f'"{requirement}", ' + text[start.end() :])


def test_the_lock_matches_pyproject() -> None:
    assert check_lock.problems(ROOT / "pyproject.toml", ROOT / "requirements.lock") == []


def test_the_lock_pins_everything_with_hashes_and_torch_on_cpu() -> None:
    pins = check_lock.locked_versions(ROOT / "requirements.lock")
    assert pins["torch"].endswith("+cpu")  # never the multi-GB CUDA build
    assert "soccerai" not in pins  # the project itself is installed with --no-deps -e .
    assert not any(name.startswith("nvidia-") for name in pins)
    entries = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / "requirements.lock").read_text().split("\n", 2)[2])
    assert len(entries) == len(pins) and all("--hash=sha256:" in entry for entry in entries)


def test_a_dependency_missing_from_the_lock_is_named(copies: tuple[Path, Path]) -> None:
    pyproject, lock = copies
    _add_to_extra(pyproject, "dev", "left-pad-for-python>=1")
    assert check_lock.problems(pyproject, lock) == [
        "requirements.lock: pyproject.toml asks for left-pad-for-python>=1 (extra dev) but the lock has no "
        "left-pad-for-python; run `make lock`"
    ]


def test_a_locked_version_outside_the_range_is_named(copies: tuple[Path, Path]) -> None:
    pyproject, lock = copies
    lock.write_text(re.sub(r"^av==\S+", "av==11.0.0", lock.read_text(), flags=re.M))
    (line,) = check_lock.problems(pyproject, lock)
    assert line.startswith("requirements.lock: av==11.0.0 does not satisfy pyproject.toml's av")
    pyproject.write_text(pyproject.read_text().replace('"av>=12,<19"', '"av>=12,<17"'))
    lock.write_text((ROOT / "requirements.lock").read_text())
    (line,) = check_lock.problems(pyproject, lock)
    assert re.match(r"requirements\.lock: av==18\.\S+ does not satisfy pyproject\.toml's av<17,>=12", line)


def test_the_script_prints_one_line_and_fails(copies: tuple[Path, Path]) -> None:
    pyproject, lock = copies
    _add_to_extra(pyproject, "docs", "mkdocs-unheard-of==1.0")
    run = subprocess.run([sys.executable, str(SCRIPT), str(pyproject), str(lock)], capture_output=True, text=True)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and "mkdocs-unheard-of" in run.stderr
    ok = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stderr == ""
