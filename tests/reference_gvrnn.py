"""The GVRNN / VRNN implementation before the speed work of issue #19, kept as the in-run baseline.

``benchmarks/train_speed.py`` times it beside :class:`soccerai.models.vrnn.VRNN` and ``tests/test_train_speed.py``
checks that both give the same loss and the same samples from the same weights. It is the former code verbatim: a
Python loop over frames running all three networks per frame, ``torch.nn.GRUCell``, and the message passing block
that materialises every message as one ``[G, N, N, H]`` tensor. :func:`reference_model` builds it with the same
module names as the library's model, so ``load_state_dict`` moves weights either way. Tests and the benchmark only.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing

from soccerai.errors import InvalidParameterError
from soccerai.models.base import TrajectoryBatch, TrajectoryModel
from soccerai.models.complete_graph import CompleteGraph, is_complete_graph
from soccerai.models.encoders import ENCODERS
from soccerai.models.graph import NODE_FEATURES, VELOCITY_SCALE, complete_edges, node_features, repeat_edges
from soccerai.models.layers import gaussian_kl, gaussian_nll, mlp, split_gaussian
from soccerai.models.vrnn import VRNNConfig, kinematic_states
from soccerai.windows.container import DT

N_FEATURES = len(NODE_FEATURES)


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
        first, second = self.edge_mlp[0], self.edge_mlp[2]
        receiver = x @ first.weight[:, : self.in_dim].T + first.bias
        sender = x @ first.weight[:, self.in_dim :].T
        if isinstance(edge_index, CompleteGraph):
            pooled, in_degree = self._dense_pool(receiver, sender, edge_index)
        else:
            pooled = self.propagate(edge_index, receiver=receiver, sender=sender)
            in_degree = torch.zeros(x.shape[0], 1, dtype=x.dtype, device=x.device)
            ones = torch.ones(edge_index.shape[1], 1, dtype=x.dtype, device=x.device)
            in_degree.index_add_(0, edge_index[1], ones)
        bias_weight = in_degree if self.aggr == "sum" else (in_degree > 0).to(x.dtype)
        messages = pooled @ second.weight.T + bias_weight * second.bias
        return self.node_mlp(messages)

    def _dense_pool(self, receiver: Tensor, sender: Tensor, graph: CompleteGraph) -> tuple[Tensor, Tensor]:
        """``(pooled [M, H], in_degree [M, 1])`` over a complete graph, messages as one ``[G, N, N, H]`` tensor.

        Absent senders get a ``-inf`` pre-activation, so their ReLU message is exactly 0; the sum over all present
        ``j`` then includes the self-pair ``j = k``, which is subtracted (``ReLU(r_k + s_k)``), and absent
        receivers are zeroed. One broadcast add, one ReLU and one sum touch the big tensor.
        """
        g, n = graph.present.shape
        present = graph.present.unsqueeze(-1)  # [G, N, 1]
        receiver = receiver.view(g, n, -1)
        sender = sender.view(g, n, -1).masked_fill(~present, float("-inf"))
        messages = (receiver.unsqueeze(2) + sender.unsqueeze(1)).relu_()  # [G, k, j, H], ReLU in place
        pooled = (messages.sum(dim=2) - torch.relu(receiver + sender)) * present
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


class ReferenceVRNN(TrajectoryModel):
    """Per-agent VRNN (see module docstring). ``config.encoder`` picks the interaction encoder."""

    name: ClassVar[str] = "reference_vrnn"

    def __init__(self, config: VRNNConfig | None = None) -> None:
        super().__init__()
        self.config = config or VRNNConfig()
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
        """
        if self.config.encoder == "none":
            return None
        present = batch.mask[:, batch.obs_len - 1]
        edges = batch.edge_index
        complete = edges is None or is_complete_graph(edges, present)
        if complete and isinstance(self.prior_net, MPNNBlock):  # the former code's only dense encoder
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

    def _sample(self, history: TrajectoryBatch, horizon: int, n_samples: int, predict_mask: Tensor,
                given_future: Tensor, generator: torch.Generator | None, latent_noise: Tensor | None = None) -> Tensor:
        """Honest rollout (``TrajectoryModel.sample`` wraps it: eval mode, no gradients)."""
        b, n, latent = history.batch_size, history.n_agents, self.config.latent
        device = history.states.device
        if latent_noise is None:
            latent_noise = torch.randn(n_samples, horizon, b, n, latent, generator=generator, device=device)
        return self._rollout(history, horizon, n_samples, predict_mask, given_future, latent_noise, generator)

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


def build_encoder(name: str, in_dim: int, hidden: int, out_dim: int, aggregation: str = "sum") -> nn.Module:
    """The former registry: the old message passing block for ``mpnn``, the library's encoders otherwise."""
    registry: dict = {"mpnn": MPNNBlock, "none": PerAgentBlock, **ENCODERS}
    return registry[name](in_dim, hidden, out_dim, aggregation)


def reference_model(config: VRNNConfig) -> ReferenceVRNN:
    """The former (G)VRNN with ``config`` (a :class:`VRNNConfig` or :class:`GVRNNConfig`)."""
    return ReferenceVRNN(config)
