"""GraphSAGE interaction encoder: two SAGE convolutions (Hamilton, Ying & Leskovec 2017) from torch_geometric.

.. math::
    o_k = W_1 x_k + W_2 \\cdot \\mathrm{AGG}_{j \\in N(k)} x_j

with ``AGG`` the ``aggregation`` of the config (``sum`` or ``mean``), ReLU between the two layers. The root term
``W_1 x_k`` keeps an agent's own state separate from its neighbours'. Permutation-equivariant.
"""

from __future__ import annotations

from torch import Tensor, nn
from torch_geometric.nn import SAGEConv

from soccerai.errors import InvalidParameterError


class SAGEEncoder(nn.Module):
    """``forward(x [M, in_dim], edge_index [2, E]) -> [M, out_dim]``."""

    uses_positions = False

    def __init__(self, in_dim: int, hidden: int, out_dim: int, aggregation: str = "sum") -> None:
        super().__init__()
        if aggregation not in ("sum", "mean"):
            raise InvalidParameterError(f"SAGE aggregation must be sum or mean, got {aggregation!r}")
        self.conv1 = SAGEConv(in_dim, hidden, aggr=aggregation)
        self.conv2 = SAGEConv(hidden, out_dim, aggr=aggregation)

    def reset_parameters(self) -> None:
        self.conv1.reset_parameters()
        self.conv2.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, pos: Tensor | None = None) -> Tensor:
        return self.conv2(self.conv1(x, edge_index).relu(), edge_index)
