"""VRNN with per-agent latents and recurrent states; its networks are interaction encoders shared across agents.

For every agent ``k`` and frame ``t`` (Chung et al. 2015; Yeh et al. 2019 for the multi-agent form)::

    prior:     [mu, sigma]_p = Enc_prior(h_{t-1})
    posterior: [mu, sigma]_q = Enc_post([x_t, h_{t-1}])
    decoder:   [mu, sigma]_v = Enc_dec([z_t, h_{t-1}]),   z_t ~ q (training) or p (sampling)
    recurrence: h_t = GRU([x_t, z_t], h_{t-1})

``x_t`` are the node features of :func:`soccerai.graph.node_features` (position, velocity, role, goalkeeper,
present) and the decoder models the velocity ``v_t = (p_t - p_{t-1}) / dt``: with ``residual_velocity`` (default)
as the change ``v_t - v_{t-1}`` in m/s (so an untrained decoder starts as constant velocity; ``v_{t-1}`` is the
true one in training and the model's own in sampling), otherwise as ``v_t / 8``. Training maximises the ELBO,
``loss = sum_{t,k} [ NLL(v_{t,k}) + beta * KL(q || p) ] / #valid``. With ``encoder="none"`` each ``Enc`` is an MLP
applied to each agent alone (VRNN without interaction, this module); with ``encoder="mpnn"`` it is one round of
message passing over the agents (GVRNN, :mod:`soccerai.models.gvrnn`).

Sampling (honest protocol): the history is encoded with posterior means; every future step draws ``z`` from the
prior, takes the decoder mean velocity (plus its noise if ``decoder_noise``), integrates ``p += v * dt`` and feeds
back ONLY the model's own positions and velocities for predicted agents (given agents follow ``given_future``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor, nn

from soccerai.graph import NODE_FEATURES, VELOCITY_SCALE, complete_edges, node_features, repeat_edges
from soccerai.models.base import (
    DT,
    TrajectoryBatch,
    TrajectoryModel,
    check_sample_args,
    resolve_predict_mask,
)
from soccerai.models.layers import (
    CompleteGraph,
    build_encoder,
    gaussian_kl,
    gaussian_nll,
    is_complete_graph,
    split_gaussian,
)

N_FEATURES = len(NODE_FEATURES)


@dataclass
class VRNNConfig:
    """Sizes and options of a (G)VRNN; saved with every checkpoint."""

    hidden: int = 64
    latent: int = 16
    encoder: str = "none"
    kl_weight: float = 1.0
    decoder_noise: bool = False
    residual_velocity: bool = True
    aggregation: str = "sum"


def kinematic_states(states: Tensor, mask: Tensor) -> Tensor:
    """States whose velocity is the backward difference ``(p_t - p_{t-1}) / dt`` where both frames are tracked.

    That is the quantity the decoder predicts and the rollout integrates, so training and sampling see the same
    velocity feature. Elsewhere (first frame, re-appearing agents) the given smoothed velocity is kept.
    """
    positions = states[..., :2]
    backward = (positions[:, 1:] - positions[:, :-1]) / DT
    tracked_both = (mask[:, 1:] & mask[:, :-1]).unsqueeze(-1)
    velocity = states[..., 2:4].clone()
    velocity[:, 1:] = torch.where(tracked_both, backward, states[:, 1:, :, 2:4])
    return torch.cat([positions, velocity], dim=-1)


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
        graphs of :mod:`soccerai.graph` carry by default) goes to encoders that support it as a dense
        :class:`CompleteGraph`, which is the same maths without an edge list; other graphs as ``edge_index``.
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
    def _interact(net: nn.Module, inputs: Tensor, edges: Tensor | CompleteGraph | None, positions: Tensor) -> Tensor:
        """Run one of the three networks over the agents ``[M, F] -> [M, out]``.

        Position-aware encoders (``uses_positions``: Graphormer, SAT) also get the agents' positions ``[G, N, 2]``
        in metres (the last known ones: the prior's and the decoder's inputs hold no positions of their own).
        """
        if getattr(net, "uses_positions", False):
            return net(inputs, edges, positions.reshape(-1, 2))
        return net(inputs, edges)

    def _features(self, states: Tensor, present: Tensor, batch: TrajectoryBatch) -> Tensor:
        """Flattened node features ``[M, F]`` from states ``[G, N, 4]`` (``G`` = copies x batch)."""
        copies = states.shape[0] // batch.batch_size
        goalkeeper = batch.is_goalkeeper.repeat(copies, 1)
        return node_features(states, present, batch.roles, goalkeeper).reshape(-1, N_FEATURES)

    def _encode_history(self, batch: TrajectoryBatch, states: Tensor, copies: int, edges: Tensor | None) -> Tensor:
        """Run the recurrence over the observed frames with posterior means; returns ``h`` ``[M, H]``."""
        mask = batch.mask[:, : batch.obs_len].repeat(copies, 1, 1)
        states = states.repeat(copies, 1, 1, 1)
        m = states.shape[0] * batch.n_agents
        h = states.new_zeros(m, self.config.hidden)
        z = states.new_zeros(m, self.config.latent)
        for t in range(batch.obs_len):
            x = self._features(states[:, t], mask[:, t], batch)
            if t > 0:
                posterior = self._interact(self.posterior_net, torch.cat([x, h], -1), edges, states[:, t, :, :2])
                z, _ = split_gaussian(posterior)
            h = self.rnn(torch.cat([x, z], -1), h)
        return h

    def _velocity_target(self, velocity: Tensor, previous: Tensor) -> Tensor:
        """What the decoder models: ``v_t - v_{t-1}`` (residual) or ``v_t / 8``."""
        return velocity - previous if self.config.residual_velocity else velocity / VELOCITY_SCALE

    def _velocity_from_output(self, output: Tensor, previous: Tensor) -> Tensor:
        """Inverse of :meth:`_velocity_target`."""
        return previous + output if self.config.residual_velocity else output * VELOCITY_SCALE

    # -- TrajectoryModel -----------------------------------------------------------------------------------------
    def loss(self, batch: TrajectoryBatch) -> dict[str, Tensor]:
        """Negative ELBO per valid agent-frame, with its NLL and KL parts."""
        states = kinematic_states(batch.states, batch.mask)
        edges = self._edges(batch, 1)
        m = batch.batch_size * batch.n_agents
        h = states.new_zeros(m, self.config.hidden)
        x = self._features(states[:, 0], batch.mask[:, 0], batch)
        h = self.rnn(torch.cat([x, states.new_zeros(m, self.config.latent)], -1), h)
        nll_sum = kl_sum = states.new_zeros(())
        n_valid = states.new_zeros(())
        for t in range(1, states.shape[1]):
            x = self._features(states[:, t], batch.mask[:, t], batch)
            known, current = states[:, t - 1, :, :2], states[:, t, :, :2]
            prior_mean, prior_log_std = split_gaussian(self._interact(self.prior_net, h, edges, known))
            post_mean, post_log_std = split_gaussian(
                self._interact(self.posterior_net, torch.cat([x, h], -1), edges, current)
            )
            z = post_mean + torch.randn_like(post_mean) * post_log_std.exp()
            decoded = self._interact(self.decoder_net, torch.cat([z, h], -1), edges, known)
            velocity_mean, velocity_log_std = split_gaussian(decoded)
            target = self._velocity_target(states[:, t, :, 2:4], states[:, t - 1, :, 2:4]).reshape(-1, 2)
            valid = (batch.mask[:, t] & batch.mask[:, t - 1]).reshape(-1).to(states.dtype)
            nll_sum = nll_sum + (gaussian_nll(target, velocity_mean, velocity_log_std) * valid).sum()
            kl_sum = kl_sum + (gaussian_kl(post_mean, post_log_std, prior_mean, prior_log_std) * valid).sum()
            n_valid = n_valid + valid.sum()
            h = self.rnn(torch.cat([x, z], -1), h)
        n_valid = n_valid.clamp_min(1.0)
        nll, kl = nll_sum / n_valid, kl_sum / n_valid
        return {"loss": nll + self.config.kl_weight * kl, "nll": nll, "kl": kl}

    def sample(
        self,
        history: TrajectoryBatch,
        horizon: int,
        n_samples: int,
        predict_mask: Tensor | None = None,
        given_future: Tensor | None = None,
        generator: torch.Generator | None = None,
        latent_noise: Tensor | None = None,
    ) -> Tensor:
        """Future positions ``[S, B, H, N, 2]`` (honest rollout, eval mode, no gradients).

        ``latent_noise [S, H, B, N, Z]`` (standard normal) fixes the prior draws; by default it comes from
        ``generator``. Decoder noise, when enabled, is drawn from ``generator`` too.
        """
        check_sample_args(n_samples)
        predict_mask, given_future = resolve_predict_mask(history, horizon, predict_mask, given_future)
        b, n, latent = history.batch_size, history.n_agents, self.config.latent
        device = history.states.device
        if latent_noise is None:
            latent_noise = torch.randn(n_samples, horizon, b, n, latent, generator=generator, device=device)
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                return self._rollout(history, horizon, n_samples, predict_mask, given_future, latent_noise, generator)
        finally:
            self.train(was_training)

    def _rollout(
        self,
        history: TrajectoryBatch,
        horizon: int,
        copies: int,
        predict_mask: Tensor,
        given_future: Tensor,
        latent_noise: Tensor,
        generator: torch.Generator | None,
    ) -> Tensor:
        b, n = history.batch_size, history.n_agents
        obs = history.obs_len
        observed = kinematic_states(history.states[:, :obs], history.mask[:, :obs])
        edges = self._edges(history, copies)
        h = self._encode_history(history, observed, copies, edges)
        present = history.mask[:, obs - 1].repeat(copies, 1)
        predicted = predict_mask.repeat(copies, 1).unsqueeze(-1)  # [S*B, N, 1]
        given = given_future.repeat(copies, 1, 1, 1)  # [S*B, H, N, 2]
        positions = observed[:, -1, :, :2].repeat(copies, 1, 1)
        velocity = observed[:, -1, :, 2:4].repeat(copies, 1, 1)
        out = []
        for step in range(horizon):
            z_mean, z_log_std = split_gaussian(self._interact(self.prior_net, h, edges, positions))
            z = z_mean + z_log_std.exp() * latent_noise[:, step].reshape(-1, self.config.latent)
            v_mean, v_log_std = split_gaussian(self._interact(self.decoder_net, torch.cat([z, h], -1), edges, positions))
            if self.config.decoder_noise:
                v_mean = v_mean + v_log_std.exp() * torch.randn(v_mean.shape, generator=generator, device=v_mean.device)
            own_velocity = self._velocity_from_output(v_mean.reshape(copies * b, n, 2), velocity)
            given_velocity = (given[:, step] - positions) / DT
            velocity = torch.where(predicted, own_velocity, given_velocity)
            positions = torch.where(predicted, positions + own_velocity * DT, given[:, step])
            x = self._features(torch.cat([positions, velocity], -1), present, history)
            h = self.rnn(torch.cat([x, z], -1), h)
            out.append(positions)
        return torch.stack(out, dim=1).reshape(copies, b, horizon, n, 2)
