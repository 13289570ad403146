"""GCN interaction encoder: two graph convolutions (Kipf & Welling 2017) from torch_geometric.

.. math::
    H^{(1)} = \\mathrm{ReLU}\\big(\\hat D^{-1/2} \\hat A \\hat D^{-1/2} X W_1\\big), \\qquad
    O = \\hat D^{-1/2} \\hat A \\hat D^{-1/2} H^{(1)} W_2

with ``\\hat A = A + I`` (self loops added by :class:`torch_geometric.nn.GCNConv`). The symmetric degree
normalisation is a weighted mean, so ``aggregation`` is ignored. Permutation-equivariant.
"""

from __future__ import annotations

from torch import Tensor, nn
from torch_geometric.nn import GCNConv


class GCNEncoder(nn.Module):
    """``forward(x [M, in_dim], edge_index [2, E]) -> [M, out_dim]``, the calling convention of ``MPNNBlock``."""

    uses_positions = False

    def __init__(self, in_dim: int, hidden: int, out_dim: int, aggregation: str = "sum") -> None:
        super().__init__()
        self.conv1 = GCNConv(in_dim, hidden)
        self.conv2 = GCNConv(hidden, out_dim)

    def reset_parameters(self) -> None:
        self.conv1.reset_parameters()
        self.conv2.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, pos: Tensor | None = None) -> Tensor:
        return self.conv2(self.conv1(x, edge_index).relu(), edge_index)
