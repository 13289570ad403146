"""Graphormer interaction encoder (Ying et al., NeurIPS 2021), written for torch_geometric edge lists.

Per layer, with pre-layer-norm, for receiver ``k`` and senders ``j in N(k) + {k}``::

    h^(0)_k = W_in x_k + z_deg(k)                               centrality encoding (in-degree embedding)
    s_kj    = (W_q h_k) . (W_k h_j) / sqrt(d) + b_head(phi(k, j))  spatial encoding as an attention bias
    a_kj    = softmax_j s_kj,     h'_k = h_k + W_o sum_j a_kj W_v h_j,     h''_k = h'_k + FFN(LN(h'_k))

``phi(k, j)`` is the bucket of the pairwise distance ``|p_k - p_j|`` (metres; boundaries ``DISTANCE_BUCKETS``)
with a bucket of its own for ``j = k``. Graphormer's shortest-path distance is the same on the complete player
graph for every pair, so the Euclidean distance on the pitch is the informative spatial relation here.
Attention runs over the given edges (the complete graph of a window gives Graphormer's dense attention; edges never
join different windows, so windows stay independent).

Positions: the ``pos`` argument (``[M, 2]`` metres) when given; otherwise the first two input columns read as
soccerai node features (``x / 52.5, y / 34``, see :mod:`soccerai.graph`) and scaled back to metres. Inside a network
whose inputs are not positions (e.g. a VRNN prior over hidden states) the bias is then a learned function of a
feature distance. Permutation-equivariant (all functions are shared, the softmax is over a set).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch_geometric.utils import add_self_loops, degree, remove_self_loops, softmax

from soccerai.graph import POSITION_SCALE

DISTANCE_BUCKETS = (1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 45.0)
MAX_DEGREE = 32


def node_positions(x: Tensor, pos: Tensor | None) -> Tensor:
    """``pos`` if given, else the first two columns of ``x`` as node features scaled back to metres."""
    if pos is not None:
        return pos
    return x[:, :2] * POSITION_SCALE.to(x)


def n_heads_for(hidden: int, wanted: int = 4) -> int:
    """The largest head count ``<= wanted`` dividing ``hidden``."""
    return max(h for h in range(1, wanted + 1) if hidden % h == 0)


def with_self_loops(edge_index: Tensor, n_nodes: int) -> Tensor:
    edges, _ = remove_self_loops(edge_index)
    edges, _ = add_self_loops(edges, num_nodes=n_nodes)
    return edges


class EdgeAttention(nn.Module):
    """Multi-head attention restricted to edges ``j -> k`` (softmax per receiver), with an optional additive bias.

    ``query_input`` / ``key_input`` feed ``W_q`` / ``W_k`` and ``value_input`` feeds ``W_v`` (SAT uses structure-aware
    queries and keys with plain values). ``bias`` is ``[E, heads]``.
    """

    def __init__(self, hidden: int, heads: int) -> None:
        super().__init__()
        self.heads, self.head_dim = heads, hidden // heads
        self.query, self.key, self.value = (nn.Linear(hidden, hidden) for _ in range(3))
        self.out = nn.Linear(hidden, hidden)

    def forward(
        self, query_input: Tensor, key_input: Tensor, value_input: Tensor, edges: Tensor, bias: Tensor | None = None
    ) -> Tensor:
        source, target = edges
        m = query_input.shape[0]
        q = self.query(query_input).view(m, self.heads, self.head_dim)
        k = self.key(key_input).view(m, self.heads, self.head_dim)
        v = self.value(value_input).view(m, self.heads, self.head_dim)
        scores = (q[target] * k[source]).sum(-1) / math.sqrt(self.head_dim)  # [E, heads]
        if bias is not None:
            scores = scores + bias
        weights = softmax(scores, target, num_nodes=m)
        messages = weights.unsqueeze(-1) * v[source]
        out = torch.zeros_like(v).index_add_(0, target, messages)
        return self.out(out.reshape(m, -1))


class GraphormerLayer(nn.Module):
    """One pre-LN Graphormer block: biased edge attention then a feed-forward network, both residual."""

    def __init__(self, hidden: int, heads: int) -> None:
        super().__init__()
        self.norm_attention, self.norm_ffn = nn.LayerNorm(hidden), nn.LayerNorm(hidden)
        self.attention = EdgeAttention(hidden, heads)
        self.ffn = nn.Sequential(nn.Linear(hidden, 2 * hidden), nn.GELU(), nn.Linear(2 * hidden, hidden))

    def forward(self, h: Tensor, edges: Tensor, bias: Tensor) -> Tensor:
        normed = self.norm_attention(h)
        h = h + self.attention(normed, normed, normed, edges, bias)
        return h + self.ffn(self.norm_ffn(h))


class GraphormerEncoder(nn.Module):
    """``forward(x [M, in_dim], edge_index [2, E], pos [M, 2] | None) -> [M, out_dim]`` (see module docstring)."""

    uses_positions = True

    def __init__(
        self, in_dim: int, hidden: int, out_dim: int, aggregation: str = "sum", layers: int = 1, heads: int = 4
    ) -> None:
        super().__init__()
        self.heads = n_heads_for(hidden, heads)
        self.register_buffer("boundaries", torch.tensor(DISTANCE_BUCKETS), persistent=False)
        self.self_bucket = len(DISTANCE_BUCKETS) + 1
        self.input = nn.Linear(in_dim, hidden)
        self.centrality = nn.Embedding(MAX_DEGREE + 1, hidden)
        self.spatial_bias = nn.ModuleList(nn.Embedding(self.self_bucket + 1, self.heads) for _ in range(layers))
        self.layers = nn.ModuleList(GraphormerLayer(hidden, self.heads) for _ in range(layers))
        self.norm = nn.LayerNorm(hidden)
        self.output = nn.Linear(hidden, out_dim)

    def distance_buckets(self, positions: Tensor, edges: Tensor) -> Tensor:
        """``phi`` per edge: the distance bucket, or ``self_bucket`` on self loops."""
        source, target = edges
        distance = (positions[source] - positions[target]).norm(dim=-1)
        buckets = torch.bucketize(distance.detach(), self.boundaries)
        return torch.where(source == target, torch.full_like(buckets, self.self_bucket), buckets)

    def forward(self, x: Tensor, edge_index: Tensor, pos: Tensor | None = None) -> Tensor:
        m = x.shape[0]
        edges = with_self_loops(edge_index, m)
        in_degree = degree(remove_self_loops(edge_index)[0][1], m).long().clamp_max(MAX_DEGREE)
        h = self.input(x) + self.centrality(in_degree)
        buckets = self.distance_buckets(node_positions(x, pos), edges)
        for layer, bias in zip(self.layers, self.spatial_bias, strict=True):
            h = layer(h, edges, bias(buckets))
        return self.output(self.norm(h))
