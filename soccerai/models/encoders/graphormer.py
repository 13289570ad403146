"""Graphormer interaction encoder (Ying et al., NeurIPS 2021), written for torch_geometric edge lists.

Per layer, with pre-layer-norm, for receiver ``k`` and senders ``j in N(k) + {k}``::

    h^(0)_k = W_in x_k + z_c(k)                                 centrality encoding (relative in-degree embedding)
    s_kj    = (W_q h_k) . (W_k h_j) / sqrt(d) + b_head(phi(k, j))  spatial encoding as an attention bias
    a_kj    = softmax_j s_kj,     h'_k = h_k + W_o sum_j a_kj W_v h_j,     h''_k = h'_k + FFN(LN(h'_k))

``phi(k, j)`` is the bucket of the pairwise distance ``|p_k - p_j|`` (metres; boundaries ``DISTANCE_BUCKETS``)
with a bucket of its own for ``j = k``. Graphormer's shortest-path distance is the same on the complete player
graph for every pair, so the Euclidean distance on the pitch is the informative spatial relation here.
Centrality ``c(k) = round(10 deg(k) / max_{j in N(k) + {k}} deg(j))`` is the in-degree relative to the best
connected node of the neighbourhood, in 11 buckets. Graphormer embeds the raw degree, but on a complete player graph
that is just the number of present agents minus one: 22 in every simulated window, 20 on the real Last Row clips
(20 players + ball), whose embedding row was never trained and added a random vector of norm ~sqrt(hidden) to every node
(GVRNN[graphormer] went from 2.54 m on simulated windows to 10.93 m on the real clip). The relative degree is the
same (1) on any complete graph whatever the number of agents, and still ranks nodes of a k-NN or same-team graph. The
embedding starts at zero, so a bucket never seen in training adds nothing.

Attention runs over the given edges (the complete graph of a window gives Graphormer's dense attention; edges never
join different windows, so windows stay independent).

Positions: the ``pos`` argument (``[M, 2]`` metres) when given; otherwise the first two input columns read as
soccerai node features (``x / 52.5, y / 34``, see :mod:`soccerai.models.graph`) and scaled back to metres. Inside a network
whose inputs are not positions (e.g. a VRNN prior over hidden states) the bias is then a learned function of a
feature distance. Permutation-equivariant (all functions are shared, the softmax is over a set).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch_geometric.utils import add_self_loops, degree, remove_self_loops, softmax

from soccerai.models.graph import POSITION_SCALE

DISTANCE_BUCKETS = (1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 45.0)
CENTRALITY_BUCKETS = 10


def node_positions(x: Tensor, pos: Tensor | None) -> Tensor:
    """``pos`` if given, else the first two columns of ``x`` as node features scaled back to metres."""
    if pos is not None:
        return pos
    return x[:, :2] * POSITION_SCALE.to(x)


def n_heads_for(hidden: int, wanted: int = 4) -> int:
    """The largest head count ``<= wanted`` dividing ``hidden``."""
    return max(h for h in range(1, wanted + 1) if hidden % h == 0)


def relative_centrality(edge_index: Tensor, n_nodes: int, buckets: int = CENTRALITY_BUCKETS) -> Tensor:
    """``round(buckets * deg(k) / max_{j in N(k) + {k}} deg(j))`` per node (in-degree, self loops ignored).

    In ``[0, buckets]``; ``buckets`` for every node of a complete graph whatever its size, 0 for isolated nodes.
    """
    edges, _ = remove_self_loops(edge_index)
    source, target = edges
    in_degree = degree(target, n_nodes)
    best = in_degree.scatter_reduce(0, target, in_degree[source], reduce="amax", include_self=True)
    return torch.round(buckets * in_degree / best.clamp_min(1.0)).long()


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
        self.centrality = nn.Embedding(CENTRALITY_BUCKETS + 1, hidden)
        nn.init.zeros_(self.centrality.weight)
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
        h = self.input(x) + self.centrality(relative_centrality(edge_index, m))
        buckets = self.distance_buckets(node_positions(x, pos), edges)
        for layer, bias in zip(self.layers, self.spatial_bias, strict=True):
            h = layer(h, edges, bias(buckets))
        return self.output(self.norm(h))
