"""GCN interaction encoder: two graph convolutions (Kipf & Welling 2017) from torch_geometric.

.. math::
    H^{(1)} = \\mathrm{ReLU}\\big(\\hat D^{-1/2} \\hat A \\hat D^{-1/2} X W_1\\big), \\qquad
    O = \\hat D^{-1/2} \\hat A \\hat D^{-1/2} H^{(1)} W_2

with ``\\hat A = A + I`` (self loops added by :class:`torch_geometric.nn.GCNConv`). The symmetric degree
normalisation is a weighted mean, so ``aggregation`` is ignored. Permutation-equivariant. Given a
:class:`~soccerai.models.complete_graph.CompleteGraph` it runs dense (:func:`dense_gcn`, the same numbers).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import GCNConv

from soccerai.models.complete_graph import CompleteGraph


class GCNEncoder(nn.Module):
    """``forward(x [M, in_dim], edge_index [2, E]) -> [M, out_dim]``, the calling convention of ``MPNNBlock``."""

    uses_positions = False
    supports_dense = True

    def __init__(self, in_dim: int, hidden: int, out_dim: int, aggregation: str = "sum") -> None:
        super().__init__()
        self.conv1 = GCNConv(in_dim, hidden)
        self.conv2 = GCNConv(hidden, out_dim)

    def reset_parameters(self) -> None:
        self.conv1.reset_parameters()
        self.conv2.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor | CompleteGraph, pos: Tensor | None = None) -> Tensor:
        if isinstance(edge_index, CompleteGraph):
            return dense_gcn(self.conv2, dense_gcn(self.conv1, x, edge_index).relu(), edge_index)
        return self.conv2(self.conv1(x, edge_index).relu(), edge_index)


def dense_gcn(conv: GCNConv, x: Tensor, graph: CompleteGraph) -> Tensor:
    """``conv`` over the complete graph of present agents: ``S (X W) + b`` with ``S = D^-1/2 (A + I) D^-1/2``
    (:meth:`CompleteGraph.gcn_operator`) as one batched ``[G, N, N] x [G, N, F]`` product."""
    g, n = graph.present.shape
    h = conv.lin(x).view(g, n, -1)
    return torch.bmm(graph.gcn_operator(h.dtype), h).reshape(g * n, -1) + conv.bias
