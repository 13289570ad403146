"""SAT: the Structure-Aware Transformer (Chen, O'Bray & Borgwardt, ICML 2022) with a k-hop subgraph extractor.

Self-attention whose queries and keys see each node's local structure, values its plain state::

    S_k      = k-hop subgraph of node k in the proximity graph G_prox          (structure extractor input)
    phi_k    = mean_{v in S_k} GNN(h)_v                                       (k-subgraph SAT, mean readout)
    a_kj     = softmax_j( W_q (h_k + phi_k) . W_k (h_j + phi_j) / sqrt(d) ),   h'_k = h_k + W_o sum_j a_kj W_v h_j

followed by a residual feed-forward block (pre-layer-norm, like :mod:`.graphormer`). Attention runs over the given
edges (a window's complete graph: every pair). The structure comes from ``G_prox``: each agent's ``neighbours``
nearest senders among its given edges (by pitch distance), made undirected. On the complete graph every k-hop
subgraph would be the whole window, so the proximity graph is what makes "structure" informative: a player's
subgraph is the cluster of players around him.

The GNN (one mean-SAGE layer) runs on the whole proximity graph and its outputs are pooled over each ``S_k``; nodes
on the border of ``S_k`` therefore also see their neighbours just outside it (a cheap, vectorised stand-in for
running the GNN on every extracted subgraph separately). ``S_k`` itself is exact: :func:`k_hop_members` gives the
same node sets as ``torch_geometric.utils.k_hop_subgraph`` (tested), computed for all roots at once by sparse
boolean matrix powers ``(A + I)^hops``.

Positions: ``pos`` (``[M, 2]`` metres) or the first two input columns as soccerai node features (see
:func:`soccerai.models.encoders.graphormer.node_positions`). Permutation-equivariant when no two candidate
neighbours are at exactly the same distance.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor, nn
from torch_geometric.nn import SAGEConv
from torch_geometric.utils import remove_self_loops, to_undirected

from soccerai.errors import InvalidParameterError
from soccerai.models.encoders.graphormer import EdgeAttention, n_heads_for, node_positions, with_self_loops


def nearest_neighbour_edges(edge_index: Tensor, positions: Tensor, neighbours: int) -> Tensor:
    """The subset of ``edge_index`` where each receiver keeps its ``neighbours`` nearest senders."""
    edges, _ = remove_self_loops(edge_index)
    if edges.numel() == 0:
        return edges
    source, target = edges
    distance = (positions[source] - positions[target]).norm(dim=-1).detach()
    order = torch.argsort(distance, stable=True)
    order = order[torch.argsort(target[order], stable=True)]  # grouped by receiver, nearest first
    sorted_target = target[order].contiguous()
    rank = torch.arange(order.numel(), device=edges.device) - torch.searchsorted(sorted_target, sorted_target)
    return edges[:, order[rank < neighbours]]


def k_hop_members(edge_index: Tensor, n_nodes: int, hops: int) -> tuple[Tensor, Tensor]:
    """``(root, member)`` pairs: ``member`` lies within ``hops`` undirected hops of ``root`` (itself included)."""
    device = edge_index.device
    undirected = to_undirected(edge_index, num_nodes=n_nodes)
    loops = torch.arange(n_nodes, device=device)
    index = torch.cat([undirected, torch.stack([loops, loops])], dim=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse ... in beta state"
        step = _sparse_ones(index, n_nodes)
        reach = _sparse_ones(torch.stack([loops, loops]), n_nodes)
        for _ in range(hops):
            reach = torch.sparse.mm(reach, step).coalesce()
    root, member = reach.indices()
    return root, member


def _sparse_ones(index: Tensor, n_nodes: int) -> Tensor:
    values = torch.ones(index.shape[1], device=index.device)
    return torch.sparse_coo_tensor(index, values, (n_nodes, n_nodes), check_invariants=False).coalesce()


class StructureExtractor(nn.Module):
    """``phi_k = mean_{v in S_k} SAGE(h)_v`` over the precomputed k-hop memberships."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.gnn = SAGEConv(hidden, hidden, aggr="mean")

    def forward(self, h: Tensor, proximity: Tensor, members: tuple[Tensor, Tensor]) -> Tensor:
        local = self.gnn(h, proximity).relu()
        root, member = members
        pooled = torch.zeros_like(local).index_add_(0, root, local[member])
        count = torch.zeros(h.shape[0], device=h.device).index_add_(0, root, torch.ones_like(root, dtype=h.dtype))
        return pooled / count.clamp_min(1.0).unsqueeze(-1)


class SATLayer(nn.Module):
    """Structure-aware attention (queries / keys from ``h + phi``) then a feed-forward block, both residual."""

    def __init__(self, hidden: int, heads: int) -> None:
        super().__init__()
        self.norm_attention, self.norm_ffn = nn.LayerNorm(hidden), nn.LayerNorm(hidden)
        self.extractor = StructureExtractor(hidden)
        self.attention = EdgeAttention(hidden, heads)
        self.ffn = nn.Sequential(nn.Linear(hidden, 2 * hidden), nn.GELU(), nn.Linear(2 * hidden, hidden))

    def forward(self, h: Tensor, edges: Tensor, proximity: Tensor, members: tuple[Tensor, Tensor]) -> Tensor:
        normed = self.norm_attention(h)
        structure_aware = normed + self.extractor(normed, proximity, members)
        h = h + self.attention(structure_aware, structure_aware, normed, edges)
        return h + self.ffn(self.norm_ffn(h))


class SATEncoder(nn.Module):
    """``forward(x [M, in_dim], edge_index [2, E], pos [M, 2] | None) -> [M, out_dim]`` (see module docstring)."""

    uses_positions = True

    def __init__(
        self,
        in_dim: int,
        hidden: int,
        out_dim: int,
        aggregation: str = "sum",
        layers: int = 1,
        heads: int = 4,
        hops: int = 2,
        neighbours: int = 3,
    ) -> None:
        super().__init__()
        if hops < 1 or neighbours < 1:
            raise InvalidParameterError(f"SAT needs hops >= 1 and neighbours >= 1, got {hops}, {neighbours}")
        self.hops, self.neighbours = hops, neighbours
        heads = n_heads_for(hidden, heads)
        self.input = nn.Linear(in_dim, hidden)
        self.layers = nn.ModuleList(SATLayer(hidden, heads) for _ in range(layers))
        self.norm = nn.LayerNorm(hidden)
        self.output = nn.Linear(hidden, out_dim)

    def forward(self, x: Tensor, edge_index: Tensor, pos: Tensor | None = None) -> Tensor:
        m = x.shape[0]
        proximity = nearest_neighbour_edges(edge_index, node_positions(x, pos), self.neighbours)
        proximity = to_undirected(proximity, num_nodes=m)
        members = k_hop_members(proximity, m, self.hops)
        edges = with_self_loops(edge_index, m)
        h = self.input(x)
        for layer in self.layers:
            h = layer(h, edges, proximity, members)
        return self.output(self.norm(h))
