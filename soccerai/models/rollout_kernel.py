r"""The GVRNN sampling rollout as one compiled loop (numba, CPU): every step of every sample without a torch call.

A rollout step of :meth:`soccerai.models.vrnn.VRNN._rollout` is ~45 small torch operations on ``[S N, H]``
tensors (``S`` samples of ``N = 23`` agents, ``H`` = 32 or 64): at these sizes each costs its dispatch, not its
arithmetic, and on a shared 2-core machine every multi-threaded one pays a thread barrier as well. Here the whole
``horizon``-step loop of one scene-sample (graph ``g``) runs in compiled code, the graphs split over a few plain
threads (the kernels release the GIL; the samples never interact, so there is no barrier per step; see
:func:`_split` for why not numba's ``prange``). Per graph and step, with ``h [N, H]`` the GRU state::

    P   = h W_h^T + b                       [N, 2H | 2H | 3H]   prior [r, s] | decoder [r, s] | GRU W_hh h + b_hh
    pool_k = sum_{j != k, present} ReLU(r_k + s_j)  (/ max(deg_k, 1) for the mean)         the MPNN's messages
    o   = W_o ReLU(W_v1 W_2 pool_k + c_k) + b_o     (c_k = b_v1 + w_k W_v1 b_2: MPNNBlock.node_bias)
    prior: (mu, log sigma) = o, log sigma clamped to [-6, 3];  z = mu + exp(log sigma) eps
    decoder: P_dec + W_a z -> pool -> (v_mu, v_log_sigma);  v = v_prev + v_mu (residual) or 8 v_mu (+ noise)
    predicted agents: p += v dt;  given agents: v = (p_given - p) / dt, p = p_given
    GRU: i = W_kin [p / scale, v / 8] present + W_z z + const;  r, u = sigma(i + g);  n = tanh(i_n + r g_n);
         h = lerp(n, h, u)

These are the equations of :class:`soccerai.models.vrnn._Cell` / :class:`soccerai.models.layers.MPNNBlock` term by
term (same weights, same pool order); only the order of the matrix products' sums differs from BLAS, so samples
agree with the torch path to float32 rounding (~1e-6 m; ``tests/test_rollout_kernel.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

try:  # the fast CPU engine; without numba the torch rollout runs everywhere
    import numba
except ImportError:  # pragma: no cover - numba is a dependency; kept importable for minimal installs
    numba = None


E_CUBED = math.exp(3.0)

if numba is not None:

    @numba.njit(cache=True, boundscheck=False, error_model="numpy", inline="always")
    def _affine(x, w, bias, out):  # noqa: ANN001, ANN202
        """``out = x w + bias`` (``w`` transposed ``[I, O]``, ``bias [O]`` or ``[M, O]``): BLAS, then the bias."""
        np.dot(x, w, out)
        out += bias

    @numba.njit(cache=True, boundscheck=False, error_model="numpy", inline="always")
    def _mpnn(proj, hidden, present, divisor, head, node_bias, out_w, out_b, pooled, act, out):  # noqa: ANN001, ANN202
        """One MPNN block from its projected input ``[r, s] = proj[:, :2H]`` (later columns unread): ``out [N, O]``."""
        n = proj.shape[0]
        zero = pooled.dtype.type(0.0)
        for k in range(n):
            acc = pooled[k]
            acc[:] = zero
            if not present[k]:
                continue
            receiver = proj[k, :hidden]
            for j in range(n):
                if j == k or not present[j]:
                    continue
                sender = proj[j, hidden : 2 * hidden]
                for c in range(hidden):
                    acc[c] += max(receiver[c] + sender[c], zero)
            if divisor[k] != 1.0:  # the mean: / max(deg_k, 1)
                for c in range(hidden):
                    acc[c] = acc[c] / divisor[k]
        _affine(pooled, head, node_bias, act)
        for k in range(n):
            for c in range(hidden):
                act[k, c] = max(act[k, c], zero)
        _affine(act, out_w, out_b, out)

    @numba.njit(cache=True, boundscheck=False, error_model="numpy", inline="always")
    def _clamp(v, low, high):  # noqa: ANN001, ANN202
        return min(max(v, low), high)

    @numba.njit(cache=True, boundscheck=False, error_model="numpy", inline="always")
    def _exp_neg(z):  # noqa: ANN001, ANN202
        """``exp(-z)`` for ``z >= 0`` in float64, ``z`` clamped at 40 (``e^-40 ~ 4e-18``, nil beside float32's
        resolution): ``q(z / 64)^64`` with ``q`` the degree-11 Taylor polynomial of ``exp(-t)``, ``t <= 0.625``
        (truncation ``t^12 / 12! < 1e-11``, ~1e-9 relative after the six squarings: the float32 results are those of
        libm's ``exp`` to an ulp). Branch-free arithmetic, so the loops around it vectorise (libm's is a call per
        element: ~4x slower in the GRU's loop)."""
        t = np.minimum(z, 40.0) * (1.0 / 64.0)
        q = 1.0 - t * (
            1.0
            - t
            * (
                1.0 / 2.0
                - t
                * (
                    1.0 / 6.0
                    - t
                    * (
                        1.0 / 24.0
                        - t
                        * (
                            1.0 / 120.0
                            - t
                            * (
                                1.0 / 720.0
                                - t
                                * (
                                    1.0 / 5040.0
                                    - t
                                    * (
                                        1.0 / 40320.0
                                        - t
                                        * (1.0 / 362880.0 - t * (1.0 / 3628800.0 - t * (1.0 / 39916800.0)))
                                    )
                                )
                            )
                        )
                    )
                )
            )
        )
        q = q * q
        q = q * q
        q = q * q
        q = q * q
        q = q * q
        return q * q

    @numba.njit(cache=True, boundscheck=False, error_model="numpy", inline="always")
    def _exp(v):  # noqa: ANN001, ANN202
        """``exp(v) = e^3 exp(-(3 - v))`` for ``v`` in ``[-37, 3]`` (the log standard deviations, clamped to
        ``[-6, 3]``)."""
        return E_CUBED * _exp_neg(3.0 - np.float64(v))

    @numba.njit(cache=True, boundscheck=False, error_model="numpy", inline="always")
    def _sigmoid(v):  # noqa: ANN001, ANN202
        """``1 / (1 + exp(-v))`` from ``e = exp(-|v|)`` only (no overflow): ``1 / (1 + e)`` or ``e / (1 + e)``."""
        x = np.float64(v)
        e = _exp_neg(np.abs(x))
        return (np.float64(x >= 0.0) * (1.0 - e) + e) / (1.0 + e)

    @numba.njit(cache=True, boundscheck=False, error_model="numpy", inline="always")
    def _tanh(v):  # noqa: ANN001, ANN202
        """``tanh(v) = sign(v) (1 - e) / (1 + e)``, ``e = exp(-2 |v|)``, in float64 (its cancellation for small
        ``|v|`` costs ~1e-16 absolute, far below float32's resolution)."""
        x = np.float64(v)
        e = _exp_neg(2.0 * np.abs(x))
        return (2.0 * np.float64(x >= 0.0) - 1.0) * (1.0 - e) / (1.0 + e)

    @numba.njit(cache=True, boundscheck=False, error_model="numpy", inline="always")
    def _gru(gates, hidden_gates, off, h):  # noqa: ANN001, ANN202
        """``h <- GRU`` from ``gates = W_i [x, z] + b_ih`` and ``hidden_gates[:, off : off + 3H] = W_hh h + b_hh``:
        ``r, u = sigma(i + g)``, ``n = tanh(i_n + r g_n)``, ``h = lerp(n, h, u)`` (torch's two-sided lerp)."""
        n, hidden = h.shape
        for k in range(n):
            for c in range(hidden):
                r = _sigmoid(gates[k, c] + hidden_gates[k, off + c])
                u = _sigmoid(gates[k, hidden + c] + hidden_gates[k, off + hidden + c])
                cand = _tanh(gates[k, 2 * hidden + c] + r * hidden_gates[k, off + 2 * hidden + c])
                low = np.float64(u < 0.5)  # both sides of the lerp, blended by 0 / 1 (exact): no branch
                old = np.float64(h[k, c])
                h[k, c] = low * (cand + u * (old - cand)) + (1.0 - low) * (old - (old - cand) * (1.0 - u))

    @numba.njit(cache=True, boundscheck=False, error_model="numpy", nogil=True)
    def _encode_kernel(
        start,
        stop,
        x,
        present,
        divisor,
        hid_w,
        hid_b,
        post_wa,
        post_head,
        post_bias,  # noqa: ANN001, ANN202, PLR0913
        post_out_w,
        post_out_b,
        gru_w,
        gru_b,
        bias_hh,
        out,
    ):
        t_len, _, n, n_features = x.shape
        hidden = out.shape[2]
        latent = post_out_w.shape[1] // 2
        dtype = x.dtype
        for b in range(start, stop):
            h = np.zeros((n, hidden), dtype)
            inputs = np.zeros((n, n_features + latent), dtype)
            gates = np.empty((n, 3 * hidden), dtype)
            proj = np.empty((n, hid_w.shape[1]), dtype)
            post_in = np.empty((n, 2 * hidden), dtype)
            post = np.empty((n, 2 * latent), dtype)
            pooled = np.empty((n, hidden), dtype)
            act = np.empty((n, hidden), dtype)
            h_bias = np.empty((n, 3 * hidden), dtype)
            h_bias[:] = bias_hh
            inputs[:, :n_features] = x[0, b]
            _affine(inputs, gru_w, gru_b, gates)
            _gru(gates, h_bias, 0, h)  # h_0 = GRU([x_0, 0], 0)
            for t in range(1, t_len):
                _affine(h, hid_w, hid_b, proj)  # [posterior W_h h + b | W_hh h + b_hh]
                np.dot(x[t, b], post_wa, post_in)
                for k in range(n):
                    for c in range(2 * hidden):
                        post_in[k, c] = proj[k, c] + post_in[k, c]
                _mpnn(
                    post_in,
                    hidden,
                    present[b],
                    divisor[b],
                    post_head,
                    post_bias[b],
                    post_out_w,
                    post_out_b,
                    pooled,
                    act,
                    post,
                )
                inputs[:, :n_features] = x[t, b]
                inputs[:, n_features:] = post[:, :latent]  # z_t = the posterior mean
                _affine(inputs, gru_w, gru_b, gates)
                _gru(gates, proj, 2 * hidden, h)
            out[b] = h

    @numba.njit(cache=True, boundscheck=False, error_model="numpy", nogil=True)
    def _rollout_kernel(
        start,
        stop,
        h0,
        present,
        predicted,
        given,
        pos0,
        vel0,
        latent_noise,
        decoder_noise,  # noqa: ANN001, ANN202, PLR0913
        hid_w,
        hid_b,
        prior_head,
        prior_bias,
        prior_out_w,
        prior_out_b,
        dec_wa,
        dec_head,
        dec_bias,
        dec_out_w,
        dec_out_b,
        gru_w,
        gru_const,
        scale,
        divisor,
        residual,
        noisy,
        dt,
        vscale,
        out,
    ):
        _, n, hidden = h0.shape
        horizon = out.shape[1]
        n_b = latent_noise.shape[2]
        latent = latent_noise.shape[4]
        n_proj = hid_w.shape[1]
        dtype = h0.dtype
        low, high = dtype.type(-6.0), dtype.type(3.0)
        for g in range(start, stop):
            s_idx, b_idx = g // n_b, g % n_b
            h = h0[g].copy()
            pos = pos0[g].copy()
            vel = vel0[g].copy()
            here = present[g]
            pred = predicted[g]
            div = divisor[g]
            proj = np.empty((n, n_proj), dtype)
            pooled = np.empty((n, hidden), dtype)
            act = np.empty((n, hidden), dtype)
            prior = np.empty((n, 2 * latent), dtype)
            dec_in = np.empty((n, 2 * hidden), dtype)
            decoded = np.empty((n, 4), dtype)
            z = np.empty((n, latent), dtype)
            feat = np.empty((n, 4 + latent), dtype)
            gates = np.empty((n, 3 * hidden), dtype)
            for step in range(horizon):
                _affine(h, hid_w, hid_b, proj)
                _mpnn(
                    proj,
                    hidden,
                    here,
                    div,
                    prior_head,
                    prior_bias[g],
                    prior_out_w,
                    prior_out_b,
                    pooled,
                    act,
                    prior,
                )
                eps = latent_noise[s_idx, step, b_idx]
                for k in range(n):
                    for c in range(latent):
                        z[k, c] = prior[k, c] + _exp(_clamp(prior[k, latent + c], low, high)) * eps[k, c]
                np.dot(z, dec_wa, dec_in)
                for k in range(n):
                    for c in range(2 * hidden):
                        dec_in[k, c] = proj[k, 2 * hidden + c] + dec_in[k, c]
                _mpnn(
                    dec_in,
                    hidden,
                    here,
                    div,
                    dec_head,
                    dec_bias[g],
                    dec_out_w,
                    dec_out_b,
                    pooled,
                    act,
                    decoded,
                )
                for k in range(n):
                    for d in range(2):
                        mean = decoded[k, d]
                        if noisy:
                            mean = (
                                mean
                                + _exp(_clamp(decoded[k, 2 + d], low, high)) * decoder_noise[step, g, k, d]
                            )
                        if pred[k]:
                            own = vel[k, d] + mean if residual else mean * vscale
                            vel[k, d] = own
                            pos[k, d] = pos[k, d] + own * dt
                        else:
                            target = given[g, step, k, d]
                            vel[k, d] = (target - pos[k, d]) / dt
                            pos[k, d] = target
                        out[g, step, k, d] = pos[k, d]
                    weight = dtype.type(1.0) if here[k] else dtype.type(0.0)
                    feat[k, 0] = pos[k, 0] / scale[0] * weight
                    feat[k, 1] = pos[k, 1] / scale[1] * weight
                    feat[k, 2] = vel[k, 0] / scale[2] * weight
                    feat[k, 3] = vel[k, 1] / scale[3] * weight
                    for c in range(latent):
                        feat[k, 4 + c] = z[k, c]
                _affine(feat, gru_w, gru_const[g], gates)
                _gru(gates, proj, 4 * hidden, h)


def available() -> bool:
    """True when numba is importable (the kernel compiles on first use and is cached on disk)."""
    return numba is not None


def rollout(  # noqa: PLR0913
    h0: np.ndarray,
    present: np.ndarray,
    predicted: np.ndarray,
    given: np.ndarray,
    positions: np.ndarray,
    velocity: np.ndarray,
    latent_noise: np.ndarray,
    decoder_noise: np.ndarray | None,
    weights: dict[str, np.ndarray],
    residual: bool,
    dt: float,
    velocity_scale: float,
    out: np.ndarray,
) -> None:
    """Fill ``out [G, horizon, N, 2]`` with the rolled-out positions (see the module docstring).

    ``h0 [G, N, H]``, ``present`` / ``predicted [G, N]``, ``given [G, horizon, N, 2]``, ``positions`` / ``velocity
    [G, N, 2]`` at the last observed frame, ``latent_noise [S, horizon, B, N, Z]`` (``G = S B``, graph ``g = s B + b``),
    ``decoder_noise [horizon, G, N, 2]`` or None; ``weights`` from :func:`soccerai.models.vrnn.rollout_weights`.
    """
    dtype = h0.dtype.type
    noisy = decoder_noise is not None
    noise = decoder_noise if noisy else np.zeros((1, 1, 1, 2), h0.dtype)
    w = weights
    _split(
        _rollout_kernel,
        h0.shape[0],
        h0,
        present,
        predicted,
        given,
        positions,
        velocity,
        latent_noise,
        noise,
        w["hid_w"],
        w["hid_b"],
        w["prior_head"],
        w["prior_bias"],
        w["prior_out_w"],
        w["prior_out_b"],
        w["dec_wa"],
        w["dec_head"],
        w["dec_bias"],
        w["dec_out_w"],
        w["dec_out_b"],
        w["gru_w"],
        w["gru_const"],
        w["scale"],
        w["divisor"],
        residual,
        noisy,
        dtype(dt),
        dtype(velocity_scale),
        out,
    )


def encode(x: np.ndarray, weights: dict[str, np.ndarray], out: np.ndarray) -> None:
    """Fill ``out [B, N, H]`` with the GRU state after the observed frames ``x [T, B, N, F]`` (node features):
    ``h_0 = GRU([x_0, 0], 0)``, then posterior mean ``z_t`` and ``h_t = GRU([x_t, z_t], h_{t-1})``
    (:meth:`soccerai.models.vrnn.VRNN._recur` without draws); ``weights`` from
    :func:`soccerai.models.vrnn.encode_weights`."""
    w = weights
    _split(
        _encode_kernel,
        x.shape[1],
        x,
        w["present"],
        w["divisor"],
        w["hid_w"],
        w["hid_b"],
        w["post_wa"],
        w["post_head"],
        w["post_bias"],
        w["post_out_w"],
        w["post_out_b"],
        w["gru_w"],
        w["gru_b"],
        w["bias_hh"],
        out,
    )


def _split(kernel: Callable[..., None], n_graphs: int, *args: object) -> None:
    """Run ``kernel(start, stop, *args)`` over the graphs in ``torch.get_num_threads()`` contiguous parts, one per
    thread (the kernels release the GIL; the graphs never interact). Plain threads, not numba's parallel layer: its
    OpenMP pool, beside torch's own, left every later torch operation of the process several times slower."""
    parts = max(1, min(torch.get_num_threads(), n_graphs))
    bounds = [n_graphs * i // parts for i in range(parts + 1)]
    if parts == 1:
        kernel(0, n_graphs, *args)
        return
    pending = [
        _pool(parts - 1).submit(kernel, a, b, *args) for a, b in zip(bounds[1:-1], bounds[2:], strict=True)
    ]
    kernel(bounds[0], bounds[1], *args)
    for future in pending:
        future.result()


_POOLS: dict[int, ThreadPoolExecutor] = {}


def _pool(workers: int) -> ThreadPoolExecutor:
    """A lasting pool of ``workers`` threads (made on first use)."""
    if workers not in _POOLS:
        _POOLS[workers] = ThreadPoolExecutor(workers, thread_name_prefix="soccerai-rollout")
    return _POOLS[workers]
