"""Behaviour fingerprints a refactor must keep: run before and after, then diff the two outputs.

    SOCCERAI_DATA_DIR=../shared/data .venv/bin/python tools/fingerprint.py > before.txt   # ... change ...
    SOCCERAI_DATA_DIR=../shared/data .venv/bin/python tools/fingerprint.py | diff before.txt -

Each line hashes one result on REAL data (the SkillCorner match, the Hawk-Eye minutes, the Last Row clip, the Metrica
sample): the canonical tables as ingested, model windows (counts and tensors), the constant-velocity forecast, the
shipped GVRNN's samples at a fixed seed, the leak-free SkillCorner sets and pitch control on ten Hawk-Eye frames.
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from pathlib import Path

import numpy as np
import polars as pl
import torch

from soccerai.data.load import load_any
from soccerai.evaluate.pitch_control import frames_from_tracking, pitch_control
from soccerai.models.base import TrajectoryBatch
from soccerai.models.baselines import ConstantVelocity
from soccerai.training import pretrained
from soccerai.windows import sources
from soccerai.windows.cutter import make_windows
from soccerai.windows.layout import to_model_rate


def digest(value: object) -> str:
    """First 16 hex digits of the sha256 of a table (Arrow IPC bytes) or an array."""
    if isinstance(value, pl.DataFrame):
        buffer = io.BytesIO()
        value.write_ipc(buffer)
        return hashlib.sha256(buffer.getvalue()).hexdigest()[:16]
    array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:16]


def main() -> None:
    warnings.simplefilter("ignore")
    torch.set_num_threads(2)
    data = Path(os.environ.get("SOCCERAI_DATA_DIR", "../shared/data"))
    clip = data / "clips/lastrow/LIV_[2]-1_CHE.csv"
    inputs = {
        "skillcorner": [data / "real-matches/skillcorner-bayern-dortmund-2019-11-09"],
        "hawkeye": [data / "real-matches/hawkeye-two-minutes"],
        "lastrow": [clip],
        "metrica": [data / "provider-samples/metrica_home.csv", data / "provider-samples/metrica_away.csv"],
    }
    matches = {name: load_any(paths) for name, paths in inputs.items()}
    for name, match in matches.items():
        tracking = match.tracking.sort(["period", "frame", "object_id"])
        print(f"ingest {name}: rows={tracking.height} tracking={digest(tracking)} "
              f"players={digest(match.players.sort('object_id'))}")
    for name in ("skillcorner", "lastrow", "hawkeye"):
        at_10hz = to_model_rate(matches[name])
        for min_players in (6, 20):
            w = make_windows(at_10hz, min_players=min_players)
            print(f"windows {name} min_players={min_players}: n={len(w)} x={digest(w.states)} "
                  f"mask={digest(w.mask)} meta={digest(w.meta)}")
    test = sources.lastrow_test_set(clip)
    batch = TrajectoryBatch.from_windows(test)
    horizon = test.states.shape[1] - test.obs_len
    print("clip windows", len(test), "cv sample hash", digest(ConstantVelocity().sample(batch.history(), horizon, 20)))
    model, _ = pretrained.load(pretrained.DEFAULT_MODEL, test)
    torch.manual_seed(7)
    samples = model.sample(batch.history(), horizon, 20, generator=torch.Generator().manual_seed(7))
    print("pretrained samples", tuple(samples.shape), "sum", float(samples.double().sum()), "hash", digest(samples))
    for label, part in zip(("train", "val", "test"), sources.skillcorner_sets(inputs["skillcorner"][0]), strict=True):
        print(f"skillcorner_sets {label}: n={len(part)} states={digest(part.states)} mask={digest(part.mask)}")
    hawkeye = to_model_rate(matches["hawkeye"])
    first = hawkeye.tracking.filter(pl.col("period") == hawkeye.tracking["period"].min())
    frames = sorted(first["frame"].unique())[:50:5]
    tensors = frames_from_tracking(first.filter(pl.col("frame").is_in(frames)), hawkeye.players, "home")
    surface = pitch_control(tensors.positions, tensors.velocities, tensors.valid)
    print("pitch control hawkeye 10 frames: sum", round(float(surface.nansum()), 4), "hash", digest(surface))


if __name__ == "__main__":
    main()
