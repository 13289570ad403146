r"""GraphSAGE interaction encoder: two mean-aggregating SAGE convolutions (Hamilton, Ying & Leskovec 2017).

.. math::
    o_k = W_1 x_k + W_2 \cdot \frac{1}{|N(k)|} \sum_{j \in N(k)} x_j

with ReLU between the two layers (:class:`torch_geometric.nn.SAGEConv`, ``aggr="mean"``). The root term
``W_1 x_k`` keeps an agent's own state separate from its neighbours'. Permutation-equivariant.

Why the mean, whatever ``aggregation`` says: inside GVRNN the inputs of every node share a large common part (the
role one-hots, ``present = 1``, the recurrent state at the start of a sequence), so a SUM over the 22 neighbours of a
complete player graph multiplies that part by the degree at each layer: two layers give a gain of about
``22^2 ~ 500``. At initialisation the posterior then emitted latents of size ~250, the decoder velocities of
~1e4 m/s, the first loss was ~1e12 and sampled forecasts left the pitch by 6e4 m (the backbone benchmark's
"sage diverges"). A sum also lets the neighbour term outweigh the root term 22 : 1, washing out the agent's own
state. The mean has gain 1 whatever the number of present agents (21 on the real clips, 23 in simulation), so
``aggregation`` is accepted (``sum`` or ``mean``, checked) for the common signature but the mean is always used,
as :class:`.GCNEncoder` and :class:`.GATEncoder` always take weighted means. Given a
:class:`~soccerai.models.complete_graph.CompleteGraph` it runs dense (:func:`dense_sage`, the same numbers).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import SAGEConv

from soccerai.errors import InvalidParameterError
from soccerai.models.complete_graph import CompleteGraph


class SAGEEncoder(nn.Module):
    """``forward(x [M, in_dim], edge_index [2, E]) -> [M, out_dim]``."""

    uses_positions = False
    supports_dense = True

    def __init__(self, in_dim: int, hidden: int, out_dim: int, aggregation: str = "sum") -> None:
        super().__init__()
        if aggregation not in ("sum", "mean"):
            raise InvalidParameterError(f"SAGE aggregation must be sum or mean, got {aggregation!r}")
        self.conv1 = SAGEConv(in_dim, hidden, aggr="mean")
        self.conv2 = SAGEConv(hidden, out_dim, aggr="mean")

    def reset_parameters(self) -> None:
        self.conv1.reset_parameters()
        self.conv2.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor | CompleteGraph, pos: Tensor | None = None) -> Tensor:
        if isinstance(edge_index, CompleteGraph):
            return dense_sage(self.conv2, dense_sage(self.conv1, x, edge_index).relu(), edge_index)
        return self.conv2(self.conv1(x, edge_index).relu(), edge_index)


def dense_sage(conv: SAGEConv, x: Tensor, graph: CompleteGraph) -> Tensor:
    """``conv`` (mean aggregation) over the complete graph of present agents: ``W_2 (M X) + b + W_1 x`` with the
    neighbour mean ``M = A / deg`` (:meth:`CompleteGraph.mean_operator`) as one batched product."""
    g, n = graph.present.shape
    mean = torch.bmm(graph.mean_operator(x.dtype), x.view(g, n, -1)).reshape(g * n, -1)
    return conv.lin_l(mean) + conv.lin_r(x)
