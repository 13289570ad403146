"""What the one-shot generators (AE, CVAE, GAN, diffusion) share: a scene context per agent and the ghosting glue.

Context of agent ``k`` (``[B*N, hidden]``)::

    h_k   = GRU over the observed node features of k (:func:`soccerai.models.graph.node_features` of the kinematic states)
    g_k   = MLP([given_k, is_given_k])     given_k = (given future - last observed position) / 10 m, 0 if predicted
    c_k   = (h_k + g_k) + Enc((h + g), edges, pos)_k

``Enc`` is an interaction encoder chosen by name (``mpnn``, ``gcn``, ``gat``, ``sage``, ``graphormer``, ``sat``,
``none``) over the complete graph of agents present at the last observed frame; ``pos`` are their last observed
positions in metres. ``g_k`` lets given agents' true futures (conditional "ghosting") inform the others through
``Enc``; a predicted agent's own ``given_k`` is always zero, so it never reads its own true future.

Generators output per-agent velocity corrections ``delta [.., H, 2]`` (m/s) to the last observed velocity ``v_0``;
positions integrate them, ``p_t = p_0 + dt * sum_{s<=t} (v_0 + delta_s)``, so an untrained model starts close to
constant velocity. Training draws a random ghosting mask per window (``ghosting_rate``): all agents predicted, or
``GHOSTED`` random players predicted and the rest given.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from soccerai.errors import InvalidParameterError
from soccerai.models.base import TrajectoryBatch, TrajectoryModel
from soccerai.models.graph import NODE_FEATURES, complete_edges, node_features
from soccerai.models.layers import CompleteGraph, build_encoder, mlp
from soccerai.models.vrnn import kinematic_states
from soccerai.windows.container import BALL_INDEX, DT

GIVEN_SCALE = 10.0
GHOSTED = 3
DELTA_SCALE = 3.0
"""m/s: the velocity corrections ``delta`` are divided by this where a generator's network reads them (the CVAE
posterior, the GAN discriminator, the diffusion chain's ``x0``; diffusion's samples are multiplied back)."""


@dataclass
class GeneratorConfig:
    """What every one-shot generator's config holds: its width, the future frames it decodes at once (40 = 4 s at
    10 Hz) and the share of training windows with a random ghosting mask (:func:`training_ghosting`)."""

    hidden: int = 64
    horizon: int = 40
    ghosting_rate: float = 0.5


@dataclass
class SceneConfig(GeneratorConfig):
    """A :class:`GeneratorConfig` whose context comes from a :class:`SceneEncoder` (``encoder`` names its interaction
    encoder, ``aggregation`` how messages are pooled)."""

    encoder: str = "mpnn"
    aggregation: str = "sum"


class SceneEncoder(nn.Module):
    """History + given futures -> per-agent context ``[B*N, hidden]`` (see module docstring)."""

    def __init__(self, hidden: int, horizon: int, encoder: str = "mpnn", aggregation: str = "sum") -> None:
        super().__init__()
        self.horizon = horizon
        self.rnn = nn.GRU(len(NODE_FEATURES), hidden, batch_first=True)
        self.given = mlp(2 * horizon + 1, hidden, hidden)
        self.interaction = build_encoder(encoder, hidden, hidden, hidden, aggregation)

    @classmethod
    def from_config(cls, config: SceneConfig) -> SceneEncoder:
        return cls(config.hidden, config.horizon, config.encoder, config.aggregation)

    def forward(self, history: TrajectoryBatch, predict_mask: Tensor, given_future: Tensor) -> Tensor:
        obs = history.obs_len
        states = kinematic_states(history.states[:, :obs], history.mask[:, :obs])
        b, t, n, _ = states.shape
        features = node_features(states, history.mask[:, :obs], history.roles, history.is_goalkeeper[:, None])
        _, h = self.rnn(features.permute(0, 2, 1, 3).reshape(b * n, t, -1))
        h = h[0] + self.given(self._given_features(states[:, -1, :, :2], predict_mask, given_future))
        present = history.mask[:, obs - 1]
        # the complete graph of present agents, dense where the encoder takes it (MPNN: the fused ReLU pool)
        edges = CompleteGraph(present) if getattr(self.interaction, "supports_dense", False) else complete_edges(present)
        pos = states[:, -1, :, :2].reshape(b * n, 2)
        if getattr(self.interaction, "uses_positions", False):
            return h + self.interaction(h, edges, pos=pos)
        return h + self.interaction(h, edges)

    def _given_features(self, last_position: Tensor, predict_mask: Tensor, given_future: Tensor) -> Tensor:
        """``[B*N, 2*horizon + 1]``: given offsets (padded / cut to ``horizon``) and the is-given flag."""
        b, h, n, _ = given_future.shape
        if h < self.horizon:
            given_future = torch.cat([given_future, given_future[:, -1:].expand(b, self.horizon - h, n, 2)], 1)
        offsets = (given_future[:, : self.horizon] - last_position[:, None]) / GIVEN_SCALE
        is_given = ~predict_mask
        offsets = torch.where(is_given[:, None, :, None], offsets, torch.zeros_like(offsets))  # NaN-free
        flat = offsets.permute(0, 2, 1, 3).reshape(b * n, -1)
        return torch.cat([flat, is_given.reshape(b * n, 1).to(flat.dtype)], dim=-1)


def last_kinematics(history: TrajectoryBatch) -> tuple[Tensor, Tensor]:
    """Last observed positions and backward-difference velocities, each ``[B, N, 2]``."""
    obs = history.obs_len
    states = kinematic_states(history.states[:, :obs], history.mask[:, :obs])
    return states[:, -1, :, :2], states[:, -1, :, 2:4]


def integrate(last_position: Tensor, last_velocity: Tensor, delta: Tensor) -> Tensor:
    """Positions ``[..., B, H, N, 2]`` from velocity corrections ``delta [..., B, H, N, 2]`` (module docstring)."""
    velocity = last_velocity.unsqueeze(-3) + delta
    return last_position.unsqueeze(-3) + DT * velocity.cumsum(dim=-3)


def residual_target(batch: TrajectoryBatch) -> Tensor:
    """The ``delta [B, H, N, 2]`` that :func:`integrate` maps onto the true future (m/s)."""
    last_position, last_velocity = last_kinematics(batch.history())
    future = batch.given_future()  # held where untracked: a frame after a gap is not measured from (0, 0)
    previous = torch.cat([last_position.unsqueeze(1), future[:, :-1]], dim=1)
    return (future - previous) / DT - last_velocity.unsqueeze(1)


def compose(predicted: Tensor, predict_mask: Tensor, given_future: Tensor) -> Tensor:
    """Samples ``[S, B, H, N, 2]``: the model's positions for predicted agents, ``given_future`` for the others."""
    return torch.where(predict_mask[None, :, None, :, None], predicted, given_future.unsqueeze(0))


def training_ghosting(batch: TrajectoryBatch, rate: float) -> tuple[Tensor, Tensor]:
    """A random ``predict_mask [B, N]`` (full scene, or ``GHOSTED`` random players with probability ``rate``) and
    the matching ``given_future`` (true futures of the given agents, held where untracked; zero for predicted ones)."""
    b, n = batch.batch_size, batch.n_agents
    device = batch.states.device
    scores = torch.rand(b, n, device=device)
    scores[:, BALL_INDEX] = 2.0  # the ball is never among the ghosted players
    scores = scores.masked_fill(~batch.mask[:, batch.obs_len - 1], 3.0)
    ghosted = torch.zeros(b, n, dtype=torch.bool, device=device)
    ghosted.scatter_(1, scores.topk(GHOSTED, dim=1, largest=False).indices, True)
    use_ghosting = torch.rand(b, 1, device=device) < rate
    predict_mask = torch.where(use_ghosting, ghosted, torch.ones_like(ghosted))
    given = batch.given_future().masked_fill(predict_mask[:, None, :, None], 0.0)
    return predict_mask, given


def scored_mask(batch: TrajectoryBatch, predict_mask: Tensor) -> Tensor:
    """``[B, H, N]``: predicted agents present at the last observed frame and tracked in the future."""
    present = batch.mask[:, batch.obs_len - 1]
    return batch.future_mask() & (predict_mask & present)[:, None, :]


def masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``values`` where ``mask`` (0 when nothing is selected)."""
    weights = mask.to(values.dtype)
    return (values * weights).sum() / weights.sum().clamp_min(1.0)


class SceneGenerator(TrajectoryModel):
    """Base of the one-shot generators: context from :class:`SceneEncoder`, whole-future velocity corrections.

    ``self.scene`` is the :class:`SceneEncoder` of a :class:`SceneConfig` (a subclass with another config sets its
    own module, called the same way); subclasses implement
    :meth:`context_loss` (training) and :meth:`sample_delta` (``[S, B*N, H, 2]`` corrections). ``config`` is a
    :class:`GeneratorConfig`.
    """

    scene: nn.Module

    def __init__(self, config: GeneratorConfig | None = None) -> None:
        super().__init__()
        self.config = config or self.config_class()
        if isinstance(self.config, SceneConfig):
            self.scene = SceneEncoder.from_config(self.config)

    def context_loss(self, context: Tensor, batch: TrajectoryBatch, target: Tensor, scored: Tensor) -> dict[str, Tensor]:
        """Losses from the context ``[B*N, hidden]``, the true ``delta [B, H, N, 2]`` and the ``scored [B, H, N]`` mask."""
        raise NotImplementedError

    def sample_delta(self, context: Tensor, n_samples: int, generator: torch.Generator | None) -> Tensor:
        """``[S, B*N, horizon, 2]`` velocity corrections drawn for every agent."""
        raise NotImplementedError

    def loss(self, batch: TrajectoryBatch) -> dict[str, Tensor]:
        if batch.states.shape[1] - batch.obs_len != self.config.horizon:
            raise InvalidParameterError(
                f"{self.name} trains on windows of {self.config.horizon} future frames, "
                f"got {batch.states.shape[1] - batch.obs_len}"
            )
        predict_mask, given = training_ghosting(batch, self.config.ghosting_rate)
        context = self.scene(batch.history(), predict_mask, given)
        return self.context_loss(context, batch, residual_target(batch), scored_mask(batch, predict_mask))

    def _sample(self, history: TrajectoryBatch, horizon: int, n_samples: int, predict_mask: Tensor,
                given_future: Tensor, generator: torch.Generator | None) -> Tensor:
        self._check_horizon(horizon)
        context = self.scene(history, predict_mask, given_future)
        delta = self.sample_delta(context, n_samples, generator)[:, :, :horizon]
        delta = to_scene_layout(delta, history.batch_size, history.n_agents)
        last_position, last_velocity = last_kinematics(history)
        return compose(integrate(last_position, last_velocity, delta), predict_mask, given_future)

    def _check_horizon(self, horizon: int) -> None:
        if horizon > self.config.horizon:
            raise InvalidParameterError(
                f"{self.name} was built for a horizon of {self.config.horizon} frames, asked for {horizon}"
            )

    def positions_error(self, delta: Tensor, batch: TrajectoryBatch, scored: Tensor) -> Tensor:
        """Per-agent-step displacement ``[..., B, H, N]`` of corrections ``delta [..., B*N, H, 2]`` (metres)."""
        delta = to_scene_layout(delta, batch.batch_size, batch.n_agents)
        last_position, last_velocity = last_kinematics(batch.history())
        return (integrate(last_position, last_velocity, delta) - batch.future_positions()).norm(dim=-1)


def to_scene_layout(delta: Tensor, batch_size: int, n_agents: int) -> Tensor:
    """``[..., B*N, H, 2] -> [..., B, H, N, 2]``."""
    lead = delta.shape[:-3]
    horizon = delta.shape[-2]
    return delta.reshape(*lead, batch_size, n_agents, horizon, 2).transpose(-3, -2)


def to_agent_layout(delta: Tensor) -> Tensor:
    """``[B, H, N, F] -> [B*N, H, F]`` (inverse of :func:`to_scene_layout`)."""
    b, h, n, _ = delta.shape
    return delta.transpose(1, 2).reshape(b * n, h, -1)
