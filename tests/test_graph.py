"""Player graphs from a real Last Row clip: nodes, edge kinds, edge features, batching."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from soccerai.errors import InvalidParameterError
from soccerai.models.base import TrajectoryBatch
from soccerai.models.graph import NODE_FEATURES, complete_edges, edge_index, frame_graph, repeat_edges
from soccerai.training.datamodule import WindowDataModule, lastrow_clip_windows
from soccerai.windows.container import N_AGENTS


@pytest.fixture(scope="module")
def windows(clips_dir: Path):
    return lastrow_clip_windows(clips_dir / "lastrow" / "LIV_[2]-1_CHE.csv", obs_len=5, pred_len=5, stride=5)


def test_frame_graph_nodes_and_complete_edges(windows) -> None:
    states, present, goalkeeper = windows.states[0, 0], windows.mask[0, 0], windows.is_goalkeeper[0]
    graph = frame_graph(states, present, goalkeeper)
    n_present = int(present.sum())
    assert n_present == 21  # the clip tracks 10 + 10 players and the ball
    assert graph.x.shape == (N_AGENTS, len(NODE_FEATURES))
    assert graph.edge_index.shape[1] == n_present * (n_present - 1)
    touched = set(graph.edge_index.flatten().tolist())
    assert not touched & set((~torch.as_tensor(present)).nonzero().flatten().tolist())
    assert graph.x[22, 6] == 1 and graph.x[0, 4] == 1 and graph.x[11, 5] == 1  # ball / attacker / defender
    assert graph.x[11, 7] == 1 and graph.x[:, 7].sum() == 1  # one goalkeeper flagged


def test_edge_features_are_relative_positions(windows) -> None:
    graph = frame_graph(windows.states[0, 3], windows.mask[0, 3], windows.is_goalkeeper[0])
    source, target = graph.edge_index
    expected = graph.pos[source] - graph.pos[target]
    torch.testing.assert_close(graph.edge_attr[:, :2], expected)
    torch.testing.assert_close(graph.edge_attr[:, 2], expected.norm(dim=-1))
    same = graph.edge_attr[:, 3].bool()
    assert bool((source[same] < 11).eq(target[same] < 11).all())
    assert not bool(same[(source == 22) | (target == 22)].any())


def test_knn_and_same_team_edges(windows) -> None:
    positions = torch.as_tensor(windows.states[0, 0, :, :2])
    present = torch.as_tensor(windows.mask[0, 0])
    knn = edge_index(positions, present, "knn", k=4)
    incoming = torch.bincount(knn[1], minlength=N_AGENTS)
    assert incoming[present].eq(4).all() and incoming[~present].eq(0).all()
    agent = int(present.nonzero()[0])  # the first present slot (a keeper slot may be empty on the clip)
    nearest = torch.cdist(positions, positions)[agent].masked_fill(~present, 1e9)
    nearest[agent] = 1e9
    assert set(knn[0][knn[1] == agent].tolist()) == set(nearest.topk(4, largest=False).indices.tolist())
    team = edge_index(positions, present, "same_team")
    src, dst = team
    cross = ((src < 11) & (dst >= 11) & (dst < 22)) | ((dst < 11) & (src >= 11) & (src < 22))
    assert not bool(cross.any()) and bool((dst == 22).any())
    with pytest.raises(InvalidParameterError):
        edge_index(positions, present, "delaunay")  # type: ignore[arg-type]


def test_batched_complete_edges_match_per_graph_edges(windows) -> None:
    present = torch.as_tensor(windows.mask[:3, 4])
    batched = complete_edges(present)
    per_graph = [edge_index(torch.zeros(N_AGENTS, 2), present[g]) + g * N_AGENTS for g in range(3)]
    assert sorted(map(tuple, batched.T.tolist())) == sorted(map(tuple, torch.cat(per_graph, 1).T.tolist()))
    assert repeat_edges(batched, 3 * N_AGENTS, 2).shape[1] == 2 * batched.shape[1]


def test_data_module_yields_pyg_batches_that_round_trip(windows) -> None:
    loader = WindowDataModule(windows, batch_size=3).train_dataloader()
    graphs = next(iter(loader))
    assert graphs.num_graphs == 3 and graphs.states.shape == (3 * N_AGENTS, 10, 4)
    batch = TrajectoryBatch.from_graph_batch(graphs)
    window_ids = graphs.window.tolist()
    torch.testing.assert_close(batch.states, torch.as_tensor(windows.states[window_ids]))
    assert torch.equal(batch.mask, torch.as_tensor(windows.mask[window_ids]))
    assert int(batch.edge_index.max()) < 3 * N_AGENTS
