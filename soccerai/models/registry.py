"""The one model and encoder registry: a name maps to a :class:`TrajectoryModel` class built from its config.

:data:`MODELS` holds every trajectory model; :data:`GENERATORS` names the generic generators (the backbone
benchmark ranks them), :func:`encoder_names` the GVRNN interaction encoders (``soccerai.models.layers`` builds them
with ``build_encoder``). The CLI, the benchmarks and the dashboard enumerate these, never their own lists.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from soccerai.errors import InvalidParameterError
from soccerai.models.ae import AutoEncoder
from soccerai.models.base import TrajectoryModel
from soccerai.models.baselines import ConstantVelocity
from soccerai.models.diffusion import TrajectoryDiffusion
from soccerai.models.gan import TrajectoryGAN
from soccerai.models.gvrnn import GVRNN
from soccerai.models.layers import INTERACTION_ENCODERS
from soccerai.models.transformer import TrajectoryTransformer
from soccerai.models.vae import ConditionalVAE
from soccerai.models.vrnn import VRNN

MODELS: dict[str, type[TrajectoryModel]] = {
    cls.name: cls
    for cls in (
        ConstantVelocity, VRNN, GVRNN, AutoEncoder, ConditionalVAE, TrajectoryGAN, TrajectoryDiffusion,
        TrajectoryTransformer,
    )
}


GENERATORS: tuple[str, ...] = tuple(
    cls.name for cls in (AutoEncoder, ConditionalVAE, TrajectoryGAN, TrajectoryDiffusion, TrajectoryTransformer)
)
"""The generic generators (each with the MPNN scene encoder), in benchmark order."""


def model_names() -> list[str]:
    return sorted(MODELS)


def encoder_names() -> tuple[str, ...]:
    """The GVRNN interaction encoders with neighbours (``mpnn`` first; ``none``, per-agent only, is left out)."""
    return tuple(name for name in INTERACTION_ENCODERS if name != "none")


def config_from_dict(name: str, values: dict[str, Any] | None = None) -> Any:
    """The config dataclass of model ``name`` filled from ``values`` (unknown keys are an error)."""
    cls = _model_class(name)
    known = {f.name for f in fields(cls.config_class)}
    unknown = set(values or {}) - known
    if unknown:
        raise InvalidParameterError(f"unknown {name} config fields: {', '.join(sorted(unknown))}")
    return cls.config_class(**(values or {}))


def build_model(name: str, config: Any = None) -> TrajectoryModel:
    """``build_model("gvrnn", GVRNNConfig(hidden=32))``; ``config`` may also be a dict or None (defaults)."""
    cls = _model_class(name)
    if config is None or isinstance(config, dict):
        config = config_from_dict(name, config)
    if not isinstance(config, cls.config_class):
        raise InvalidParameterError(f"{name} needs a {cls.config_class.__name__}, got {type(config).__name__}")
    return cls(config)


def _model_class(name: str) -> type[TrajectoryModel]:
    if name not in MODELS:
        raise InvalidParameterError(f"unknown model {name!r}; choose one of {', '.join(model_names())}")
    return MODELS[name]
