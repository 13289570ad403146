"""The forecast benchmark's library parts: every backbone by key, and simulated pre-training + real fine-tuning
(real Last Row windows stand in for the real half, random-walk scenes for the simulated matches: small and fast)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from soccerai.bench import forecast as fb
from soccerai.errors import InvalidParameterError
from soccerai.evaluate.forecast_table import forecast_table
from soccerai.models.registry import GENERATORS, encoder_names
from soccerai.windows.sources import lastrow_clip_windows, random_walk_windows


@pytest.fixture(scope="module")
def real(clips_dir: Path):
    return lastrow_clip_windows(clips_dir / "lastrow" / "LIV_[2]-1_CHE.csv", obs_len=5, pred_len=10, stride=4)


def _config(**changes) -> fb.ForecastBenchmarkConfig:
    return fb.ForecastBenchmarkConfig(steps=2, budget_s=2.0, hidden=8, latent=4, batch_size=8, pretrained=None,
                                      simulated=False, **changes)


def test_every_backbone_has_a_key_and_unknown_ones_are_refused() -> None:
    config = _config(models=("all",))
    assert set(config.models) == {"vrnn", "gvrnn", *GENERATORS, *(f"gvrnn:{e}" for e in encoder_names()
                                                                   if e != "mpnn")}
    built = fb.backbone_entries(config)
    assert built["gvrnn:gat"].build().config.encoder == "gat" and built["diffusion"].build().name == "diffusion"
    with pytest.raises(InvalidParameterError, match="unknown forecast benchmark models gvrnn:nope"):
        _config(models=("gvrnn:nope",))


def test_pretrain_on_simulated_then_fine_tune_on_real(real) -> None:
    sim = random_walk_windows(16, obs_len=5, pred_len=10, seed=1)
    config = _config()
    rows = fb.pretrain_finetune_rows(sim, real, config, pretrain_steps=3, say=lambda _m: None)
    assert [r.label for r in rows] == ["gvrnn [sim:3+steps:2]", "gvrnn [sim:3+wall:2]"]
    assert rows[0].steps == 5 and rows[1].steps > 3  # pre-training steps are counted with the fine-tuning ones
    assert rows[0].wall_s > 0 and rows[1].wall_s >= 2.0
    first, second = (dict(r.model.named_parameters()) for r in rows)
    assert any(not torch.equal(first[k], second[k]) for k in first)  # two fine-tuned copies, not one model
    table = forecast_table({r.label: r.model for r in rows}, {"lastrow": real}, n_samples=2, n_boot=20,
                           scenarios=("full_scene",))
    assert set(table["model"]) == {"constant_velocity", *(r.label for r in rows)}
    assert np.isfinite(table.select(table.columns[6:]).to_numpy().astype(float)).all()
    with pytest.raises(InvalidParameterError, match="simulated windows are 5\\+11 frames"):
        fb.pretrain_finetune_rows(random_walk_windows(4, 5, 11), real, config, pretrain_steps=1)
    with pytest.raises(InvalidParameterError, match="pretrain_steps must be at least 1"):
        fb.pretrain_finetune_rows(sim, real, config, pretrain_steps=0)
