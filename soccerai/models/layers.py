"""Building blocks: MLPs, diagonal Gaussians, and the interaction encoders shared across agents.

An *interaction encoder* maps per-agent inputs ``x [M, F]`` (``M`` = agents of all graphs in a batch, flattened)
and edges ``[2, E]`` to per-agent outputs ``[M, out]``. Every encoder uses the same call
``encoder(x, edge_index)`` (the torch_geometric convention), so a generator picks one by name from
``INTERACTION_ENCODERS`` (``encoder="mpnn"`` in a config) and others (GCN, GAT, ...) can be registered later.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import ClassVar

import torch
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing

from soccerai.errors import InvalidParameterError
from soccerai.models.complete_graph import CompleteGraph
from soccerai.models.encoders import ENCODERS
from soccerai.models.relu_pool import masked_relu_pool

LOG_STD_MIN, LOG_STD_MAX = -6.0, 3.0


def mlp(in_dim: int, hidden: int, out_dim: int, layers: int = 2) -> nn.Sequential:
    """``layers`` linear layers with ReLU between them (none after the last)."""
    dims = [in_dim] + [hidden] * (layers - 1) + [out_dim]
    modules: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
        modules.append(nn.Linear(a, b))
        if i < len(dims) - 2:
            modules.append(nn.ReLU())
    return nn.Sequential(*modules)


def split_gaussian(params: Tensor) -> tuple[Tensor, Tensor]:
    """Split ``[..., 2D]`` into mean and log standard deviation (clamped to ``[-6, 3]``) of a diagonal Gaussian."""
    mean, log_std = params.chunk(2, dim=-1)
    return mean, log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)


def gaussian_nll(target: Tensor, mean: Tensor, log_std: Tensor) -> Tensor:
    """Negative log-likelihood summed over the last axis.

    ``-log N(y; mu, sigma^2) = sum_d [ log sigma_d + (y_d - mu_d)^2 / (2 sigma_d^2) + log(2 pi) / 2 ]``.
    """
    z = (target - mean) * torch.exp(-log_std)
    return (log_std + 0.5 * z.pow(2) + 0.5 * math.log(2 * math.pi)).sum(-1)


def gaussian_kl(mean_q: Tensor, log_std_q: Tensor, mean_p: Tensor, log_std_p: Tensor) -> Tensor:
    """``KL(q || p)`` of diagonal Gaussians summed over the last axis.

    ``KL = sum_d [ log(sigma_p / sigma_q) + (sigma_q^2 + (mu_q - mu_p)^2) / (2 sigma_p^2) - 1/2 ]``.
    """
    var_ratio = torch.exp(2 * (log_std_q - log_std_p))
    mean_term = (mean_q - mean_p).pow(2) * torch.exp(-2 * log_std_p)
    return (log_std_p - log_std_q + 0.5 * (var_ratio + mean_term) - 0.5).sum(-1)


class MPNNBlock(MessagePassing):
    r"""One round of message passing, as in Yeh et al. (CVPR 2019):

    .. math::
        e_{kj} = f_e([v_k, v_j]), \qquad o_k = f_v\Big(\sum_{j \in \mathcal{N}(k)} e_{kj}\Big)

    ``f_e`` and ``f_v`` are MLPs shared by every agent and edge, so the block is permutation-equivariant: permuting
    the agents (and relabelling the edges accordingly) permutes the outputs the same way. An agent with no
    incoming edge receives ``f_v(0)``; its own features still reach ``o_k`` through every ``e_{kj}``.
    ``aggregation="mean"`` replaces the sum by the mean over neighbours (still equivariant; scale-free in degree).

    Computed exactly but cheaply: with ``f_e(u) = W_2 \mathrm{ReLU}(W_1 u + b_1) + b_2`` and
    ``W_1 [v_k, v_j] = W_r v_k + W_s v_j``, the products ``W_r v`` and ``W_s v`` are taken once per node, each edge
    only adds and rectifies, and the linear ``W_2`` moves outside the sum:
    ``\sum_j e_{kj} = W_2 \sum_j \mathrm{ReLU}(W_r v_k + W_s v_j + b_1) + \deg(k)\, b_2``.

    Given a :class:`CompleteGraph` instead of ``edge_index``, the same sum is taken densely: with
    ``r = W_r v + b_1`` and ``s = W_s v`` as ``[G, N, H]`` tensors, ``pooled_k = sum_j A_kj ReLU(r_k + s_j)`` with
    the adjacency ``A [G, N, N]`` of the present agents, by :func:`soccerai.models.relu_pool.masked_relu_pool` (one
    fused loop on a CPU; no gather / scatter over an edge list, no ``[G, N, N, H]`` tensor; the same numbers).
    """

    supports_dense: ClassVar[bool] = True

    def __init__(self, in_dim: int, hidden: int, out_dim: int, aggregation: str = "sum") -> None:
        if aggregation not in ("sum", "mean"):
            raise InvalidParameterError(f"MPNN aggregation must be sum or mean, got {aggregation!r}")
        super().__init__(aggr=aggregation)
        self.in_dim = in_dim
        self.edge_mlp = mlp(2 * in_dim, hidden, hidden)
        self.node_mlp = mlp(hidden, hidden, out_dim)

    def reset_parameters(self) -> None:
        for layer in [*self.edge_mlp, *self.node_mlp]:
            if isinstance(layer, nn.Linear):
                layer.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor | CompleteGraph) -> Tensor:
        weight, bias = self.input_projection()
        return self.forward_projected(torch.addmm(bias, x, weight.T), edge_index)

    def input_projection(self) -> tuple[Tensor, Tensor]:
        """``(W [2H, in], b [2H])`` with ``[r, s] = W v + b``: receiver ``r = W_r v + b_1`` and sender ``s = W_s v``.

        The first thing the block does to its input is this linear map, so a caller whose input is a concatenation
        ``v = [a, h]`` may project each part on its own (``W[:, :|a|] a + W[:, |a|:] h + b``, e.g. ``h`` for
        several networks in one product) and hand the sum to :meth:`forward_projected`.
        """
        first = self.edge_mlp[0]
        weight = torch.cat([first.weight[:, : self.in_dim], first.weight[:, self.in_dim :]], dim=0)
        return weight, torch.cat([first.bias, torch.zeros_like(first.bias)])

    def node_head(self) -> tuple[Tensor, Tensor, Tensor]:
        """``(W_v1 W_2, b_v1, W_v1 b_2)``: ``f_v``'s first layer after ``W_2`` as one linear map of the pooled
        ``sum_j ReLU(.)`` (nothing lies between them), ``W_v1 (W_2 P + deg b_2) + b_v1``. A caller running the
        block many times with the same weights takes it once and passes it to :meth:`forward_projected`."""
        first_node, second = self.node_mlp[0], self.edge_mlp[2]
        return first_node.weight @ second.weight, first_node.bias, first_node.weight @ second.bias

    def node_bias(
        self, edge_index: Tensor | CompleteGraph, n_nodes: int, head: tuple[Tensor, Tensor, Tensor] | None = None
    ) -> Tensor:
        """``b_v1 + w_k W_v1 b_2`` ``[M, H]``: the part of :meth:`node_head` that depends on the graph only
        (``w_k = deg(k)`` for the sum, ``[deg(k) > 0]`` for the mean); constant while the graph is."""
        _, node_bias, edge_bias = self.node_head() if head is None else head
        dtype, device = edge_bias.dtype, edge_bias.device
        if isinstance(edge_index, CompleteGraph):
            in_degree = edge_index.in_degree.to(dtype)
        else:
            in_degree = torch.zeros(n_nodes, 1, dtype=dtype, device=device)
            in_degree.index_add_(0, edge_index[1], torch.ones(edge_index.shape[1], 1, dtype=dtype, device=device))
        weight = in_degree if self.aggr == "sum" else (in_degree > 0).to(dtype)
        return torch.addmm(node_bias, weight, edge_bias.unsqueeze(0))

    def forward_projected(
        self,
        projected: Tensor,
        edge_index: Tensor | CompleteGraph,
        head: tuple[Tensor, Tensor, Tensor] | None = None,
        bias: Tensor | None = None,
    ) -> Tensor:
        """The block from its projected input ``[r, s]`` ``[M, 2H]`` (see :meth:`input_projection`); ``head`` is
        :meth:`node_head` and ``bias`` :meth:`node_bias` when already taken."""
        if isinstance(edge_index, CompleteGraph):
            pooled = self._dense_pool(projected, edge_index)
        else:
            receiver, sender = projected.chunk(2, dim=-1)
            pooled = self.propagate(edge_index, receiver=receiver, sender=sender)
        head = self.node_head() if head is None else head
        bias = self.node_bias(edge_index, projected.shape[0], head) if bias is None else bias
        return self.node_mlp[1:](torch.addmm(bias, pooled, head[0].T))

    def _dense_pool(self, projected: Tensor, graph: CompleteGraph) -> Tensor:
        """``pooled [M, H]`` over a complete graph (:func:`.masked_relu_pool`: every present
        ``j != k``; absent receivers get 0)."""
        g, n = graph.present.shape
        pooled = masked_relu_pool(projected.reshape(g, n, -1), graph.present)
        if self.aggr == "mean":
            pooled = pooled / graph.in_degree.to(projected.dtype).view(g, n, 1).clamp_min(1.0)
        return pooled.reshape(g * n, -1)

    def message(self, receiver_i: Tensor, sender_j: Tensor) -> Tensor:  # i: receiver k, j: sender
        return torch.relu(receiver_i + sender_j)


class PerAgentBlock(nn.Module):
    """No interaction: the same MLP applied to each agent alone (the "VRNN without graph" ablation)."""

    def __init__(self, in_dim: int, hidden: int, out_dim: int, aggregation: str = "sum") -> None:
        super().__init__()
        self.net = mlp(in_dim, hidden, out_dim)

    def forward(self, x: Tensor, edge_index: Tensor | None = None) -> Tensor:
        return self.net(x)

    def input_projection(self) -> tuple[Tensor, Tensor]:
        """``(W, b)`` of the first linear layer (see :meth:`MPNNBlock.input_projection`)."""
        return self.net[0].weight, self.net[0].bias

    def forward_projected(
        self, projected: Tensor, edge_index: Tensor | None = None, head: None = None, bias: None = None
    ) -> Tensor:
        """The MLP after its first linear layer, from ``W x + b`` (``head``: the calling convention of MPNN)."""
        return self.net[1:](projected)


InteractionEncoder = Callable[[int, int, int, str], nn.Module]
INTERACTION_ENCODERS: dict[str, InteractionEncoder] = {"mpnn": MPNNBlock, "none": PerAgentBlock, **ENCODERS}


def build_encoder(name: str, in_dim: int, hidden: int, out_dim: int, aggregation: str = "sum") -> nn.Module:
    """The interaction encoder registered as ``name``, mapping ``[M, in_dim] -> [M, out_dim]``.

    Every encoder takes ``(in_dim, hidden, out_dim, aggregation)``; those without neighbours ignore ``aggregation``.
    The registry is ``INTERACTION_ENCODERS``: MPNN, the per-agent block and ``soccerai.models.encoders.ENCODERS``.
    """
    if name not in INTERACTION_ENCODERS:
        raise InvalidParameterError(
            f"unknown interaction encoder {name!r}; choose one of {', '.join(sorted(INTERACTION_ENCODERS))}"
        )
    return INTERACTION_ENCODERS[name](in_dim, hidden, out_dim, aggregation)
