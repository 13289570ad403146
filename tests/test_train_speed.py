"""The fast (G)VRNN computes what the former frame-by-frame code computed (``tests/reference_gvrnn.py``).

Same weights, same seed, the same REAL batch (Last Row clip: 20 tracked players + ball, so two agent slots are
absent and the presence-mask path runs): equal losses (to 1e-5), equal gradients and equal samples.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from reference_gvrnn import reference_model

from soccerai.models import TrajectoryBatch, build_model
from soccerai.models import vrnn as vrnn_module
from soccerai.models.complete_graph import CompleteGraph
from soccerai.models.graph import complete_edges
from soccerai.models.layers import build_encoder
from soccerai.models.relu_pool import ENGINES, masked_relu_pool
from soccerai.training import pretrained
from soccerai.windows.sources import lastrow_clip_windows


@pytest.fixture(scope="module")
def batch(clips_dir: Path) -> TrajectoryBatch:
    windows = lastrow_clip_windows(clips_dir / "lastrow" / "LIV_[2]-1_CHE.csv", obs_len=10, pred_len=20, stride=7)
    return TrajectoryBatch.from_windows(windows, slice(0, 8))


def pair(name: str, **config: object) -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    # the former code is the one-step ELBO with summed messages: compare with the rollout terms and dropout off
    elbo_only = {"aggregation": "sum", "rollout_weight": 0.0, "variety_weight": 0.0, "energy_weight": 0.0,
                 "player_dropout": 0.0}
    new = build_model(name, {**elbo_only, **config}).train()
    old = reference_model(new.config).train()
    old.load_state_dict(new.state_dict())
    return new, old


@pytest.mark.parametrize(
    ("name", "config"),
    [
        ("gvrnn", {}),
        ("vrnn", {}),
        ("gvrnn", {"aggregation": "mean"}),
        ("gvrnn", {"encoder": "gcn"}),  # dense now, an edge list in the former code
        ("gvrnn", {"encoder": "sage"}),  # dense now, an edge list in the former code
        ("gvrnn", {"encoder": "gat"}),  # an edge list in both: the new recurrence around an unchanged encoder
    ],
)
def test_fast_model_gives_the_former_loss_gradients_and_samples(name: str, config: dict, batch: TrajectoryBatch) -> None:
    assert not bool(batch.mask[:, batch.obs_len - 1].all()), "the real clip should have absent agent slots"
    new, old = pair(name, **config)
    torch.manual_seed(1)
    new_losses = new.loss(batch)
    torch.manual_seed(1)
    old_losses = old.loss(batch)
    for key in ("loss", "nll", "kl"):
        assert abs(float((new_losses[key] - old_losses[key]).detach())) <= 1e-5, (key, new_losses[key], old_losses[key])
    new_grads = torch.autograd.grad(new_losses["loss"], list(new.parameters()))
    old_grads = torch.autograd.grad(old_losses["loss"], list(old.parameters()))
    for (param_name, _), a, b in zip(new.named_parameters(), new_grads, old_grads, strict=True):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4, msg=param_name)

    history = batch.history()
    predict = torch.zeros(batch.batch_size, batch.n_agents, dtype=torch.bool)
    predict[:, [3, 12, 14]] = True
    future = batch.future_positions()[:, :12]
    new_paths = new.sample(history, 12, 4, predict, future, generator=torch.Generator().manual_seed(2))
    old_paths = old.sample(history, 12, 4, predict, future, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(new_paths, old_paths, atol=1e-4, rtol=0)
    assert torch.isfinite(new_paths).all()


def test_loss_in_blocks_of_frames_is_the_loss_in_one_block(
    batch: TrajectoryBatch, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks of 7 frames (4 full blocks and a remainder of 1 over the 29 steps) give the former loss."""
    new, old = pair("gvrnn")
    monkeypatch.setattr(vrnn_module, "LOSS_CHUNK_ROWS", 7 * batch.batch_size * batch.n_agents)
    torch.manual_seed(1)
    new_loss = new.loss(batch)["loss"]
    torch.manual_seed(1)
    old_loss = old.loss(batch)["loss"]
    assert batch.states.shape[1] - 1 == 29
    assert abs(float((new_loss - old_loss).detach())) <= 1e-5


@pytest.mark.parametrize("encoder", ["gcn", "sage"])
def test_dense_encoders_match_their_edge_list_form(encoder: str) -> None:
    """GCN / SAGE on a :class:`CompleteGraph` give torch_geometric's numbers and gradients on its edge list."""
    torch.manual_seed(0)
    net = build_encoder(encoder, 12, 16, 8)
    present = torch.ones(6, 23, dtype=torch.bool)
    present[:, [4, 9]] = False
    present[2, 1:] = False  # one scene with a single present agent: no neighbours
    x = torch.randn(6 * 23, 12, requires_grad=True)
    graph = CompleteGraph(present)
    dense, sparse = net(x, graph), net(x, complete_edges(present))
    torch.testing.assert_close(dense, sparse, atol=1e-5, rtol=1e-5)
    weights = torch.randn_like(dense)
    dense_grads = torch.autograd.grad((dense * weights).sum(), [x, *net.parameters()])
    sparse_grads = torch.autograd.grad((sparse * weights).sum(), [x, *net.parameters()])
    for a, b in zip(dense_grads, sparse_grads, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("engine", ENGINES)
def test_masked_relu_pool_matches_the_materialised_sum_and_its_gradient(engine: str) -> None:
    """Both engines against every message held at once: absent agents send and receive nothing, no self pair."""
    generator = torch.Generator().manual_seed(0)
    projected = torch.randn(37, 23, 16, generator=generator, requires_grad=True)
    present = torch.ones(37, 23, dtype=torch.bool)
    present[:, [4, 9]] = False
    present[5, 6:] = False
    weights = torch.randn(37, 23, 8, generator=generator)
    fast = masked_relu_pool(projected, present, engine)
    receiver, sender = projected.chunk(2, dim=-1)
    edges = present[:, :, None] & present[:, None, :] & ~torch.eye(23, dtype=torch.bool)  # [g, k, j]
    slow = ((receiver.unsqueeze(2) + sender.unsqueeze(1)).relu() * edges.unsqueeze(-1)).sum(2)
    torch.testing.assert_close(fast, slow)
    fast_grad = torch.autograd.grad((fast * weights).sum(), projected)[0]
    slow_grad = torch.autograd.grad((slow * weights).sum(), projected)[0]
    torch.testing.assert_close(fast_grad, slow_grad)
    assert (fast_grad[:, [4, 9]] == 0).all() and (fast[:, [4, 9]] == 0).all()
    half = masked_relu_pool(projected.detach().bfloat16(), present)  # mixed precision: the torch engine
    torch.testing.assert_close(half.float(), slow.detach(), atol=0.1, rtol=0.02)


def test_shipped_checkpoint_loads_and_samples_as_the_former_code(batch: TrajectoryBatch) -> None:
    """The shipped default keeps its ``state_dict`` keys and gives the former code's samples (seed 3)."""
    model, record = pretrained.load(pretrained.DEFAULT_MODEL)
    old = reference_model(model.config)
    assert set(old.state_dict()) == set(model.state_dict())
    old.load_state_dict(model.state_dict())
    model.config.latent_temperature = 1.0  # the former code drew from the prior as learned (no calibrated temperature)
    history = batch.history()
    new_paths = model.sample(history, 20, 20, generator=torch.Generator().manual_seed(3))
    old_paths = old.sample(history, 20, 20, generator=torch.Generator().manual_seed(3))
    assert record["model"] == "gvrnn" and new_paths.shape == (20, batch.batch_size, 20, batch.n_agents, 2)
    # 1e-5 m, plus float32 rounding of metre-scale positions over 20 integrated steps (1e-6 relative, ~8 ulp)
    torch.testing.assert_close(new_paths, old_paths, atol=1e-5, rtol=1e-6)
