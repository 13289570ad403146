"""Settings read from the environment.

``SOCCERAI_DATA_DIR``: the data folder holding provider files (CI and tests point it at ``../shared/data``);
default ``data/`` in the current directory. ``SOCCERAI_STORE_DIR``: where ingested canonical parquet files go;
default ``<data dir>/store`` unless the data dir is read-only, then ``./out/store``.
"""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """The data folder (``$SOCCERAI_DATA_DIR``, default ``./data``)."""
    return Path(os.environ.get("SOCCERAI_DATA_DIR", "data")).expanduser().resolve()


def output_dir() -> Path:
    """Where soccerai writes what it makes (``$SOCCERAI_OUT_DIR``, default ``./out``)."""
    return Path(os.environ.get("SOCCERAI_OUT_DIR", "out")).expanduser().resolve()


def store_dir() -> Path:
    """Where canonical parquet files live (``$SOCCERAI_STORE_DIR``, default ``<out>/store``)."""
    env = os.environ.get("SOCCERAI_STORE_DIR")
    return Path(env).expanduser().resolve() if env else output_dir() / "store"


def metrica_events_dir() -> Path:
    """Folder of the three real full-match Metrica event timelines inside the data folder."""
    return data_dir() / "metrica-events"


def clips_dir() -> Path:
    """Folder of the real tracking clips inside the data folder."""
    return data_dir() / "clips"
