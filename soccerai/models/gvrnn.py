"""GVRNN (Yeh, Schwing, Huang, Murphy, CVPR 2019): the per-agent VRNN whose prior, posterior and decoder are graph
networks shared across agents.

Each of the three networks is one round of message passing (:class:`soccerai.models.layers.MPNNBlock`),
``e_kj = f_e([v_k, v_j])``, ``o_k = f_v(sum_j e_kj)``, over the complete graph of present agents (or the edges of
the window graph when the batch carries them). Because every function is shared across agents and the aggregation
is a sum, the model is permutation-equivariant. All the recurrence, loss and honest-rollout code lives in
:class:`soccerai.models.vrnn.VRNN`; this class only changes the default interaction encoder.

``encoder`` may name any encoder of :mod:`soccerai.models.encoders` instead (GCN, GAT, SAGE, Graphormer, SAT). Each
must keep its outputs at the scale of its inputs whatever the number of agents: an output scale that grows with the
degree is amplified through the posterior latent, the decoder and the rollout (a sum-aggregating GraphSAGE sent
forecasts 6e4 m off the pitch, see :mod:`soccerai.models.encoders.sage`), and a feature that encodes the agent count
is out of distribution on real clips with fewer tracked players (see :mod:`soccerai.models.encoders.graphormer`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from soccerai.models.vrnn import VRNN, VRNNConfig


@dataclass
class GVRNNConfig(VRNNConfig):
    """A :class:`VRNNConfig` whose networks are graph networks (``encoder`` names one in ``INTERACTION_ENCODERS``)."""

    encoder: str = "mpnn"


class GVRNN(VRNN):
    """Graph VRNN: per-agent latents and GRU states, graph-network prior / posterior / decoder."""

    name: ClassVar[str] = "gvrnn"
    config_class: ClassVar[type[VRNNConfig]] = GVRNNConfig
