r"""The masked ReLU pool of dense message passing: every message of a complete graph, never held in memory.

For ``G`` scenes of ``N`` agent slots with presence ``p [G, N]`` and per-agent receiver / sender parts
``r, s [G, N, H]`` (``[r, s]`` is one ``[G, N, 2H]`` tensor, the output of a linear layer)::

    pooled[g, k] = p[g, k] * sum_{j != k, p[g, j]} ReLU(r[g, k] + s[g, j])                   [G, N, H]

    dL/dr[g, k] = grad[g, k] * c[g, k],   c[g, k] = p[g, k] * #{j != k, p[g, j] : r[g, k] + s[g, j] > 0}
    dL/ds[g, j] = p[g, j] * sum_{k != j, p[g, k]} grad[g, k] * [r[g, k] + s[g, j] > 0]

That is the sum over the edges ``j -> k`` of the complete graph of present agents (what
:class:`soccerai.models.layers.MPNNBlock` needs). Two engines give the same numbers:

* ``numba`` (CPU, the default there): one fused loop over ``(g, k, j, h)`` that keeps nothing but the sums and the
  counts ``c`` (saved for the backward pass), vectorised over ``h``; the backward pass is a second fused loop.
  Compiled on first use and cached on disk (``cache=True``).
* ``torch`` (GPU, or where numba is missing): the ``[g, N, N, H]`` messages of a few graphs at a time
  (``POOL_CHUNK_ELEMENTS``; all graphs at once on a GPU, where launches, not cache, cost), absent senders as
  ``-inf`` (their ReLU is exactly 0), the self pair subtracted; the backward pass recomputes the message signs.

``r + s > 0`` is decided on the same rounded sum in both, so they select the same messages; only the order of the
floating-point sum differs.
"""

from __future__ import annotations

import torch
from torch import Tensor

try:  # the fast CPU engine; without numba the torch engine runs everywhere
    import numba
    import numpy as np
except ImportError:  # pragma: no cover - numba is a dependency; kept importable for minimal installs
    numba = None

POOL_CHUNK_ELEMENTS = 1 << 20
"""Messages held at once by the torch engine (``2^20`` floats = 4 MiB: within a CPU's cache, and few enough chunks
that per-operation overhead stays small; of 2^18, 2^20 and 2^22, 2^20 took the least CPU for GVRNN)."""

ENGINES = ("numba", "torch")


def masked_relu_pool(projected: Tensor, present: Tensor, engine: str | None = None) -> Tensor:
    """``pooled [G, N, H]`` from ``projected = [r, s]`` ``[G, N, 2H]`` and ``present [G, N]`` (module docstring).

    ``engine``: ``"numba"``, ``"torch"`` or None (numba for CPU tensors when it is installed, else torch).
    Differentiable in ``projected``.
    """
    engine = engine or default_engine(projected)
    if engine == "numba":
        if default_engine(projected) != "numba":
            raise RuntimeError("the numba ReLU pool needs numba and float32 / float64 CPU tensors")
        return _NumbaReluPool.apply(projected, present)
    if engine != "torch":
        raise ValueError(f"unknown ReLU pool engine {engine!r}; choose one of {', '.join(ENGINES)}")
    return _torch_pool(projected, present)


def default_engine(tensor: Tensor) -> str:
    """``numba`` for float32 / float64 CPU tensors when numba is importable, ``torch`` otherwise (GPU, or the
    half-precision tensors of mixed-precision training, which numpy cannot hold)."""
    numba_ok = numba is not None and tensor.device.type == "cpu" and tensor.dtype in (torch.float32, torch.float64)
    return "numba" if numba_ok else "torch"


# -- torch engine ----------------------------------------------------------------------------------------------
def _torch_pool(projected: Tensor, present: Tensor) -> Tensor:
    receiver, sender = projected.chunk(2, dim=-1)
    mask = present.unsqueeze(-1)
    sender = sender.masked_fill(~mask, float("-inf"))
    return (_DenseReluPool.apply(receiver, sender) - torch.relu(receiver + sender)) * mask


def _pool_chunks(receiver: Tensor) -> tuple[range, int]:
    """Graph starts and graphs per chunk: cache-sized on a CPU, all at once on a GPU (launches cost more there)."""
    g, n, h = receiver.shape
    step = max(1, g) if receiver.is_cuda else max(1, POOL_CHUNK_ELEMENTS // max(1, n * n * h))
    return range(0, g, step), step


class _DenseReluPool(torch.autograd.Function):
    """``sum_j ReLU(r_k + s_j)`` over all ``j`` (self pair and ``-inf`` senders included), chunked, recomputing."""

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


# -- numba engine ----------------------------------------------------------------------------------------------
if numba is not None:

    @numba.njit(cache=True, boundscheck=False, nogil=True)
    def _pool_forward(projected: np.ndarray, present: np.ndarray, out: np.ndarray, count: np.ndarray) -> None:
        """``out`` = the pooled sums, ``count`` = the active messages per ``(g, k, h)``; both written in full."""
        g_len, n, two_h = projected.shape
        h_len = two_h // 2
        zero, one = projected.dtype.type(0.0), projected.dtype.type(1.0)
        for g in range(g_len):
            for k in range(n):
                acc, cnt = out[g, k], count[g, k]
                acc[:] = zero
                cnt[:] = zero
                if not present[g, k]:
                    continue
                receiver = projected[g, k, :h_len]
                for j in range(n):
                    if j == k or not present[g, j]:
                        continue
                    sender = projected[g, j, h_len:]
                    for h in range(h_len):
                        v = receiver[h] + sender[h]
                        acc[h] += max(v, zero)
                        cnt[h] += one if v > zero else zero

    @numba.njit(cache=True, boundscheck=False, nogil=True)
    def _pool_values(projected: np.ndarray, present: np.ndarray, out: np.ndarray) -> None:
        """``out`` = the pooled sums alone (no gradient needed)."""
        g_len, n, two_h = projected.shape
        h_len = two_h // 2
        zero = projected.dtype.type(0.0)
        for g in range(g_len):
            for k in range(n):
                acc = out[g, k]
                acc[:] = zero
                if not present[g, k]:
                    continue
                receiver = projected[g, k, :h_len]
                for j in range(n):
                    if j == k or not present[g, j]:
                        continue
                    sender = projected[g, j, h_len:]
                    for h in range(h_len):
                        acc[h] += max(receiver[h] + sender[h], zero)

    @numba.njit(cache=True, boundscheck=False, nogil=True)
    def _pool_backward(
        projected: np.ndarray, present: np.ndarray, count: np.ndarray, grad: np.ndarray, out: np.ndarray
    ) -> None:
        """``out = [grad * count, dL/ds]`` ``[G, N, 2H]`` (module docstring)."""
        g_len, n, two_h = projected.shape
        h_len = two_h // 2
        zero = projected.dtype.type(0.0)
        for g in range(g_len):
            for j in range(n):
                grad_receiver, grad_sender = out[g, j, :h_len], out[g, j, h_len:]
                for h in range(h_len):
                    grad_receiver[h] = grad[g, j, h] * count[g, j, h]
                grad_sender[:] = zero
                if not present[g, j]:
                    continue
                sender = projected[g, j, h_len:]
                for k in range(n):
                    if k == j or not present[g, k]:
                        continue
                    receiver, grad_k = projected[g, k, :h_len], grad[g, k]
                    for h in range(h_len):
                        grad_sender[h] += grad_k[h] if receiver[h] + sender[h] > zero else zero


class _NumbaReluPool(torch.autograd.Function):
    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, projected: Tensor, present: Tensor) -> Tensor:
        projected = projected.detach().contiguous()
        present = present.contiguous()
        g, n, two_h = projected.shape
        out = projected.new_empty(g, n, two_h // 2)
        if not ctx.needs_input_grad[0]:  # sampling: no counts to keep
            _pool_values(projected.numpy(), present.numpy(), out.numpy())
            return out
        count = torch.empty_like(out)
        _pool_forward(projected.numpy(), present.numpy(), out.numpy(), count.numpy())
        ctx.save_for_backward(projected, present, count)
        return out

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: Tensor) -> tuple[Tensor, None]:
        projected, present, count = ctx.saved_tensors
        grad = grad.contiguous()
        out = torch.empty_like(projected)
        _pool_backward(projected.numpy(), present.numpy(), count.numpy(), grad.numpy(), out.numpy())
        return out, None
