"""Node features and the complete interaction graph of the 23 agents, for the models that pass messages.

Nodes are the 23 agents in the fixed order of :mod:`soccerai.windows.container` (0..10 attackers, 11..21 defenders,
22 the ball). Node features of one frame (``NODE_FEATURES``, :func:`node_features`)::

    [x / 52.5, y / 34, vx / 8, vy / 8, attacker, defender, ball, goalkeeper, present]

Training batches are plain tensors (:class:`soccerai.models.base.TrajectoryBatch`, built from windows by
:mod:`soccerai.training.datamodule`); a model that needs a graph builds it from the batch: the complete directed
graph over the agents present at the last observed frame, as an edge list (:func:`complete_edges`,
:func:`repeat_edges`) or kept dense (:class:`soccerai.models.complete_graph.CompleteGraph`).

Only plain ``torch_geometric`` is used by the encoders (no torch-scatter / torch-sparse extensions).
"""

from __future__ import annotations

import torch

from soccerai.match.schema import DEFAULT_PITCH

NODE_FEATURES = ("x", "y", "vx", "vy", "attacker", "defender", "ball", "goalkeeper", "present")
POSITION_SCALE = torch.tensor(DEFAULT_PITCH) / 2
"""Half the default pitch, (52.5, 34) m: node positions are divided by it."""
VELOCITY_SCALE = 8.0


def node_features(
    states: torch.Tensor, present: torch.Tensor, roles: torch.Tensor, is_goalkeeper: torch.Tensor
) -> torch.Tensor:
    """Node features ``[..., N, 9]`` (see module docstring) from states ``[..., N, 4]`` and flags ``[..., N]``.

    Absent agents get zero kinematics and ``present = 0`` but keep their role, so a model still knows what they are.
    """
    present_f = present.to(states.dtype).unsqueeze(-1)
    kinematics = torch.cat(
        [states[..., :2] / POSITION_SCALE.to(states), states[..., 2:4] / VELOCITY_SCALE], dim=-1
    )
    role_onehot = torch.nn.functional.one_hot(roles.long(), 3).to(states.dtype)
    role_onehot = role_onehot.expand(*states.shape[:-1], 3)
    goalkeeper = is_goalkeeper.to(states.dtype).expand(states.shape[:-1]).unsqueeze(-1)
    return torch.cat([kinematics * present_f, role_onehot, goalkeeper, present_f], dim=-1)


def complete_edges(present: torch.Tensor) -> torch.Tensor:
    """Complete directed graphs, one per row of ``present [G, N]``, over the flattened ``G * N`` nodes.

    ``[2, E]`` (row 0 source ``j``, row 1 target ``k``): every ordered pair ``j != k`` of present agents of the same
    scene, sorted by scene, source, target. Node ``n`` of graph ``g`` is ``g * N + n``; absent nodes get no edge.
    """
    g, n = present.shape
    allowed = present[:, :, None] & present[:, None, :] & ~torch.eye(n, dtype=torch.bool, device=present.device)
    graph, source, target = allowed.nonzero(as_tuple=True)
    return torch.stack([graph * n + source, graph * n + target])


def repeat_edges(edges: torch.Tensor, n_nodes: int, copies: int) -> torch.Tensor:
    """Edges of ``copies`` stacked copies of a graph with ``n_nodes`` nodes (copy ``c`` offset by ``c * n_nodes``)."""
    offsets = torch.arange(copies, device=edges.device).repeat_interleave(edges.shape[1]) * n_nodes
    return edges.repeat(1, copies) + offsets
