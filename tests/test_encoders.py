"""Interaction encoders (GCN, GAT, GraphSAGE, Graphormer, SAT): calling convention, equivariance, interaction."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch_geometric.utils import k_hop_subgraph

from soccerai.bench.backbones import BenchmarkConfig, simulated_windows
from soccerai.errors import InvalidParameterError
from soccerai.evaluate.metrics import forecast
from soccerai.models.base import TrajectoryBatch
from soccerai.models.encoders import ENCODERS
from soccerai.models.encoders.graphormer import relative_centrality
from soccerai.models.encoders.sat import k_hop_members, nearest_neighbour_edges
from soccerai.models.graph import complete_edges, node_features
from soccerai.models.gvrnn import GVRNN, GVRNNConfig
from soccerai.models.layers import build_encoder
from soccerai.windows.container import N_AGENTS, TrajectoryWindows, agent_roles
from soccerai.windows.sources import lastrow_clip_windows

IN, HIDDEN, OUT = 9, 16, 8


@pytest.fixture(scope="module")
def scene(clips_dir: Path) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Node features, complete edges and positions (metres) of two real frames (Last Row clip, 20 players + ball)."""
    windows = lastrow_clip_windows(clips_dir / "lastrow" / "LIV_[2]-1_CHE.csv", obs_len=2, pred_len=1, stride=20)
    states = torch.as_tensor(windows.states[:2, 0])
    present = torch.as_tensor(windows.mask[:2, 0])
    features = node_features(states, present, torch.as_tensor(agent_roles()), torch.as_tensor(windows.is_goalkeeper[:2]))
    return features.reshape(-1, IN), complete_edges(present), states[..., :2].reshape(-1, 2)


def _encoder(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    return ENCODERS[name](IN, HIDDEN, OUT)


def _call(encoder: torch.nn.Module, x: torch.Tensor, edges: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    return encoder(x, edges, pos=pos) if encoder.uses_positions else encoder(x, edges)


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_permuting_nodes_permutes_outputs(name: str, scene) -> None:
    x, edges, pos = scene
    encoder = _encoder(name)
    out = _call(encoder, x, edges, pos)
    assert out.shape == (2 * N_AGENTS, OUT) and torch.isfinite(out).all()
    perm = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(1))
    relabel = torch.argsort(perm)  # old index -> new index
    permuted = _call(encoder, x[perm], relabel[edges], pos[perm])
    torch.testing.assert_close(permuted, out[perm], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_a_neighbour_changes_the_output_and_windows_stay_separate(name: str, scene) -> None:
    x, edges, pos = scene
    encoder = _encoder(name)
    before = _call(encoder, x, edges, pos)
    moved_x, moved_pos = x.clone(), pos.clone()
    moved_x[5, :4] += 0.3  # attacker 5 of the first frame moves and speeds up
    moved_pos[5] += torch.tensor([0.3 * 52.5, 0.3 * 34.0])
    after = _call(encoder, moved_x, edges, moved_pos)
    assert not torch.allclose(before[12], after[12])  # a defender of the same frame reacts
    torch.testing.assert_close(before[N_AGENTS:], after[N_AGENTS:])  # the other window does not


@pytest.mark.parametrize("name", ["graphormer", "sat"])
def test_positions_default_to_node_features(name: str, scene) -> None:
    x, edges, pos = scene
    encoder = _encoder(name)
    torch.testing.assert_close(encoder(x, edges), encoder(x, edges, pos=pos), atol=1e-4, rtol=1e-4)


def test_graphormer_spatial_bias_uses_distance_only(scene) -> None:
    """Same features, other pitch positions: only the distance buckets change, and so does the output."""
    x, edges, pos = scene
    encoder = _encoder("graphormer")
    torch.testing.assert_close(encoder(x, edges, pos=pos), encoder(x, edges, pos=pos + 7.0))  # translation-invariant
    assert not torch.allclose(encoder(x, edges, pos=pos), encoder(x, edges, pos=pos * 3.0))


def test_sat_subgraphs_match_torch_geometric(scene) -> None:
    x, edges, pos = scene
    proximity = nearest_neighbour_edges(edges, pos, 3)
    in_degree = torch.bincount(proximity[1], minlength=x.shape[0])
    present = torch.zeros(x.shape[0], dtype=torch.long).index_add_(0, edges[1], torch.ones_like(edges[1])) > 0
    assert (in_degree[present] == 3).all() and (in_degree[~present] == 0).all()
    undirected = torch.cat([proximity, proximity.flip(0)], dim=1)
    root, member = k_hop_members(proximity, x.shape[0], hops=2)
    for node in range(0, x.shape[0], 5):
        expected, *_ = k_hop_subgraph(node, 2, undirected, num_nodes=x.shape[0])
        assert sorted(member[root == node].tolist()) == sorted(expected.tolist())


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_a_few_steps_fit_a_neighbourhood_target(name: str, scene) -> None:
    """Regress each agent's distance to its nearest present neighbour: needs neighbours, so training must use them."""
    x, edges, pos = scene
    distance = torch.cdist(pos, pos).masked_fill(torch.eye(pos.shape[0], dtype=torch.bool), 1e9)
    same_window = torch.zeros_like(distance, dtype=torch.bool)
    same_window[edges[0], edges[1]] = True
    target = distance.masked_fill(~same_window, 1e9).min(dim=0).values.clamp_max(30.0).unsqueeze(-1) / 10
    encoder = ENCODERS[name](IN, HIDDEN, 1)
    optimiser = torch.optim.Adam(encoder.parameters(), lr=1e-2)
    losses = []
    for _ in range(40):
        loss = (_call(encoder, x, edges, pos) - target).pow(2).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


def test_build_encoder_knows_every_name() -> None:
    for name in ENCODERS:
        assert isinstance(build_encoder(name, IN, HIDDEN, OUT), ENCODERS[name])
    with pytest.raises(InvalidParameterError, match="aggregation"):
        ENCODERS["sage"](IN, HIDDEN, OUT, "max")
    with pytest.raises(InvalidParameterError, match="hops"):
        ENCODERS["sat"](IN, HIDDEN, OUT, hops=0)


@pytest.mark.parametrize("name", sorted(set(ENCODERS) - {"gcn"}))
def test_an_agent_s_own_input_reaches_its_own_output(name: str, scene) -> None:
    """A root / residual path: moving agent 5 changes its own output several times more than its neighbours'.

    Without one (GAT before ``residual=True``, SAGE with a sum) the ratio was 1.0: every agent got the scene average.
    GCN is excluded: its self loop is by design one of ``deg + 1`` equal weights.
    """
    x, edges, pos = scene
    encoder = _encoder(name)
    before = _call(encoder, x, edges, pos)
    moved_x, moved_pos = x.clone(), pos.clone()
    moved_x[5, :4] += 0.3
    moved_pos[5] += torch.tensor([0.3 * 52.5, 0.3 * 34.0])
    change = (_call(encoder, moved_x, edges, moved_pos) - before).norm(dim=-1)
    neighbours = edges[0][edges[1] == 5]
    assert change[5] > 3 * change[neighbours].mean(), (change[5], change[neighbours].mean())


# -- inside GVRNN --------------------------------------------------------------------------------------------------
PITCH_SCALE_M = 100.0  # no position may leave a 200 m x 200 m box around the centre spot (the pitch is 105 x 68)


@pytest.fixture(scope="module")
def simulated(events_dir: Path) -> TrajectoryWindows:
    """Windows (1 s observed, 1 s predicted) of 2 simulated minutes driven by a real Metrica event timeline."""
    config = BenchmarkConfig(obs_s=1.0, pred_s=1.0)
    return simulated_windows(sorted(events_dir.glob("*RawEventsData.csv"))[0], seed=0, duration_s=120.0, config=config)


def _seeded_gvrnn_loss(model: GVRNN, batch: TrajectoryBatch) -> float:
    torch.manual_seed(123)  # the same posterior noise before and after training
    with torch.no_grad():
        return model.loss(batch)["loss"].item()


@pytest.mark.parametrize("name", ["mpnn", *sorted(ENCODERS)])
def test_every_encoder_trains_inside_gvrnn_and_stays_on_the_pitch(name: str, simulated: TrajectoryWindows) -> None:
    """A few Adam steps on simulated windows: finite losses that fall, forecasts at the pitch's scale (not 1e4 m)."""
    torch.manual_seed(0)
    model = GVRNN(GVRNNConfig(hidden=16, latent=4, encoder=name))
    batch = TrajectoryBatch.from_windows(simulated, slice(0, 8))
    before = _seeded_gvrnn_loss(model, batch)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    for step in range(12):
        torch.manual_seed(step)
        loss = model.loss(batch)["loss"]
        assert torch.isfinite(loss), (name, step, loss)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    after = _seeded_gvrnn_loss(model, batch)
    assert after < before and abs(before) < 1e3, (before, after)
    samples, truth, valid = forecast(model, simulated.subset(list(range(8))), "ghosting", n_samples=3)
    assert torch.isfinite(samples).all()
    assert samples.abs().max() < PITCH_SCALE_M, samples.abs().max()


def test_sage_output_scale_does_not_grow_with_the_number_of_agents() -> None:
    """Mean aggregation: the same features on 5 or 23 agents give the same outputs (a sum would grow ~degree^2)."""
    encoder = _encoder("sage")
    x = torch.randn(1, IN).repeat(N_AGENTS, 1)
    small = encoder(x[:5], complete_edges(torch.ones(1, 5, dtype=torch.bool)))
    large = encoder(x, complete_edges(torch.ones(1, N_AGENTS, dtype=torch.bool)))
    torch.testing.assert_close(small, large[:5])


def test_graphormer_centrality_ignores_the_number_of_present_agents() -> None:
    """Complete graphs of 23 (simulated) and 21 (real clip) agents share one trained centrality bucket."""
    present = torch.ones(2, N_AGENTS, dtype=torch.bool)
    present[1, [9, 20]] = False
    centrality = relative_centrality(complete_edges(present), 2 * N_AGENTS).view(2, N_AGENTS)
    assert (centrality[present] == centrality.max()).all() and (centrality[~present] == 0).all()
    star = torch.tensor([[1, 2, 3, 0], [0, 0, 0, 1]])  # 1, 2, 3 -> 0 and 0 -> 1: node 0 is the hub
    assert relative_centrality(star, 4).tolist() == [10, 3, 0, 0]  # node 1: 1 of its hub neighbour's 3


@pytest.mark.parametrize("name", ["graphormer", "sat"])
def test_position_aware_encoders_get_real_positions_in_every_gvrnn_network(name: str, simulated) -> None:
    """The prior's and the decoder's inputs (``h``, ``[z, h]``) hold no positions: GVRNN must pass them in metres.

    With the same ``h`` and edges, the prior must react when the agents swap places (Graphormer's distance bias
    and SAT's nearest-neighbour subgraphs both change), and give the same output for the same positions.
    """
    torch.manual_seed(0)
    model = GVRNN(GVRNNConfig(hidden=16, latent=4, encoder=name)).eval()
    batch = TrajectoryBatch.from_windows(simulated, slice(0, 2))
    edges = model._edges(batch, 1)
    h = torch.randn(batch.batch_size * batch.n_agents, 16)
    positions = batch.states[:, 0, :, :2].nan_to_num(0.0)
    shuffled = positions[:, torch.randperm(positions.shape[1], generator=torch.Generator().manual_seed(1))]
    with torch.no_grad():
        near = model._interact(model.prior_net, h, edges, positions)
        far = model._interact(model.prior_net, h, edges, shuffled)
        plain = model._interact(model.prior_net, h, edges, positions)
    assert torch.equal(near, plain)
    assert (near - far).abs().max() > 1e-4
