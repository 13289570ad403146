"""Transformer over agents x time: an encoder over the observed history, a decoder over the future.

Tokens are (agent, frame) pairs. Attention is factorised (as in Scene Transformer / AgentFormer): a *temporal*
layer attends along one agent's frames, a *social* layer across the agents of one frame. No agent index is
embedded (agents are told apart by their role / goalkeeper features), so the model is permutation-equivariant.

* Encoder, per block: temporal self-attention over each agent's ``T_obs`` history tokens
  ``Linear(node features) + time embedding``, then social self-attention over the agents at each frame.
* Decoder, per block: temporal self-attention over each agent's ``H`` future queries with cross-attention to that
  agent's encoded history (``nn.TransformerDecoderLayer``), then social self-attention across agents per future
  step. Query ``(k, t) = step embedding_t + summary_k + given_{k,t}``, where ``given_{k,t}`` embeds the given
  agent's true offset ``(p_{k,t} - p_{k,0}) / 10`` and a flag (zero for predicted agents: they never see it).
* Output ``Linear(d, 2)``: velocity corrections ``delta`` integrated to positions (:mod:`soccerai.models.scene`).

Absent agents (untracked at the last observed frame) are masked out of social attention. Deterministic, trained on
the predicted agents' ADE like :mod:`soccerai.models.ae`; every sample is the same forecast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor, nn

from soccerai.models.base import TrajectoryBatch
from soccerai.models.encoders.graphormer import n_heads_for
from soccerai.models.graph import NODE_FEATURES, node_features
from soccerai.models.scene import GIVEN_SCALE, GeneratorConfig, SceneGenerator, masked_mean
from soccerai.models.vrnn import kinematic_states

MAX_OBSERVED = 64


@dataclass
class TransformerConfig(GeneratorConfig):
    """Width, depth and horizon of the transformer."""

    layers: int = 1
    heads: int = 4


def _layer(hidden: int, heads: int) -> nn.TransformerEncoderLayer:
    return nn.TransformerEncoderLayer(hidden, heads, 2 * hidden, dropout=0.0, batch_first=True, norm_first=True)


class SceneTransformer(nn.Module):
    """History + given futures -> velocity corrections ``[B*N, H, 2]`` (see module docstring)."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        d, heads = config.hidden, n_heads_for(config.hidden, config.heads)
        self.horizon = config.horizon
        self.embed = nn.Linear(len(NODE_FEATURES), d)
        self.observed_time = nn.Embedding(MAX_OBSERVED, d)
        self.future_time = nn.Embedding(config.horizon, d)
        self.given = nn.Linear(3, d)
        self.encoder_temporal = nn.ModuleList(_layer(d, heads) for _ in range(config.layers))
        self.encoder_social = nn.ModuleList(_layer(d, heads) for _ in range(config.layers))
        self.decoder_temporal = nn.ModuleList(
            nn.TransformerDecoderLayer(d, heads, 2 * d, dropout=0.0, batch_first=True, norm_first=True)
            for _ in range(config.layers)
        )
        self.decoder_social = nn.ModuleList(_layer(d, heads) for _ in range(config.layers))
        self.norm = nn.LayerNorm(d)
        self.out = nn.Linear(d, 2)

    def forward(self, history: TrajectoryBatch, predict_mask: Tensor, given_future: Tensor) -> Tensor:
        obs = history.obs_len
        states = kinematic_states(history.states[:, :obs], history.mask[:, :obs])
        b, t, n, _ = states.shape
        absent = self._absent(history.mask[:, obs - 1])
        tokens = self.embed(node_features(states, history.mask[:, :obs], history.roles, history.is_goalkeeper[:, None]))
        tokens = tokens + self.observed_time(torch.arange(t, device=states.device))[None, :, None]
        memory = self._factorised(tokens, absent, self.encoder_temporal, self.encoder_social, None)
        memory = memory.transpose(1, 2).reshape(b * n, t, -1)
        queries = self.future_time.weight[None, :, None] + memory[:, -1].view(b, 1, n, -1)
        queries = queries + self.given(self._given_features(states[:, -1, :, :2], predict_mask, given_future))
        decoded = self._factorised(queries, absent, self.decoder_temporal, self.decoder_social, memory)
        return self.out(self.norm(decoded)).transpose(1, 2).reshape(b * n, self.horizon, 2)

    @staticmethod
    def _absent(present: Tensor) -> Tensor:
        """Social key-padding mask ``[B, N]``; a scene with nobody present keeps everyone (no empty softmax)."""
        absent = ~present
        return absent & ~absent.all(dim=1, keepdim=True)

    @staticmethod
    def _factorised(
        tokens: Tensor, absent: Tensor, temporal: nn.ModuleList, social: nn.ModuleList, memory: Tensor | None
    ) -> Tensor:
        """Alternate temporal and social attention over ``tokens [B, T, N, d]``."""
        b, t, n, d = tokens.shape
        for temporal_layer, social_layer in zip(temporal, social, strict=True):
            per_agent = tokens.transpose(1, 2).reshape(b * n, t, d)
            per_agent = temporal_layer(per_agent) if memory is None else temporal_layer(per_agent, memory)
            tokens = per_agent.view(b, n, t, d).transpose(1, 2)
            per_frame = social_layer(tokens.reshape(b * t, n, d), src_key_padding_mask=absent.repeat_interleave(t, 0))
            tokens = per_frame.view(b, t, n, d)
        return tokens

    def _given_features(self, last_position: Tensor, predict_mask: Tensor, given_future: Tensor) -> Tensor:
        """``[B, H, N, 3]``: given offsets / 10 m and the is-given flag (zeros for predicted agents)."""
        b, h, n, _ = given_future.shape
        if h < self.horizon:
            given_future = torch.cat([given_future, given_future[:, -1:].expand(b, self.horizon - h, n, 2)], 1)
        is_given = (~predict_mask)[:, None, :, None].expand(b, self.horizon, n, 1)
        offsets = (given_future[:, : self.horizon] - last_position[:, None]) / GIVEN_SCALE
        offsets = torch.where(is_given, offsets, torch.zeros_like(offsets))
        return torch.cat([offsets, is_given.to(offsets.dtype)], dim=-1)


class TrajectoryTransformer(SceneGenerator):
    """Encoder-decoder transformer forecaster; its "context" is the decoded corrections ``[B*N, H, 2]``."""

    name: ClassVar[str] = "transformer"
    config_class: ClassVar[type[TransformerConfig]] = TransformerConfig

    def __init__(self, config: TransformerConfig | None = None) -> None:
        super().__init__(config)
        self.scene = SceneTransformer(self.config)

    def context_loss(self, context: Tensor, batch: TrajectoryBatch, target: Tensor, scored: Tensor) -> dict[str, Tensor]:
        ade = masked_mean(self.positions_error(context, batch, scored), scored)
        return {"loss": ade, "ade": ade}

    def sample_delta(self, context: Tensor, n_samples: int, generator: torch.Generator | None) -> Tensor:
        return context.unsqueeze(0).expand(n_samples, -1, -1, -1)
