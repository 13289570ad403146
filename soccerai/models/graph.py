"""Player graphs: frames and windows of the 23 agents as torch_geometric ``Data`` / ``Batch`` objects.

Nodes are the 23 agents in the fixed order of :mod:`soccerai.windows.container` (0..10 attackers, 11..21 defenders, 22 ball).
Node features of one frame (``NODE_FEATURES``)::

    [x / 52.5, y / 34, vx / 8, vy / 8, attacker, defender, ball, goalkeeper, present]

Edges join present agents only and come in three kinds:

* ``complete``: every ordered pair ``(j -> k)``, ``j != k``;
* ``knn``: each agent receives from its ``k`` nearest present agents;
* ``same_team``: attackers with attackers, defenders with defenders (the ball receives from everyone and sends to
  everyone, so it still links the teams).

Edge features of ``j -> k`` (``EDGE_FEATURES``): ``[dx, dy, distance, same_team]`` with ``(dx, dy) = p_j - p_k``
in metres.

Only plain ``torch_geometric`` is used (no torch-scatter / torch-sparse extensions).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from torch_geometric.data import Batch, Data

from soccerai.errors import InvalidParameterError
from soccerai.match.schema import DEFAULT_PITCH
from soccerai.windows.container import BALL, N_AGENTS, TrajectoryWindows, agent_roles

EdgeKind = Literal["complete", "knn", "same_team"]
EDGE_KINDS: tuple[str, ...] = ("complete", "knn", "same_team")
NODE_FEATURES = ("x", "y", "vx", "vy", "attacker", "defender", "ball", "goalkeeper", "present")
EDGE_FEATURES = ("dx", "dy", "distance", "same_team")
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


def edge_index(
    positions: torch.Tensor,
    present: torch.Tensor,
    kind: EdgeKind = "complete",
    k: int = 6,
    roles: torch.Tensor | None = None,
) -> torch.Tensor:
    """Directed edges ``[2, E]`` (row 0 source ``j``, row 1 target ``k``) among the present agents of one frame.

    Args:
        positions: ``[N, 2]`` metres (used by ``knn``).
        present: bool ``[N]``; absent agents get no edge.
        kind: ``complete``, ``knn`` or ``same_team``.
        k: neighbours per agent for ``knn`` (at most the number of other present agents).
        roles: ``[N]`` roles (default: the standard 23-agent order), used by ``same_team``.
    """
    if kind not in EDGE_KINDS:
        raise InvalidParameterError(f"unknown edge kind {kind!r}; choose one of {', '.join(EDGE_KINDS)}")
    n = positions.shape[0]
    roles = torch.as_tensor(agent_roles()) if roles is None else roles
    both_present = present[:, None] & present[None, :]
    allowed = both_present & ~torch.eye(n, dtype=torch.bool)
    if kind == "same_team":
        same = roles[:, None] == roles[None, :]
        touches_ball = (roles[:, None] == BALL) | (roles[None, :] == BALL)
        allowed = allowed & (same | touches_ball)
    elif kind == "knn":
        if k < 1:
            raise InvalidParameterError(f"knn edges need k >= 1, got {k}")
        distance = torch.cdist(positions, positions).masked_fill(~allowed, float("inf"))
        n_neighbours = min(k, max(int(present.sum()) - 1, 0))
        nearest = distance.topk(n_neighbours, dim=0, largest=False).indices  # [k, N]: sources for each target
        chosen = torch.zeros_like(allowed)
        chosen.scatter_(0, nearest, True)
        allowed = allowed & chosen
    source, target = allowed.nonzero(as_tuple=True)
    return torch.stack([source, target])


def edge_features(positions: torch.Tensor, edges: torch.Tensor, roles: torch.Tensor) -> torch.Tensor:
    """Edge features ``[E, 4]``: ``dx, dy`` (source minus target, metres), distance, same team (0/1)."""
    source, target = edges
    offset = positions[source] - positions[target]
    distance = offset.norm(dim=-1, keepdim=True)
    same_team = ((roles[source] == roles[target]) & (roles[source] != BALL)).to(positions.dtype).unsqueeze(-1)
    return torch.cat([offset, distance, same_team], dim=-1)


def frame_graph(
    states: np.ndarray | torch.Tensor,
    present: np.ndarray | torch.Tensor,
    is_goalkeeper: np.ndarray | torch.Tensor,
    kind: EdgeKind = "complete",
    k: int = 6,
) -> Data:
    """One frame (``states [23, 4]``, ``present [23]``, ``is_goalkeeper [23]``) as a graph.

    The ``Data`` holds ``x`` (node features), ``edge_index``, ``edge_attr``, ``role`` and ``pos`` (metres).
    """
    states_t = torch.as_tensor(states, dtype=torch.float32)
    present_t = torch.as_tensor(present, dtype=torch.bool)
    roles = torch.as_tensor(agent_roles())
    goalkeeper = torch.as_tensor(is_goalkeeper, dtype=torch.bool)
    edges = edge_index(states_t[:, :2], present_t, kind, k, roles)
    return Data(
        x=node_features(states_t, present_t, roles, goalkeeper),
        edge_index=edges,
        edge_attr=edge_features(states_t[:, :2], edges, roles),
        role=roles,
        pos=states_t[:, :2],
        num_nodes=N_AGENTS,
    )


def window_graph(windows: TrajectoryWindows, index: int, kind: EdgeKind = "complete", k: int = 6) -> Data:
    """Window ``index`` as one graph whose nodes carry their whole time series.

    Node attributes: ``states [23, T, 4]``, ``mask [23, T]``, ``is_goalkeeper [23]``, ``role [23]``. The edges
    (and ``edge_attr``) are those of the last observed frame, so a model never sees the future through its graph.
    ``obs_len`` and ``window`` (the index) are graph-level attributes.
    """
    last = windows.obs_len - 1
    frame = frame_graph(
        windows.states[index, last], windows.mask[index, last], windows.is_goalkeeper[index], kind, k
    )
    return Data(
        states=torch.from_numpy(np.ascontiguousarray(windows.states[index].transpose(1, 0, 2))),
        mask=torch.from_numpy(np.ascontiguousarray(windows.mask[index].T)),
        is_goalkeeper=torch.from_numpy(windows.is_goalkeeper[index].copy()),
        role=frame.role,
        edge_index=frame.edge_index,
        edge_attr=frame.edge_attr,
        obs_len=torch.tensor([windows.obs_len]),
        window=torch.tensor([index]),
        num_nodes=N_AGENTS,
    )


def batch_windows(graphs: list[Data]) -> Batch:
    """Collate window graphs into one ``torch_geometric.data.Batch`` (node tensors stacked, edges offset)."""
    return Batch.from_data_list(graphs)



def complete_edges(present: torch.Tensor) -> torch.Tensor:
    """Complete directed graphs, one per row of ``present [G, N]``, over the flattened ``G * N`` nodes.

    Node ``n`` of graph ``g`` is ``g * N + n``; absent nodes get no edge. Vectorised equivalent of calling
    :func:`edge_index` with ``kind="complete"`` per graph and offsetting (as ``Batch`` does).
    """
    g, n = present.shape
    allowed = present[:, :, None] & present[:, None, :] & ~torch.eye(n, dtype=torch.bool, device=present.device)
    graph, source, target = allowed.nonzero(as_tuple=True)
    return torch.stack([graph * n + source, graph * n + target])


def repeat_edges(edges: torch.Tensor, n_nodes: int, copies: int) -> torch.Tensor:
    """Edges of ``copies`` stacked copies of a graph with ``n_nodes`` nodes (copy ``c`` offset by ``c * n_nodes``)."""
    offsets = torch.arange(copies, device=edges.device).repeat_interleave(edges.shape[1]) * n_nodes
    return edges.repeat(1, copies) + offsets
