"""Building blocks: MLPs, diagonal Gaussians, and the interaction encoders shared across agents.

An *interaction encoder* maps per-agent inputs ``x [M, F]`` (``M`` = agents of all graphs in a batch, flattened)
and edges ``[2, E]`` to per-agent outputs ``[M, out]``. Every encoder uses the same call
``encoder(x, edge_index)`` (the torch_geometric convention), so a generator picks one by name from
``INTERACTION_ENCODERS`` (``encoder="mpnn"`` in a config) and others (GCN, GAT, ...) can be registered later.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing

from soccerai.errors import InvalidParameterError
from soccerai.models.encoders import ENCODERS

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


POOL_CHUNK_ELEMENTS = 1 << 20
"""Messages held at once by :func:`dense_relu_pool` (``2^20`` floats = 4 MiB: within a CPU's cache, and few enough
chunks that per-operation overhead stays small; of 2^18, 2^20 and 2^22, 2^20 took the least CPU for GVRNN)."""


def dense_relu_pool(receiver: Tensor, sender: Tensor) -> Tensor:
    """``pooled[g, k] = sum_j ReLU(receiver[g, k] + sender[g, j])`` for ``[G, N, H]`` inputs, ``[G, N, H]`` out.

    Differentiable, with the same numbers as ``(receiver[:, :, None] + sender[:, None]).relu().sum(2)`` but never
    holding all ``G N^2 H`` messages: graphs are taken a few at a time (``POOL_CHUNK_ELEMENTS`` messages), and the
    backward pass recomputes the message signs instead of keeping them, with the gradients
    ``dL/dr_k = g_k sum_j [r_k + s_j > 0]`` and ``dL/ds_j = sum_k g_k [r_k + s_j > 0]``.
    A ``-inf`` sender (an absent agent) sends exactly 0 and gets a zero gradient.
    """
    return _DenseReluPool.apply(receiver, sender)


def _pool_chunks(receiver: Tensor) -> tuple[range, int]:
    """Graph starts and graphs per chunk: cache-sized on a CPU, all at once on a GPU (launches cost more there)."""
    g, n, h = receiver.shape
    step = max(1, g) if receiver.is_cuda else max(1, POOL_CHUNK_ELEMENTS // max(1, n * n * h))
    return range(0, g, step), step


class _DenseReluPool(torch.autograd.Function):
    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, receiver: Tensor, sender: Tensor) -> Tensor:
        ctx.save_for_backward(receiver, sender)
        out = receiver.new_empty(receiver.shape)
        starts, step = _pool_chunks(receiver)
        for a in starts:
            messages = receiver[a : a + step].unsqueeze(2) + sender[a : a + step].unsqueeze(1)  # [g, k, j, H]
            torch.sum(messages.relu_(), dim=2, out=out[a : a + step])
        return out

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: Tensor) -> tuple[Tensor, Tensor]:
        receiver, sender = ctx.saved_tensors
        grad = grad.contiguous()
        grad_receiver, grad_sender = torch.empty_like(receiver), torch.empty_like(sender)
        starts, step = _pool_chunks(receiver)
        for a in starts:
            active = (receiver[a : a + step].unsqueeze(2) + sender[a : a + step].unsqueeze(1)).gt_(0.0)  # 1.0 / 0.0
            torch.mul(grad[a : a + step], active.sum(dim=2), out=grad_receiver[a : a + step])
            torch.sum(active.mul_(grad[a : a + step].unsqueeze(2)), dim=1, out=grad_sender[a : a + step])
        return grad_receiver, grad_sender


@dataclass(frozen=True)
class CompleteGraph:
    """The complete directed graph over the present agents of each of ``G`` scenes, kept dense.

    ``present [G, N]`` stands for the edges ``j -> k`` with ``j != k`` both present (what
    :func:`soccerai.graph.complete_edges` lists one by one). Encoders with ``supports_dense = True`` accept it in
    place of ``edge_index``; for the others :meth:`edge_index` gives the explicit edges.
    """

    present: Tensor

    def adjacency(self) -> Tensor:
        """``A [G, N, N]`` with ``A[g, k, j] = 1`` for an edge ``j -> k``."""
        n = self.present.shape[1]
        eye = torch.eye(n, dtype=torch.bool, device=self.present.device)
        return self.present[:, :, None] & self.present[:, None, :] & ~eye

    def edge_index(self) -> Tensor:
        from soccerai.graph import complete_edges

        return complete_edges(self.present)


def is_complete_graph(edge_index: Tensor, present: Tensor) -> bool:
    """True when ``edge_index`` (no self-loops or duplicates, present nodes only, as :mod:`soccerai.graph` makes
    them) has every ``j -> k`` edge among the present agents: then it has exactly ``sum_g p_g (p_g - 1)`` edges."""
    counts = present.sum(dim=1)
    return int(edge_index.shape[1]) == int((counts * (counts - 1)).sum())


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
    ``r = W_r v + b_1`` and ``s = W_s v`` as ``[G, N, H]`` tensors, one broadcast add gives every message
    ``ReLU(r_k + s_j)`` as ``[G, N, N, H]``, and ``pooled_k = sum_j A_kj ReLU(r_k + s_j)`` with the adjacency
    ``A [G, N, N]`` (no gather / scatter over an edge list; the same numbers).
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

    def forward_projected(self, projected: Tensor, edge_index: Tensor | CompleteGraph) -> Tensor:
        """The block from its projected input ``[r, s]`` ``[M, 2H]`` (see :meth:`input_projection`)."""
        second = self.edge_mlp[2]
        receiver, sender = projected.chunk(2, dim=-1)
        dtype, device = projected.dtype, projected.device
        if isinstance(edge_index, CompleteGraph):
            pooled, in_degree = self._dense_pool(receiver, sender, edge_index)
        else:
            pooled = self.propagate(edge_index, receiver=receiver, sender=sender)
            in_degree = torch.zeros(projected.shape[0], 1, dtype=dtype, device=device)
            ones = torch.ones(edge_index.shape[1], 1, dtype=dtype, device=device)
            in_degree.index_add_(0, edge_index[1], ones)
        bias_weight = in_degree if self.aggr == "sum" else (in_degree > 0).to(dtype)
        # f_v's first layer W_v1 follows W_2 with nothing between: one product W_v1 W_2 (the same linear map)
        first_node = self.node_mlp[0]
        weight = first_node.weight @ second.weight
        bias = torch.addmm(first_node.bias, bias_weight, (first_node.weight @ second.bias).unsqueeze(0))
        return self.node_mlp[1:](torch.addmm(bias, pooled, weight.T))

    def _dense_pool(self, receiver: Tensor, sender: Tensor, graph: CompleteGraph) -> tuple[Tensor, Tensor]:
        """``(pooled [M, H], in_degree [M, 1])`` over a complete graph (:func:`dense_relu_pool`).

        Absent senders get a ``-inf`` pre-activation, so their ReLU message is exactly 0; the sum over all present
        ``j`` then includes the self-pair ``j = k``, which is subtracted (``ReLU(r_k + s_k)``), and absent
        receivers are zeroed.
        """
        g, n = graph.present.shape
        present = graph.present.unsqueeze(-1)  # [G, N, 1]
        receiver = receiver.reshape(g, n, -1)
        sender = sender.reshape(g, n, -1).masked_fill(~present, float("-inf"))
        pooled = (dense_relu_pool(receiver, sender) - torch.relu(receiver + sender)) * present
        n_present = present.sum(dim=1, keepdim=True).to(receiver.dtype)  # [G, 1, 1]
        in_degree = ((n_present - 1.0) * present).reshape(g * n, 1)
        if self.aggr == "mean":
            pooled = pooled / in_degree.view(g, n, 1).clamp_min(1.0)
        return pooled.reshape(g * n, -1), in_degree

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

    def forward_projected(self, projected: Tensor, edge_index: Tensor | None = None) -> Tensor:
        """The MLP after its first linear layer, from ``W x + b``."""
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
