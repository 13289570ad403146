"""The compiled GVRNN rollout (:mod:`soccerai.models.rollout_kernel`) samples what the torch rollout samples.

Same model, same seed, the same REAL windows (Last Row clip: 20 tracked players + ball, so two agent slots are
absent): ``engine="numba"`` (the default on a CPU) against ``engine="torch"`` (the tensor loop, unchanged), for the
two shipped checkpoints and for configurations the shipped ones do not cover (sum / mean aggregation, decoder
noise, the non-residual decoder, ghosting with given agents), on one and on two threads.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from soccerai.errors import InvalidParameterError
from soccerai.models import TrajectoryBatch, build_model
from soccerai.training import pretrained
from soccerai.windows.sources import lastrow_clip_windows

HORIZON = 40


@pytest.fixture(scope="module")
def batch(clips_dir: Path) -> TrajectoryBatch:
    windows = lastrow_clip_windows(
        clips_dir / "lastrow" / "LIV_[2]-1_CHE.csv", obs_len=20, pred_len=HORIZON, stride=9
    )
    return TrajectoryBatch.from_windows(windows, slice(0, 3))


def both_engines(model: torch.nn.Module, batch: TrajectoryBatch, threads: int = 1, **kwargs: object) -> tuple:
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return tuple(
            model.sample(
                batch.history(),
                HORIZON,
                6,
                generator=torch.Generator().manual_seed(4),
                engine=engine,
                **kwargs,
            )
            for engine in ("numba", "torch")
        )
    finally:
        torch.set_num_threads(previous)


def assert_same_samples(fast: torch.Tensor, slow: torch.Tensor) -> None:
    assert fast.shape == slow.shape and torch.isfinite(fast).all()
    # 1e-5 m plus float32 rounding of metre-scale positions over 40 integrated steps (1e-6 relative)
    torch.testing.assert_close(fast, slow, atol=1e-5, rtol=1e-6)


@pytest.mark.parametrize("name", ["gvrnn-sim-skillcorner", "gvrnn-skillcorner"])
@pytest.mark.parametrize("threads", [1, 2])
def test_shipped_models_sample_the_same_with_both_engines(
    name: str, threads: int, batch: TrajectoryBatch
) -> None:
    model, _ = pretrained.load(name)
    assert not bool(batch.mask[:, batch.obs_len - 1].all()), "the real clip should have absent agent slots"
    assert_same_samples(*both_engines(model, batch, threads))


@pytest.mark.parametrize(
    "config",
    [
        {},  # the default config: hidden 64, mean aggregation
        {"aggregation": "sum"},
        {"decoder_noise": True, "residual_velocity": False},
    ],
)
def test_other_configurations_sample_the_same_with_both_engines(config: dict, batch: TrajectoryBatch) -> None:
    torch.manual_seed(0)
    model = build_model("gvrnn", config)
    assert_same_samples(*both_engines(model, batch))


def test_given_agents_follow_their_future_in_the_compiled_rollout(batch: TrajectoryBatch) -> None:
    model, _ = pretrained.load(pretrained.DEFAULT_MODEL)
    predict = torch.zeros(batch.batch_size, batch.n_agents, dtype=torch.bool)
    predict[:, [3, 12, 14]] = True
    future = batch.future_positions()[:, :HORIZON]
    fast, slow = both_engines(model, batch, 2, predict_mask=predict, given_future=future.clone())
    assert_same_samples(fast, slow)
    given = ~predict[None, :, None, :].expand(fast.shape[:-1])
    torch.testing.assert_close(fast[given], future.unsqueeze(0).expand_as(fast)[given])


def test_the_default_engine_is_the_compiled_one_and_training_keeps_torch(batch: TrajectoryBatch) -> None:
    model, _ = pretrained.load(pretrained.DEFAULT_MODEL)
    default = model.sample(batch.history(), HORIZON, 6, generator=torch.Generator().manual_seed(4))
    fast, _ = both_engines(model, batch)
    assert torch.equal(default, fast)
    torch.manual_seed(0)
    model.train()
    model.loss(batch)["loss"].backward()  # the rollout terms run with gradients: the torch rollout
    assert all(p.grad is not None for p in model.parameters())


def test_engine_errors_are_one_line(batch: TrajectoryBatch) -> None:
    with pytest.raises(InvalidParameterError, match="unknown rollout engine"):
        build_model("gvrnn").sample(batch.history(), 3, 1, engine="jax")
    with pytest.raises(InvalidParameterError, match="numba rollout needs an MPNN"):
        build_model("gvrnn", {"encoder": "gat"}).sample(batch.history(), 3, 1, engine="numba")
    gat = build_model("gvrnn", {"encoder": "gat"}).sample(
        batch.history(), 3, 1
    )  # default: torch where numba can't
    assert gat.shape == (1, batch.batch_size, 3, batch.n_agents, 2)
