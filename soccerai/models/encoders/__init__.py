"""Interaction encoders, one per file, all called as ``encoder(x [M, in], edge_index [2, E]) -> [M, out]``.

Built as ``ENCODERS[name](in_dim, hidden, out_dim, aggregation)`` like ``soccerai.models.layers.MPNNBlock``.
Encoders with ``uses_positions = True`` (Graphormer, SAT) also accept ``pos [M, 2]`` in metres; without it they read
positions from the first two input columns (soccerai node-feature scaling). Every encoder is permutation-equivariant.
"""

from __future__ import annotations

from torch import nn

from soccerai.models.encoders.gat import GATEncoder
from soccerai.models.encoders.gcn import GCNEncoder
from soccerai.models.encoders.graphormer import GraphormerEncoder
from soccerai.models.encoders.sage import SAGEEncoder
from soccerai.models.encoders.sat import SATEncoder

ENCODERS: dict[str, type[nn.Module]] = {
    "gcn": GCNEncoder,
    "gat": GATEncoder,
    "sage": SAGEEncoder,
    "graphormer": GraphormerEncoder,
    "sat": SATEncoder,
}

__all__ = ["ENCODERS", "GATEncoder", "GCNEncoder", "GraphormerEncoder", "SAGEEncoder", "SATEncoder"]
