"""Shared fixtures: real data through the SOCCERAI_DATA_DIR setting (CI points it at ../shared/data).

A missing data folder is an error, never a silent skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("SOCCERAI_DATA_DIR", str(Path(__file__).resolve().parents[2] / "shared" / "data"))


def pytest_configure(config: pytest.Config) -> None:
    """One torch thread: tests are small, and oversubscribed threads on a 2-core machine are many times slower."""
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    from soccerai.config import data_dir as configured

    path = configured()
    if not (path / "provider-samples").is_dir():
        raise RuntimeError(f"SOCCERAI_DATA_DIR={path} has no provider-samples/: point it at ../shared/data")
    return path


@pytest.fixture(scope="session")
def samples_dir(data_dir: Path) -> Path:
    return data_dir / "provider-samples"


@pytest.fixture(scope="session")
def events_dir(data_dir: Path) -> Path:
    return data_dir / "metrica-events"


@pytest.fixture(scope="session")
def clips_dir(data_dir: Path) -> Path:
    return data_dir / "clips"


@pytest.fixture(autouse=True)
def _isolated_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test writes under its own temporary folder, never into the repository."""
    monkeypatch.setenv("SOCCERAI_OUT_DIR", str(tmp_path / "out"))
    monkeypatch.delenv("SOCCERAI_STORE_DIR", raising=False)
