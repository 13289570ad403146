"""VRNN with per-agent latents and recurrent states; its networks are interaction encoders shared across agents.

For every agent ``k`` and frame ``t`` (Chung et al. 2015; Yeh et al. 2019 for the multi-agent form)::

    prior:     [mu, sigma]_p = Enc_prior(h_{t-1})
    posterior: [mu, sigma]_q = Enc_post([x_t, h_{t-1}])
    decoder:   [mu, sigma]_v = Enc_dec([z_t, h_{t-1}]),   z_t ~ q (training) or p (sampling)
    recurrence: h_t = GRU([x_t, z_t], h_{t-1})

``x_t`` are the node features of :func:`soccerai.models.graph.node_features` (position, velocity, role, goalkeeper,
present) and the decoder models the velocity ``v_t = (p_t - p_{t-1}) / dt``: with ``residual_velocity`` (default)
as the change ``v_t - v_{t-1}`` in m/s (so an untrained decoder starts as constant velocity; ``v_{t-1}`` is the
true one in training and the model's own in sampling), otherwise as ``v_t / 8``. Training maximises the ELBO,
``loss = sum_{t,k} [ NLL(v_{t,k}) + beta * KL(q || p) ] / #valid``. With ``encoder="none"`` each ``Enc`` is an MLP
applied to each agent alone (VRNN without interaction, this module); with ``encoder="mpnn"`` it is one round of
message passing over the agents (GVRNN, :mod:`soccerai.models.gvrnn`).

Sampling (honest protocol): the history is encoded with posterior means; every future step draws ``z`` from the
prior, takes the decoder mean velocity (plus its noise if ``decoder_noise``), integrates ``p += v * dt`` and feeds
back ONLY the model's own positions and velocities for predicted agents (given agents follow ``given_future``).

How it is computed (the same numbers as a loop running all three networks frame by frame, the former code kept in
``tests/reference_gvrnn.py``; ``benchmarks/train_speed.py`` times both):

* In training only the posterior sits on the recurrence (``z_t`` feeds ``h_t``); the prior of ``h_{t-1}`` and the
  decoder of ``[z_t, h_{t-1}]`` feed the loss alone. So the frame loop runs posterior + GRU, and the prior, the
  decoder, the NLL and the KL then run over blocks of frames stacked as graphs (``LOSS_CHUNK_ROWS`` agent-frames
  a block: few, large operations whose products still fit in cache).
* Message passing over the complete graph of present agents is dense (:class:`CompleteGraph`, no edge list): the
  MPNN's ``sum_j ReLU(r_k + s_j)`` is one fused loop (:func:`soccerai.models.relu_pool.masked_relu_pool`, numba
  on a CPU) that never holds the ``[G, N, N, H]`` messages; GCN and GraphSAGE use batched ``[G, N, N]`` operators.
* A network whose first layer is linear (the message passing block, the per-agent MLP: ``input_projection``) gets
  its input ``[a, h]`` as ``W_a a + (W_h h + b)``: the ``h`` parts of every network, their biases and the GRU's
  ``W_hh h + b_hh`` come from one matrix product per frame. The MPNN's node weights ``W_v1 W_2`` are folded once
  per pass and its degree bias once per graph. The GRU is written out (``r, u, n`` gates as in
  :class:`torch.nn.GRUCell`, whose weights it uses) so its hidden product can be shared that way.
* The observed history is the same for every sample: it is encoded once and its state repeated ``n_samples``
  times; all samples then roll out together in the batch dimension, under ``torch.inference_mode``.
* Sampling on a CPU with the MPNN over the complete graph (the shipped models) runs as one compiled loop
  (:mod:`soccerai.models.rollout_kernel`, ``engine="numba"``, the default there): the history encoding and every
  step of every sample without a torch call per step, the samples split over threads. The tensor steps below
  (``engine="torch"``) stay the path for gradients, other encoders and GPUs; both give the same samples.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from soccerai.errors import InvalidParameterError
from soccerai.models import rollout_kernel
from soccerai.models.base import TrajectoryBatch, TrajectoryModel
from soccerai.models.complete_graph import CompleteGraph, is_complete_graph
from soccerai.models.graph import (
    NODE_FEATURES,
    POSITION_SCALE,
    VELOCITY_SCALE,
    complete_edges,
    node_features,
    repeat_edges,
)
from soccerai.models.layers import MPNNBlock, build_encoder, gaussian_kl, gaussian_nll, split_gaussian
from soccerai.windows.container import DT

N_FEATURES = len(NODE_FEATURES)
MAX_LATENT_TEMPERATURE = 10.0
"""A larger temperature would only spread the samples over the pitch: refused as a tampered or absurd config."""
ROLLOUT_ENGINES = ("numba", "torch")
LOSS_CHUNK_ROWS = 8192
"""Agent-frames per block of the prior / decoder / loss pass: the blocks' products and messages stay in cache
(one block of all ``(T - 1) B N`` rows made its ``[rows, 4H]`` products memory-bound)."""


@dataclass
class VRNNConfig:
    """Sizes and options of a (G)VRNN; saved with every checkpoint."""

    hidden: int = 64
    latent: int = 16
    encoder: str = "none"
    kl_weight: float = 1.0
    decoder_noise: bool = False
    residual_velocity: bool = True
    aggregation: str = "mean"
    """``mean`` (default: the message of an agent is the mean over present neighbours, so 6 or 22 present players
    are the same scale) or ``sum`` (Yeh et al.; what checkpoints before issue #27 were trained with)."""
    rollout_samples: int = 4
    """K: rollouts from the prior per window for the rollout terms below (all three weights 0: the one-step
    teacher-forced ELBO alone, as before issue #27)."""
    rollout_steps: int = 40
    """Frames of the training rollout (capped at the window's horizon): the model fed its own samples."""
    rollout_weight: float = 0.0
    """Weight of the mean over the K rollouts of their ADE (metres)."""
    variety_weight: float = 0.5
    """Weight of the best-of-K (variety) loss: per window, the smallest ADE of the K rollouts (metres)."""
    energy_weight: float = 1.0
    """Weight of the energy score of the K rollouts, per agent over its rolled-out trajectory (a proper scoring
    rule: rewards a cloud that is both close to the truth and as wide as the error; metres per sqrt(frame))."""
    player_dropout: float = 0.15
    """In training, each present player is removed from the whole window with this probability..."""
    min_present: int = 6
    """...while at least this many players (or all, when fewer) stay present."""
    latent_temperature: float = 1.0
    """Sampling only: every prior draw is ``z = mu_p + tau * sigma_p * eps`` (``eps`` standard normal), the spread of
    the samples calibrated after training. :func:`soccerai.training.calibrate.fit_temperature` picks ``tau`` on
    validation windows by the energy score (a proper scoring rule, so the spread widens only as far as it pays);
    training never uses it (its rollouts draw with ``tau = 1``). ``1``: the prior as learned."""

    def __post_init__(self) -> None:
        if not 0.0 < self.latent_temperature <= MAX_LATENT_TEMPERATURE:
            raise InvalidParameterError(
                f"latent_temperature must be in (0, {MAX_LATENT_TEMPERATURE:g}], got {self.latent_temperature}"
            )


def kinematic_states(states: Tensor, mask: Tensor) -> Tensor:
    """States whose velocity is the backward difference ``(p_t - p_{t-1}) / dt`` where both frames are tracked.

    That is the quantity the decoder predicts and the rollout integrates, so training and sampling see the same
    velocity feature. At the first frame the given smoothed velocity is kept (its centred smoothing reads the next
    observed frames). An agent that RE-APPEARS at frame ``t >= 1`` (tracked at ``t``, not at ``t - 1``) has no past
    sample to difference: its velocity there is 0 (unknown). The given velocity there comes from a centred
    Savitzky-Golay filter that reads up to 0.3 s ahead, so at the last observed frame it would read the future.
    """
    positions = states[..., :2]
    backward = (positions[:, 1:] - positions[:, :-1]) / DT
    tracked_both = (mask[:, 1:] & mask[:, :-1]).unsqueeze(-1)
    velocity = states[..., 2:4].clone()
    velocity[:, 1:] = torch.where(tracked_both, backward, torch.zeros_like(backward))
    return torch.cat([positions, velocity], dim=-1)


def drop_players(
    mask: Tensor,
    obs_len: int,
    roles: Tensor,
    p: float,
    min_present: int,
    generator: torch.Generator | None = None,
) -> Tensor:
    """``mask [B, T, N]`` with players removed from whole windows at random (training augmentation).

    Each player present at the last observed frame (``roles != 2``: the ball always stays) is dropped with
    probability ``p``, but never below ``min(min_present, present players)`` present: if too many were drawn, the
    dropped ones with the largest draws are kept. So windows of 6-22 present players are all seen in training.
    """
    roles = roles.to(mask.device)
    present = mask[:, obs_len - 1] & (roles != 2)  # [B, N]
    u = torch.rand(present.shape, generator=generator, device=mask.device)
    drop = present & (u < p)
    n_present = present.sum(1, keepdim=True)
    need = (torch.clamp(n_present, max=min_present) - (n_present - drop.sum(1, keepdim=True))).clamp_min(0)
    # rank the dropped players by descending draw; restore the first `need` of them
    score = torch.where(drop, u, torch.full_like(u, -1.0))
    order = score.argsort(dim=1, descending=True)
    rank = order.argsort(dim=1)
    drop = drop & (rank >= need)
    return mask & ~drop[:, None, :]


class VRNN(TrajectoryModel):
    """Per-agent VRNN (see module docstring). ``config.encoder`` picks the interaction encoder."""

    name: ClassVar[str] = "vrnn"
    config_class: ClassVar[type[VRNNConfig]] = VRNNConfig

    def __init__(self, config: VRNNConfig | None = None) -> None:
        super().__init__()
        self.config = config or self.config_class()
        hidden, latent = self.config.hidden, self.config.latent
        encoder, aggregation = self.config.encoder, self.config.aggregation
        self.prior_net = build_encoder(encoder, hidden, hidden, 2 * latent, aggregation)
        self.posterior_net = build_encoder(encoder, N_FEATURES + hidden, hidden, 2 * latent, aggregation)
        self.decoder_net = build_encoder(encoder, latent + hidden, hidden, 4, aggregation)
        self.rnn = nn.GRUCell(N_FEATURES + latent, hidden)

    # -- helpers -------------------------------------------------------------------------------------------------
    def _edges(self, batch: TrajectoryBatch, copies: int) -> Tensor | CompleteGraph | None:
        """Edges over ``copies * B * N`` flattened agents (None without interaction).

        The complete graph of the agents present at the last observed frame (the default, and what the window
        graphs of :mod:`soccerai.models.graph` carry by default) goes to encoders that support it as a dense
        :class:`CompleteGraph`, which is the same maths without an edge list; other graphs as ``edge_index``.
        Absent agents (``mask`` False there) are in no edge: they neither send nor receive messages.
        """
        if self.config.encoder == "none":
            return None
        present = batch.mask[:, batch.obs_len - 1]
        edges = batch.edge_index
        complete = edges is None or is_complete_graph(edges, present)
        if complete and getattr(self.prior_net, "supports_dense", False):
            return CompleteGraph(present.repeat(copies, 1))
        if edges is None:
            edges = complete_edges(present)
        return repeat_edges(edges.to(batch.states.device), batch.batch_size * batch.n_agents, copies)

    @staticmethod
    def _interact(
        net: nn.Module, inputs: Tensor, edges: Tensor | CompleteGraph | None, positions: Tensor
    ) -> Tensor:
        """Run one of the three networks over the agents ``[M, F] -> [M, out]``.

        Position-aware encoders (``uses_positions``: Graphormer, SAT) also get the agents' positions ``[G, N, 2]``
        in metres (the last known ones: the prior's and the decoder's inputs hold no positions of their own).
        """
        if getattr(net, "uses_positions", False):
            return net(inputs, edges, positions.reshape(-1, 2))
        return net(inputs, edges)

    def _velocity_target(self, velocity: Tensor, previous: Tensor) -> Tensor:
        """What the decoder models: ``v_t - v_{t-1}`` (residual) or ``v_t / 8``."""
        return velocity - previous if self.config.residual_velocity else velocity / VELOCITY_SCALE

    def _velocity_from_output(self, output: Tensor, previous: Tensor) -> Tensor:
        """Inverse of :meth:`_velocity_target`."""
        return previous + output if self.config.residual_velocity else output * VELOCITY_SCALE

    def _recur(
        self, cell: _Cell, x: Tensor, positions: Tensor, edges: Tensor | CompleteGraph | None, draw: bool
    ) -> tuple[Tensor, list[Tensor], list[Tensor], list[Tensor]]:
        """The recurrence over frames ``x [T, M, F]`` (agent positions ``[T, G, N, 2]``), posterior + GRU only.

        ``h_0 = GRU([x_0, 0], 0)``; for ``t >= 1``: ``(mu, log sigma) = posterior([x_t, h_{t-1}])``,
        ``z_t = mu + sigma * eps`` (``draw``) or ``mu``, ``h_t = GRU([x_t, z_t], h_{t-1})``. Returns ``h_{T-1}`` and,
        for ``t = 1..T-1``, the lists of ``h_{t-1}`` ``[M, H]``, ``z_t`` and the posterior ``(mu, log sigma)``.
        """
        m = x.shape[1]
        # x needs no gradient: unbinding it costs nothing, and each frame's input products are small and
        # cache-resident (one [T, M, 3H] product for the whole window was memory-bound, and its gradient a stack)
        frames, frame_positions = x.unbind(0), positions.unbind(0)
        h = cell.gru_gates(
            cell.gru_input_full(frames[0], x.new_zeros(m, self.config.latent)),
            cell.bias_hh.expand(m, -1),
            x.new_zeros(m, cell.hidden),
        )
        hs, zs, posteriors = [], [], []
        for t in range(1, x.shape[0]):
            projected = cell.project_hidden(h, ("posterior", "gru"))
            params = cell.posterior(frames[t], h, projected["posterior"], edges, frame_positions[t])
            mean, log_std = split_gaussian(params)
            z = mean + torch.randn_like(mean) * log_std.exp() if draw else mean
            hs.append(h)
            zs.append(z)
            posteriors.append(params)
            h = cell.gru_gates(cell.gru_input_full(frames[t], z), projected["gru"], h)
        return h, hs, zs, posteriors

    # -- TrajectoryModel -----------------------------------------------------------------------------------------
    def loss(self, batch: TrajectoryBatch) -> dict[str, Tensor]:
        """Negative ELBO per valid agent-frame (``nll``, ``kl``) plus the rollout terms of the config.

        In training mode, players are first dropped at random (:func:`drop_players`, ``player_dropout``,
        ``min_present``). With a rollout weight, ``K = rollout_samples`` rollouts from the prior over
        ``rollout_steps`` future frames (the model fed only its own samples, as :meth:`sample` does, decoder noise
        included when ``decoder_noise``; gradients through the reparameterised draws) add
        ``rollout_weight * mean_k ADE_k + variety_weight * min_k ADE_k + energy_weight * ES``
        (:func:`rollout_terms`).
        """
        config = self.config
        if self.training and config.player_dropout > 0:
            mask = drop_players(
                batch.mask, batch.obs_len, batch.roles, config.player_dropout, config.min_present
            )
            batch = dataclasses.replace(batch, mask=mask)
        out = self._elbo(batch)
        weights = (config.rollout_weight, config.variety_weight, config.energy_weight)
        steps = min(config.rollout_steps, batch.states.shape[1] - batch.obs_len)
        if any(w > 0 for w in weights) and steps > 0:
            terms = self.rollout_terms(batch, steps, config.rollout_samples)
            for name, weight in zip(("rollout_ade", "variety", "energy"), weights, strict=True):
                out[name] = terms[name].detach()
                if weight > 0:
                    out["loss"] = out["loss"] + weight * terms[name]
        return out

    def rollout_terms(self, batch: TrajectoryBatch, steps: int, k: int) -> dict[str, Tensor]:
        """Rollout losses of ``k`` differentiable rollouts from the prior over the first ``steps`` future frames.

        Agents present at the last observed frame are rolled out (every other agent is absent); each is scored
        where tracked. ``d_{s,b,t,n} = ||x_s - y||``. Returns ``rollout_ade`` (mean over samples and windows of the
        per-window ADE), ``variety`` (mean over windows of ``min_s`` ADE: best-of-K) and ``energy``: the energy
        score ``ES = mean_s ||X_s - y|| - 1/2 mean_{s != s'} ||X_s - X_s'||`` of each agent's trajectory (the
        norms over its tracked frames, divided by the square root of their count: an RMS distance in metres),
        averaged over agents.
        """
        b, n = batch.batch_size, batch.n_agents
        obs = batch.obs_len
        history = batch.history()
        present = batch.present()
        noise = torch.randn(k, steps, b, n, self.config.latent, device=batch.states.device)
        given = batch.given_future()[:, :steps]
        samples = self._rollout(history, steps, k, present, given, noise, None)  # [K, B, H, N, 2]
        truth = batch.states[:, obs : obs + steps, :, :2]
        valid = (batch.mask[:, obs : obs + steps] & present[:, None]).to(samples.dtype)  # [B, H, N]
        dist = (samples - truth).pow(2).sum(-1).add(1e-6).sqrt()  # [K, B, H, N]
        per_scene = (dist * valid).sum((2, 3)) / valid.sum((1, 2)).clamp_min(1.0)  # [K, B]
        has = (valid.sum((1, 2)) > 0).to(samples.dtype)
        n_scenes = has.sum().clamp_min(1.0)
        rollout_ade = (per_scene.mean(0) * has).sum() / n_scenes
        variety = (per_scene.min(0).values * has).sum() / n_scenes
        frames = valid.sum(1)  # [B, N]
        scale = frames.clamp_min(1.0).sqrt()
        w = valid.unsqueeze(0).unsqueeze(-1)
        to_truth = ((samples - truth).pow(2) * w).sum((2, 4)).add(1e-6).sqrt() / scale  # [K, B, N]
        energy_agents = to_truth.mean(0)
        if k > 1:
            diff = samples.unsqueeze(0) - samples.unsqueeze(1)  # [K, K, B, H, N, 2]
            spread = (diff.pow(2) * w.unsqueeze(0)).sum((3, 5)).add(1e-6).sqrt() / scale  # [K, K, B, N]
            off = ~torch.eye(k, dtype=torch.bool, device=samples.device)
            energy_agents = energy_agents - 0.5 * spread[off].mean(0)
        scored = (frames > 0).to(samples.dtype)
        energy = (energy_agents * scored).sum() / scored.sum().clamp_min(1.0)
        return {"rollout_ade": rollout_ade, "variety": variety, "energy": energy}

    def _elbo(self, batch: TrajectoryBatch) -> dict[str, Tensor]:
        """Negative ELBO per valid agent-frame, with its NLL and KL parts."""
        states = kinematic_states(batch.states, batch.mask)
        b, t_len, n = states.shape[:3]
        cell = _Cell(self)
        x = node_features(states, batch.mask, batch.roles, batch.is_goalkeeper[:, None])
        x = x.transpose(0, 1).reshape(t_len, b * n, N_FEATURES)
        positions = states[..., :2].transpose(0, 1)  # [T, B, N, 2]
        _, hs, zs, posteriors = self._recur(cell, x, positions, self._edges(batch, 1), draw=True)
        velocity = states[..., 2:4].transpose(0, 1)  # [T, B, N, 2]
        targets = self._velocity_target(velocity[1:], velocity[:-1])  # [T-1, B, N, 2]
        mask = batch.mask.transpose(0, 1)
        valid = (mask[1:] & mask[:-1]).to(states.dtype)  # [T-1, B, N]
        nll_sum = kl_sum = states.new_zeros(())
        per_chunk = max(1, LOSS_CHUNK_ROWS // (b * n))
        graphs: dict[int, Tensor | CompleteGraph | None] = {}
        for start in range(0, t_len - 1, per_chunk):
            stop = min(t_len - 1, start + per_chunk)
            frames = stop - start
            edges = graphs.setdefault(frames, self._edges(batch, frames))
            known = positions[start:stop].reshape(frames * b, n, 2)
            flat = torch.stack(hs[start:stop]).reshape(frames * b * n, -1)
            projected = cell.project_hidden(flat, ("prior", "decoder"))
            prior = cell.prior(None, flat, edges, known, projected["prior"])
            z = torch.stack(zs[start:stop]).reshape(frames * b * n, -1)
            decoded = cell.decoder(z, flat, edges, known, projected["decoder"])
            prior_mean, prior_log_std = split_gaussian(prior)
            post_mean, post_log_std = split_gaussian(
                torch.stack(posteriors[start:stop]).reshape(frames * b * n, -1)
            )
            velocity_mean, velocity_log_std = split_gaussian(decoded)
            chunk_valid = valid[start:stop].reshape(-1)
            target = targets[start:stop].reshape(-1, 2)
            nll_sum = nll_sum + (gaussian_nll(target, velocity_mean, velocity_log_std) * chunk_valid).sum()
            kl_sum = (
                kl_sum + (gaussian_kl(post_mean, post_log_std, prior_mean, prior_log_std) * chunk_valid).sum()
            )
        n_valid = valid.sum().clamp_min(1.0)
        nll, kl = nll_sum / n_valid, kl_sum / n_valid
        return {"loss": nll + self.config.kl_weight * kl, "nll": nll, "kl": kl}

    def _sample(
        self,
        history: TrajectoryBatch,
        horizon: int,
        n_samples: int,
        predict_mask: Tensor,
        given_future: Tensor,
        generator: torch.Generator | None,
        latent_noise: Tensor | None = None,
        engine: str | None = None,
    ) -> Tensor:
        """Honest rollout (:meth:`sample` runs it in eval mode, without gradients).

        ``latent_noise [S, H, B, N, Z]`` (standard normal, ``sample(..., latent_noise=...)``) fixes the prior draws;
        by default it comes from ``generator``; either is scaled by ``config.latent_temperature``. Decoder noise, when
        enabled, is drawn from ``generator`` too.
        ``engine`` (``sample(..., engine=...)``): ``"numba"`` (the compiled rollout of
        :mod:`soccerai.models.rollout_kernel`: MPNN encoder over the complete graph, CPU), ``"torch"`` (the tensor
        steps below, any encoder and device) or None: numba wherever it applies, torch otherwise. Same samples.
        """
        if engine not in (None, *ROLLOUT_ENGINES):
            raise InvalidParameterError(
                f"unknown rollout engine {engine!r}; choose one of {', '.join(ROLLOUT_ENGINES)}"
            )
        if latent_noise is None:
            b, n, device = history.batch_size, history.n_agents, history.states.device
            latent_noise = torch.randn(
                n_samples, horizon, b, n, self.config.latent, generator=generator, device=device
            )
        if self.config.latent_temperature != 1.0:
            latent_noise = latent_noise * self.config.latent_temperature
        return self._rollout(
            history, horizon, n_samples, predict_mask, given_future, latent_noise, generator, engine
        )

    def _rollout(
        self,
        history: TrajectoryBatch,
        horizon: int,
        copies: int,
        predict_mask: Tensor,
        given_future: Tensor,
        latent_noise: Tensor,
        generator: torch.Generator | None,
        engine: str | None = None,
    ) -> Tensor:
        b, n = history.batch_size, history.n_agents
        obs = history.obs_len
        cell = _Cell(self)
        observed = kinematic_states(history.states[:, :obs], history.mask[:, :obs])
        x = node_features(observed, history.mask[:, :obs], history.roles, history.is_goalkeeper[:, None])
        x = x.transpose(0, 1).reshape(obs, b * n, N_FEATURES)
        history_edges = self._edges(history, 1)
        compiled = self._compiled_rollout(history_edges, x, engine)
        if compiled:
            h = self._encode_numba(cell, x, history_edges)
        else:
            h, _, _, _ = self._recur(cell, x, observed[..., :2].transpose(0, 1), history_edges, draw=False)
        h = h.repeat(copies, 1)  # the history is the same for every sample
        edges = self._edges(history, copies)
        present = history.mask[:, obs - 1].repeat(copies, 1)
        features = _RolloutFeatures(cell, present, history.roles, history.is_goalkeeper.repeat(copies, 1))
        predicted = predict_mask.repeat(copies, 1).unsqueeze(-1)  # [S*B, N, 1]
        given = given_future.repeat(copies, 1, 1, 1)  # [S*B, H, N, 2]
        positions = observed[:, -1, :, :2].repeat(copies, 1, 1)
        velocity = observed[:, -1, :, 2:4].repeat(copies, 1, 1)
        if compiled:
            return self._rollout_numba(
                cell, h, edges, features, predicted, given, positions, velocity, latent_noise, generator
            ).reshape(copies, b, horizon, n, 2)
        noise = latent_noise.transpose(0, 1).reshape(horizon, -1, self.config.latent)  # [H, S*B*N, Z]
        out = []
        for step in range(horizon):
            projected = cell.project_hidden(h, ("prior", "decoder", "gru"))
            z_mean, z_log_std = split_gaussian(cell.prior(None, h, edges, positions, projected["prior"]))
            z = z_mean + z_log_std.exp() * noise[step]
            decoded = cell.decoder(z, h, edges, positions, projected["decoder"])
            v_mean, v_log_std = split_gaussian(decoded)
            if self.config.decoder_noise:
                v_mean = v_mean + v_log_std.exp() * torch.randn(
                    v_mean.shape, generator=generator, device=v_mean.device
                )
            own_velocity = self._velocity_from_output(v_mean.reshape(copies * b, n, 2), velocity)
            given_velocity = (given[:, step] - positions) / DT
            velocity = torch.where(predicted, own_velocity, given_velocity)
            positions = torch.where(predicted, positions + own_velocity * DT, given[:, step])
            h = cell.gru_gates(features.gates(positions, velocity, z), projected["gru"], h)
            out.append(positions)
        return torch.stack(out, dim=1).reshape(copies, b, horizon, n, 2)

    def _compiled_rollout(self, edges: Tensor | CompleteGraph | None, h: Tensor, engine: str | None) -> bool:
        """Whether the rollout runs as :mod:`soccerai.models.rollout_kernel` (``engine`` None: wherever it can)."""
        fits = (
            rollout_kernel.available()
            and type(self.prior_net) is MPNNBlock
            and isinstance(edges, CompleteGraph)
            and h.device.type == "cpu"
            and h.dtype in (torch.float32, torch.float64)
            and not torch.is_grad_enabled()
        )
        if engine == "numba" and not fits:
            raise InvalidParameterError(
                "the numba rollout needs an MPNN model on the CPU, sampled without gradients"
            )
        return fits and engine != "torch"

    def _encode_numba(self, cell: _Cell, x: Tensor, graph: CompleteGraph) -> Tensor:
        """:meth:`_recur` (posterior means, no draws) over the observed frames ``x [T, B*N, F]`` in one compiled
        loop (:func:`soccerai.models.rollout_kernel.encode`); the last GRU state ``[B*N, H]``."""
        b, n = graph.present.shape
        out = x.new_empty(b, n, self.config.hidden)
        rollout_kernel.encode(
            x.reshape(x.shape[0], b, n, -1).contiguous().numpy(),
            encode_weights(self, cell, graph),
            out.numpy(),
        )
        return out.reshape(b * n, -1)

    def _rollout_numba(
        self,
        cell: _Cell,
        h: Tensor,
        graph: CompleteGraph,
        features: _RolloutFeatures,
        predicted: Tensor,
        given: Tensor,
        positions: Tensor,
        velocity: Tensor,
        latent_noise: Tensor,
        generator: torch.Generator | None,
    ) -> Tensor:
        """The torch rollout's steps in one compiled loop (:func:`soccerai.models.rollout_kernel.rollout`);
        ``[S*B, H, N, 2]``. The decoder noise is drawn step by step as the torch loop draws it (same stream)."""
        g, n = graph.present.shape
        horizon = latent_noise.shape[1]
        decoder_noise = None
        if self.config.decoder_noise:
            decoder_noise = torch.stack([torch.randn(g * n, 2, generator=generator) for _ in range(horizon)])
            decoder_noise = decoder_noise.to(h.dtype).reshape(horizon, g, n, 2).numpy()
        out = torch.empty(g, horizon, n, 2, dtype=h.dtype)
        rollout_kernel.rollout(
            h.reshape(g, n, -1).contiguous().numpy(),
            graph.present.contiguous().numpy(),
            predicted.reshape(g, n).contiguous().numpy(),
            given.to(h.dtype).contiguous().numpy(),
            positions.to(h.dtype).contiguous().numpy(),
            velocity.to(h.dtype).contiguous().numpy(),
            latent_noise.to(h.dtype).contiguous().numpy(),
            decoder_noise,
            rollout_weights(self, cell, graph, features),
            self.config.residual_velocity,
            DT,
            VELOCITY_SCALE,
            out.numpy(),
        )
        return out


def _mpnn_arrays(network: _Network, graph: CompleteGraph, prefix: str) -> dict[str, np.ndarray]:
    """A message-passing network's folded head ``(W_v1 W_2)^T``, its per-graph bias ``[G, N, H]`` and its output
    layer ``W_o^T``, ``b_o``, as the compiled rollout reads them."""
    g, n = graph.present.shape
    out_layer = network.net.node_mlp[2]
    return {
        f"{prefix}_head": _array(network.head[0].T),
        f"{prefix}_bias": _array(network.node_bias(graph, g * n).reshape(g, n, -1)),
        f"{prefix}_out_w": _array(out_layer.weight.T),
        f"{prefix}_out_b": _array(out_layer.bias),
    }


def _array(t: Tensor) -> np.ndarray:
    return t.detach().contiguous().numpy()


def _divisor(model: VRNN, graph: CompleteGraph, dtype: torch.dtype) -> np.ndarray:
    """What the pooled messages are divided by: ``max(deg, 1)`` for the mean aggregation, 1 for the sum."""
    if model.config.aggregation == "mean":
        return _array(graph.in_degree.to(dtype).clamp_min(1.0).reshape(graph.present.shape))
    return np.ones(tuple(graph.present.shape), dtype=torch.empty((), dtype=dtype).numpy().dtype)


def encode_weights(model: VRNN, cell: _Cell, graph: CompleteGraph) -> dict[str, np.ndarray]:
    """The arrays :func:`soccerai.models.rollout_kernel.encode` reads (posterior network and GRU)."""
    posterior, rnn = cell.posterior_net, model.rnn
    return {
        "present": _array(graph.present),
        "divisor": _divisor(model, graph, rnn.weight_hh.dtype),
        "hid_w": _array(torch.cat([posterior.weight_h, rnn.weight_hh]).T),
        "hid_b": _array(torch.cat([posterior.bias, rnn.bias_hh])),
        "post_wa": _array(posterior.weight_a.T),
        **_mpnn_arrays(posterior, graph, "post"),
        "gru_w": _array(rnn.weight_ih.T),
        "gru_b": _array(rnn.bias_ih),
        "bias_hh": _array(rnn.bias_hh),
    }


def rollout_weights(
    model: VRNN, cell: _Cell, graph: CompleteGraph, features: _RolloutFeatures
) -> dict[str, np.ndarray]:
    """The arrays :func:`soccerai.models.rollout_kernel.rollout` reads, from the same weights as the torch rollout:
    stacked ``h`` products, folded MPNN heads and their per-graph biases, output layers, GRU input terms."""
    g, n = graph.present.shape
    prior, decoder, rnn = cell.prior, cell.decoder_net, model.rnn
    return {
        "hid_w": _array(torch.cat([prior.weight_h, decoder.weight_h, rnn.weight_hh]).T),
        "hid_b": _array(torch.cat([prior.bias, decoder.bias, rnn.bias_hh])),
        **_mpnn_arrays(prior, graph, "prior"),
        "dec_wa": _array(decoder.weight_a.T),
        **_mpnn_arrays(decoder, graph, "dec"),
        "gru_w": _array(features.weight.T),
        "gru_const": _array(features.constant.reshape(g, n, -1)),
        "scale": _array(features.scale),
        "divisor": _divisor(model, graph, rnn.weight_hh.dtype),
    }


class _Network:
    """One of the three networks, fed ``[a, h]`` (``a`` = node features, ``z`` or nothing; ``h`` the GRU state).

    When the network exposes ``input_projection`` (its first layer is linear) the input is never concatenated:
    ``W [a, h] + b = W_a a + (W_h h + b)``, with ``W_h h + b`` taken by :meth:`_Cell.project_hidden` together with
    the other networks' ``h`` parts. Other encoders get ``[a, h]`` as they always did. Message passing blocks
    (``node_head``) also get their folded node weights once per forward pass and their graph-dependent bias once
    per graph (:meth:`soccerai.models.layers.MPNNBlock.node_bias`), not once per frame.
    """

    def __init__(self, net: nn.Module, a_dim: int) -> None:
        self.net, self.a_dim = net, a_dim
        projection = getattr(net, "input_projection", None)
        self.weight_a = self.weight_h = self.bias = None
        if projection is not None:
            weight, self.bias = projection()
            self.weight_a, self.weight_h = weight[:, :a_dim], weight[:, a_dim:]
        node_head = getattr(net, "node_head", None)
        self.head = None if node_head is None else node_head()
        self._bias_edges: object = None
        self._node_bias: Tensor | None = None

    @property
    def projected(self) -> bool:
        return self.weight_h is not None

    def node_bias(self, edges: Tensor | CompleteGraph | None, n_nodes: int) -> Tensor | None:
        """The block's graph-dependent bias, taken once per graph object."""
        if self.head is None:
            return None
        if self._bias_edges is not edges:
            self._bias_edges, self._node_bias = edges, self.net.node_bias(edges, n_nodes, self.head)
        return self._node_bias

    def __call__(
        self,
        a: Tensor | None,
        h: Tensor,
        edges: Tensor | CompleteGraph | None,
        positions: Tensor,
        hidden_part: Tensor | None = None,
    ) -> Tensor:
        """The network on ``[a, h]``; ``hidden_part`` is ``W_h h + b`` when already taken."""
        if not self.projected:
            inputs = h if a is None else torch.cat([a, h], -1)
            return VRNN._interact(self.net, inputs, edges, positions)
        hidden_part = torch.addmm(self.bias, h, self.weight_h.T) if hidden_part is None else hidden_part
        projected = hidden_part if a is None else torch.addmm(hidden_part, a, self.weight_a.T)
        return self.run_projected(projected, edges)

    def run_projected(self, projected: Tensor, edges: Tensor | CompleteGraph | None) -> Tensor:
        """The network after its first linear layer, from ``W [a, h] + b``."""
        bias = self.node_bias(edges, projected.shape[0])
        if bias is None:
            return self.net.forward_projected(projected, edges)
        return self.net.forward_projected(projected, edges, self.head, bias)


class _Cell:
    """The weights of one forward pass, arranged so each frame costs few, large operations.

    ``project_hidden(h, names)`` returns ``W_h h + b`` for the named networks (their input bias ``b``) and the
    GRU's ``W_hh h + b_hh`` from one product with their stacked ``h`` weights and biases.
    """

    def __init__(self, model: VRNN) -> None:
        config = model.config
        self.hidden, self.latent = config.hidden, config.latent
        self.prior = _Network(model.prior_net, 0)
        self.posterior_net = _Network(model.posterior_net, N_FEATURES)
        self.decoder_net = _Network(model.decoder_net, config.latent)
        rnn = model.rnn
        self.weight_x, self.weight_z = rnn.weight_ih[:, :N_FEATURES], rnn.weight_ih[:, N_FEATURES:]
        self.weight_ih, self.bias_ih, self.bias_hh = rnn.weight_ih, rnn.bias_ih, rnn.bias_hh
        networks = {"posterior": self.posterior_net, "prior": self.prior, "decoder": self.decoder_net}
        self._blocks = [(name, net.weight_h, net.bias) for name, net in networks.items() if net.projected]
        self._blocks.append(("gru", rnn.weight_hh, rnn.bias_hh))
        self._stacked: dict[tuple[str, ...], tuple[list[str], list[int], Tensor, Tensor]] = {}

    def project_hidden(self, h: Tensor, names: tuple[str, ...]) -> dict[str, Tensor | None]:
        """``{name: W_name h + b_name}`` (None for a plain encoder), ``gru: W_hh h + b_hh``; one matrix product."""
        if names not in self._stacked:
            blocks = [block for block in self._blocks if block[0] in names]
            if blocks:
                weight = torch.cat([w for _, w, _ in blocks], dim=0)
                bias = torch.cat([b for _, _, b in blocks], dim=0)
                self._stacked[names] = (
                    [n for n, _, _ in blocks],
                    [int(w.shape[0]) for _, w, _ in blocks],
                    weight,
                    bias,
                )
        if names not in self._stacked:
            return dict.fromkeys(names)
        present, sizes, weight, bias = self._stacked[names]
        parts = dict(zip(present, torch.addmm(bias, h, weight.T).split(sizes, dim=-1), strict=True))
        return {name: parts.get(name) for name in names}

    def posterior(
        self,
        x_t: Tensor,
        h: Tensor,
        hidden_part: Tensor | None,
        edges: Tensor | CompleteGraph | None,
        positions: Tensor,
    ) -> Tensor:
        return self.posterior_net(x_t, h, edges, positions, hidden_part)

    def decoder(
        self,
        z: Tensor,
        h: Tensor,
        edges: Tensor | CompleteGraph | None,
        positions: Tensor,
        hidden_part: Tensor | None = None,
    ) -> Tensor:
        return self.decoder_net(z, h, edges, positions, hidden_part)

    def gru_input(self, x: Tensor) -> Tensor:
        """``W_ix x + b_ih`` (the GRU's input product without its ``z`` part)."""
        return torch.matmul(x, self.weight_x.T) + self.bias_ih

    def gru_input_full(self, x: Tensor, z: Tensor) -> Tensor:
        """``W_ih [x, z] + b_ih`` (the GRU's whole input product)."""
        return torch.addmm(self.bias_ih, torch.cat([x, z], -1), self.weight_ih.T)

    @staticmethod
    def gru_gates(gates_i: Tensor, gates_h: Tensor, h: Tensor) -> Tensor:
        """``r = sigma(i_r + g_r)``, ``u = sigma(i_u + g_u)``, ``n = tanh(i_n + r * g_n)``, ``h' = (1 - u) n + u h``
        with ``i = W_i [x, z] + b_i``, ``g = W_h h + b_h`` (the equations of :class:`torch.nn.GRUCell`)."""
        i_r, i_u, i_n = gates_i.chunk(3, dim=-1)
        g_r, g_u, g_n = gates_h.chunk(3, dim=-1)
        r = torch.sigmoid(i_r + g_r)
        u = torch.sigmoid(i_u + g_u)
        n = torch.tanh(torch.addcmul(i_n, r, g_n))
        return torch.lerp(n, h, u)


class _RolloutFeatures:
    """The GRU's input product ``W_ix x_t + b_ih`` during a rollout, where only positions and velocities change.

    ``x = [p / scale * present, v / 8 * present, role, goalkeeper, present]`` (:func:`soccerai.models.graph.node_features`),
    so ``W_ix x = W_kin [p / scale, v / 8] * present + (W_rest [role, goalkeeper, present] + b_ih)``, the second part
    fixed for the whole rollout.
    """

    def __init__(self, cell: _Cell, present: Tensor, roles: Tensor, is_goalkeeper: Tensor) -> None:
        self.cell = cell
        self.present = present.unsqueeze(-1).to(cell.weight_x.dtype)  # [G, N, 1]
        zeros = self.present.new_zeros(*present.shape, 4)
        constant = node_features(zeros, present, roles, is_goalkeeper).reshape(-1, N_FEATURES)
        self.constant = cell.gru_input(constant)
        self.weight = torch.cat([cell.weight_x[:, :4], cell.weight_z], dim=1)  # [3H, 4 + Z]
        self.scale = torch.cat([POSITION_SCALE, torch.full((2,), VELOCITY_SCALE)]).to(self.present)

    def gates(self, positions: Tensor, velocity: Tensor, z: Tensor) -> Tensor:
        """``W_i [x_t, z_t] + b_ih`` in one product: ``[W_kin, W_z] [kinematics, z] + constant``."""
        kinematics = (torch.cat([positions, velocity], -1) / self.scale * self.present).reshape(-1, 4)
        return torch.addmm(self.constant, torch.cat([kinematics, z], -1), self.weight.T)
