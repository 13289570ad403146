"""GAT interaction encoder: two GATv2 attention layers (Brody, Alon & Yahav 2022) from torch_geometric.

For receiver ``k`` and senders ``j in N(k) + {k}`` (self loops added)::

    a_kj  = softmax_j( w^T LeakyReLU(W [x_k || x_j]) ),      o_k = sum_j a_kj * W_s x_j

Layer 1 has ``heads`` heads averaged (``concat=False``) followed by ReLU; layer 2 has one head. The softmax is a
weighted mean, so ``aggregation`` is ignored. Permutation-equivariant.
"""

from __future__ import annotations

from torch import Tensor, nn
from torch_geometric.nn import GATv2Conv


class GATEncoder(nn.Module):
    """``forward(x [M, in_dim], edge_index [2, E]) -> [M, out_dim]``."""

    uses_positions = False

    def __init__(self, in_dim: int, hidden: int, out_dim: int, aggregation: str = "sum", heads: int = 2) -> None:
        super().__init__()
        self.conv1 = GATv2Conv(in_dim, hidden, heads=heads, concat=False)
        self.conv2 = GATv2Conv(hidden, out_dim, heads=1)

    def reset_parameters(self) -> None:
        self.conv1.reset_parameters()
        self.conv2.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, pos: Tensor | None = None) -> Tensor:
        return self.conv2(self.conv1(x, edge_index).relu(), edge_index)
