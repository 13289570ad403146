"""The complete directed graph over the present agents of each scene, kept dense (no edge list).

``present [G, N]`` stands for every edge ``j -> k`` with ``j != k`` both present: what
:func:`soccerai.models.graph.complete_edges` lists one by one, and the default graph of every window. Encoders with
``supports_dense = True`` (the MPNN block, GCN, GraphSAGE) take a :class:`CompleteGraph` in place of ``edge_index``
and compute the same sums with dense ``[G, N, N]`` operators; for the others :meth:`CompleteGraph.edge_index` gives
the explicit edges.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import torch
from torch import Tensor

from soccerai.models.graph import complete_edges


@dataclass(frozen=True)
class CompleteGraph:
    """The complete graph of the present agents of ``G`` scenes (module docstring)."""

    present: Tensor
    operators: dict[str, Tensor] = field(default_factory=dict, compare=False, repr=False)
    """Dense operators derived from ``present`` by the encoders, kept for the graph's lifetime (one per name)."""

    @cached_property
    def in_degree(self) -> Tensor:
        """``deg(k) = p_k (sum_j p_j - 1)`` as ``[G N, 1]`` floats (computed once per graph)."""
        present = self.present.to(torch.get_default_dtype())
        return ((present.sum(dim=1, keepdim=True) - 1.0) * present).reshape(-1, 1)

    def adjacency(self) -> Tensor:
        """``A [G, N, N]`` with ``A[g, k, j] = 1`` for an edge ``j -> k``."""
        n = self.present.shape[1]
        eye = torch.eye(n, dtype=torch.bool, device=self.present.device)
        return self.present[:, :, None] & self.present[:, None, :] & ~eye

    def mean_operator(self, dtype: torch.dtype) -> Tensor:
        """``A / deg`` ``[G, N, N]``: ``(A X)_k / max(deg(k), 1)`` is the mean over the neighbours ``j -> k``
        (0 for an agent without any), torch_geometric's ``aggr="mean"`` over the same edges."""
        return self._cached("mean", dtype, lambda a: a / a.sum(-1, keepdim=True).clamp_min(1.0))

    def gcn_operator(self, dtype: torch.dtype) -> Tensor:
        """``D^-1/2 (A + I) D^-1/2`` ``[G, N, N]`` with ``D = diag(deg + 1)``: the normalised propagation of
        :class:`torch_geometric.nn.GCNConv` (a self loop added to every node, absent ones included)."""

        def build(a: Tensor) -> Tensor:
            looped = a + torch.eye(a.shape[-1], dtype=a.dtype, device=a.device)
            scale = looped.sum(-1).rsqrt()
            return looped * scale[:, :, None] * scale[:, None, :]

        return self._cached("gcn", dtype, build)

    def _cached(self, name: str, dtype: torch.dtype, build: Callable[[Tensor], Tensor]) -> Tensor:
        key = f"{name}:{dtype}"
        if key not in self.operators:
            self.operators[key] = build(self.adjacency().to(dtype))
        return self.operators[key]

    def edge_index(self) -> Tensor:
        return complete_edges(self.present)


def is_complete_graph(edge_index: Tensor, present: Tensor) -> bool:
    """True when ``edge_index`` (no self-loops or duplicates, present nodes only, as :mod:`soccerai.models.graph` makes
    them) has every ``j -> k`` edge among the present agents: then it has exactly ``sum_g p_g (p_g - 1)`` edges."""
    counts = present.sum(dim=1)
    return int(edge_index.shape[1]) == int((counts * (counts - 1)).sum())
