"""Node features and complete graphs from a real Last Row clip."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from soccerai.models import graph
from soccerai.windows.container import N_AGENTS, agent_roles
from soccerai.windows.sources import lastrow_clip_windows


@pytest.fixture(scope="module")
def windows(clips_dir: Path):
    return lastrow_clip_windows(clips_dir / "lastrow" / "LIV_[2]-1_CHE.csv", obs_len=5, pred_len=5, stride=5)


def test_node_features_scale_flag_roles_and_mask_absent_agents(windows) -> None:
    states = torch.as_tensor(windows.states[0, 0])
    present = torch.as_tensor(windows.mask[0, 0])
    x = graph.node_features(states, present, torch.as_tensor(agent_roles()), torch.as_tensor(windows.is_goalkeeper[0]))
    assert int(present.sum()) == 21  # the clip tracks 10 + 10 players and the ball
    assert x.shape == (N_AGENTS, len(graph.NODE_FEATURES))
    torch.testing.assert_close(x[present, :2], states[present, :2] / graph.POSITION_SCALE)
    torch.testing.assert_close(x[present, 2:4], states[present, 2:4] / graph.VELOCITY_SCALE)
    assert x[~present, :4].abs().sum() == 0 and x[~present, 8].sum() == 0 and x[present, 8].all()
    assert x[22, 6] == 1 and x[1, 4] == 1 and x[11, 5] == 1  # ball / attacker / defender keep their role
    assert x[11, 7] == 1 and x[:, 7].sum() == 1  # one goalkeeper flagged


def test_complete_edges_join_every_ordered_pair_of_present_agents_per_scene(windows) -> None:
    present = torch.as_tensor(windows.mask[:3, 4])
    batched = graph.complete_edges(present)
    expected = [(g * N_AGENTS + j, g * N_AGENTS + k) for g in range(3) for j in range(N_AGENTS)
                for k in range(N_AGENTS) if j != k and present[g, j] and present[g, k]]
    assert list(map(tuple, batched.T.tolist())) == expected  # sorted by scene, source, target
    touched = set(batched.flatten().tolist())
    assert not touched & set((~present.flatten()).nonzero().flatten().tolist())
    repeated = graph.repeat_edges(batched, 3 * N_AGENTS, 2)
    assert torch.equal(repeated[:, batched.shape[1]:], batched + 3 * N_AGENTS)
