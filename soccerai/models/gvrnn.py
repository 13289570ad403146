"""GVRNN (Yeh, Schwing, Huang, Murphy, CVPR 2019): the per-agent VRNN whose prior, posterior and decoder are graph
networks shared across agents.

Each of the three networks is one round of message passing (:class:`soccerai.models.layers.MPNNBlock`),
``e_kj = f_e([v_k, v_j])``, ``o_k = f_v(sum_j e_kj)``, over the complete graph of present agents (or the edges of
the window graph when the batch carries them). Because every function is shared across agents and the aggregation
is a sum, the model is permutation-equivariant. All the recurrence, loss and honest-rollout code lives in
:class:`soccerai.models.vrnn.VRNN`; this class only changes the default interaction encoder.
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
