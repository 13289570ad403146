"""``soccerai train --devices 2 --strategy ddp`` on CPU: two processes (gloo), disjoint shards, a falling loss, and
a checkpoint that holds what rank 0 (and so every rank) holds. REAL tracking: the Last Row clip.

Slow (two fresh interpreters each import torch and Lightning, then train): ``pytest -m slow tests/test_train_ddp.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from soccerai.training.checkpoint import load_checkpoint
from soccerai.training.loop import weights_digest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_ddp_on_two_cpu_processes_shards_data_and_saves_rank_zero(clips_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "ddp-model"
    cmd = [
        sys.executable, "-m", "soccerai.cli", "train", str(clips_dir / "lastrow" / "LIV_[2]-1_CHE.csv"),
        "--model", "gvrnn", "--hidden", "16", "--latent", "4", "--obs", "10", "--horizon", "10", "--stride", "2",
        "--epochs", "4", "--batch-size", "8", "--learning-rate", "3e-3", "--val-fraction", "0.25",
        "--accelerator", "cpu", "--devices", "2", "--strategy", "ddp", "--out", str(out),
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    model, record = load_checkpoint(out)
    meta = record["metadata"]
    ranks = meta["ranks"]
    assert [r["rank"] for r in ranks] == [0, 1], "two training processes"
    first, second = (set(r["windows"]) for r in ranks)
    n_train = meta["n_train_windows"]
    padding = (-n_train) % 2  # DistributedSampler repeats a window to give both ranks equal shards
    assert len(first & second) <= padding, "the ranks trained on overlapping shards in the first epoch"
    assert first | second == set(range(n_train)), "every training window reached one of the ranks"
    assert min(len(first), len(second)) >= n_train // 2 - 1

    losses = [epoch["val_loss"] for epoch in meta["history"] if "val_loss" in epoch]
    assert len(losses) >= 3 and losses[-1] < losses[0], losses

    digests = {r["weights_sha256"] for r in ranks}
    assert len(digests) == 1, "DDP left the ranks with different weights"
    assert weights_digest(model) == digests.pop(), "the checkpoint is not what rank 0 holds"
