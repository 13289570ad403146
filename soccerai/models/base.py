"""The TrajectoryModel interface and the batch it consumes.

Every forecaster implements two methods:

* ``loss(batch) -> dict[str, Tensor]``: training objective on whole windows (key ``"loss"`` is minimised);
* ``sample(history, horizon, n_samples, predict_mask, given_future) -> Tensor [S, B, H, N, 2]``: future positions.

``predict_mask [B, N]`` picks the agents the model forecasts; every other agent is GIVEN its true future through
``given_future [B, H, N, 2]`` (conditional "ghosting", as in C-OBSO where A1, D1, D2 are predicted and the other 20
agents are given). Models predict velocities and integrate positions, ``p_t = p_{t-1} + v_t * dt`` with
``dt = 0.1 s``. A model must never read ``given_future`` of a predicted agent: that is the evaluation leak of the
C-OBSO reference code, and ``tests/test_models.py`` checks it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from soccerai.errors import InvalidParameterError
from soccerai.windows.container import TrajectoryWindows, agent_roles


@dataclass
class TrajectoryBatch:
    """Windows as tensors.

    Attributes:
        states: ``[B, T, N, 4]`` x, y, vx, vy (metres, m/s).
        mask: bool ``[B, T, N]``, True where tracked.
        is_goalkeeper: bool ``[B, N]``.
        roles: long ``[N]``: 0 attacker, 1 defender, 2 ball.
        obs_len: observed frames at the start of each window.
        edge_index: optional ``[2, E]`` edges over the flattened ``B * N`` nodes; None (what windows give): models
            that need a graph build the complete one (:mod:`soccerai.models.graph`).
    """

    states: Tensor
    mask: Tensor
    is_goalkeeper: Tensor
    roles: Tensor
    obs_len: int
    edge_index: Tensor | None = None

    @property
    def batch_size(self) -> int:
        return self.states.shape[0]

    @property
    def n_agents(self) -> int:
        return self.states.shape[2]

    def to(self, device: torch.device | str) -> TrajectoryBatch:
        edges = None if self.edge_index is None else self.edge_index.to(device)
        return TrajectoryBatch(
            self.states.to(device), self.mask.to(device), self.is_goalkeeper.to(device),
            self.roles.to(device), self.obs_len, edges,
        )

    def history(self) -> TrajectoryBatch:
        """The observed part only (``T = obs_len``): what a forecaster may see."""
        return TrajectoryBatch(
            self.states[:, : self.obs_len], self.mask[:, : self.obs_len], self.is_goalkeeper,
            self.roles, self.obs_len, self.edge_index,
        )

    def future_positions(self) -> Tensor:
        """True future positions ``[B, H, N, 2]``."""
        return self.states[:, self.obs_len :, :, :2]

    def future_mask(self) -> Tensor:
        """``[B, H, N]``: True where the future position is known."""
        return self.mask[:, self.obs_len :]

    def given_future(self) -> Tensor:
        """Future positions ``[B, H, N, 2]`` to GIVE agents (ghosting), never an untracked (0, 0).

        Where an agent is untracked at a future frame it holds its last tracked position of the window
        (:func:`hold_last_tracked`); the given agents of broadcast tracking leave the camera view mid-window.
        """
        return hold_last_tracked(self.states[..., :2], self.mask)[:, self.obs_len :]

    def present(self) -> Tensor:
        """``[B, N]``: agents tracked at the last observed frame, the only ones a model may forecast."""
        return self.mask[:, self.obs_len - 1]

    @staticmethod
    def from_windows(windows: TrajectoryWindows, index: Any = slice(None)) -> TrajectoryBatch:
        """Tensors of ``windows[index]`` (no edges: models that need them build complete graphs)."""
        return TrajectoryBatch(
            states=torch.as_tensor(windows.states[index], dtype=torch.float32),
            mask=torch.as_tensor(windows.mask[index], dtype=torch.bool),
            is_goalkeeper=torch.as_tensor(windows.is_goalkeeper[index], dtype=torch.bool),
            roles=torch.as_tensor(agent_roles()),
            obs_len=windows.obs_len,
        )


def hold_last_tracked(positions: Tensor, mask: Tensor) -> Tensor:
    """Forward-fill ``positions [B, T, N, 2]`` along ``T`` where ``mask [B, T, N]`` is False.

    ``out_{t,k} = positions_{s,k}`` with ``s = max{s' <= t : mask_{s',k}}``; frames before an agent's first tracked
    frame keep their (zero) value, and such an agent is absent for the models anyway (``present = 0``).
    """
    t = positions.shape[1]
    steps = torch.arange(t, device=positions.device).view(1, t, 1).expand_as(mask)
    last = torch.where(mask, steps, torch.zeros_like(steps)).cummax(dim=1).values
    return positions.gather(1, last.unsqueeze(-1).expand_as(positions))


class TrajectoryModel(nn.Module, ABC):
    """A multi-agent trajectory forecaster (see the module docstring for the contract)."""

    name: ClassVar[str]
    config_class: ClassVar[type]
    config: Any

    @abstractmethod
    def loss(self, batch: TrajectoryBatch) -> dict[str, Tensor]:
        """Training losses; ``"loss"`` is the scalar to minimise."""

    def sample(
        self,
        history: TrajectoryBatch,
        horizon: int,
        n_samples: int,
        predict_mask: Tensor | None = None,
        given_future: Tensor | None = None,
        generator: torch.Generator | None = None,
        **options: Any,
    ) -> Tensor:
        """Future positions ``[S, B, H, N, 2]``; agents outside ``predict_mask`` follow ``given_future``.

        The one sampling wrapper of every model: it checks the arguments (:func:`resolve_predict_mask`), runs
        :meth:`_sample` in eval mode under ``torch.inference_mode`` and restores the training mode afterwards.
        ``options`` are a model's own keywords (the VRNN's ``latent_noise``).
        """
        if n_samples < 1:
            raise InvalidParameterError(f"n_samples must be at least 1, got {n_samples}")
        predict_mask, given_future = resolve_predict_mask(history, horizon, predict_mask, given_future)
        was_training = self.training
        self.eval()
        try:
            with torch.inference_mode():
                return self._sample(history, horizon, n_samples, predict_mask, given_future, generator, **options)
        finally:
            self.train(was_training)

    @abstractmethod
    def _sample(self, history: TrajectoryBatch, horizon: int, n_samples: int, predict_mask: Tensor,
                given_future: Tensor, generator: torch.Generator | None) -> Tensor:
        """:meth:`sample` after its checks: ``predict_mask [B, N]`` and ``given_future [B, H, N, 2]`` are resolved
        (NaN for predicted agents), the model is in eval mode and no gradient is recorded."""

    @property
    def trainable(self) -> bool:
        """False for parameter-free baselines."""
        return any(p.requires_grad for p in self.parameters())

    def config_dict(self) -> dict[str, Any]:
        return asdict(self.config)


def resolve_predict_mask(
    history: TrajectoryBatch, horizon: int, predict_mask: Tensor | None, given_future: Tensor | None
) -> tuple[Tensor, Tensor]:
    """Check the ghosting arguments; return ``predict_mask [B, N]`` and ``given_future [B, H, N, 2]``.

    With no ``predict_mask`` every agent is predicted (full scene) and ``given_future`` may be omitted. Any agent
    not predicted must be given: a ``given_future`` of the right shape is then required. Entries of
    ``given_future`` for predicted agents are replaced by NaN here, so a model that read them would produce NaN.
    """
    if horizon < 1:
        raise InvalidParameterError(f"horizon must be at least 1 frame, got {horizon}")
    b, n = history.batch_size, history.n_agents
    device = history.states.device
    if predict_mask is None:
        predict_mask = torch.ones(b, n, dtype=torch.bool, device=device)
    if predict_mask.shape != (b, n):
        raise InvalidParameterError(f"predict_mask must be [{b}, {n}], got {tuple(predict_mask.shape)}")
    predict_mask = predict_mask.to(device=device, dtype=torch.bool)
    if given_future is None:
        if not bool(predict_mask.all()):
            raise InvalidParameterError("agents outside predict_mask need their true future in given_future")
        given_future = torch.zeros(b, horizon, n, 2, device=device)
    if given_future.shape != (b, horizon, n, 2):
        raise InvalidParameterError(f"given_future must be [{b}, {horizon}, {n}, 2], got {tuple(given_future.shape)}")
    hidden = predict_mask[:, None, :, None].expand_as(given_future)
    given_future = given_future.to(device).masked_fill(hidden, float("nan"))
    return predict_mask, given_future

