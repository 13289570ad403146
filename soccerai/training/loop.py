"""The one training loop of soccerai (:func:`fit`, the only ``L.Trainer`` in the code), then a checkpoint.

:func:`fit` trains a built model with Lightning: seeds, validation, early stopping, step / time / epoch limits and
the hardware (``accelerator``, ``devices``, ``strategy``, ``num_nodes`` of :class:`TrainConfig`: multi-GPU DDP is a
config value). The CLI, the pipeline (:mod:`soccerai.pipeline.backends`), the demo, the dashboard and the benchmarks
all train through it. ``fit_model("gvrnn", model_config, train_windows, val_windows, TrainConfig(...))`` builds
and seeds first; :func:`train_and_save` also writes the checkpoint (see :mod:`soccerai.training.checkpoint`).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
import warnings
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping

from soccerai.errors import InvalidParameterError
from soccerai.models.base import TrajectoryBatch, TrajectoryModel
from soccerai.models.registry import build_model
from soccerai.training.checkpoint import save_checkpoint
from soccerai.training.datamodule import WindowBatch, WindowDataModule
from soccerai.windows.container import TrajectoryWindows


@dataclass
class TrainConfig:
    """Optimisation settings (saved in the checkpoint metadata)."""

    epochs: int = 20
    """Epoch limit; -1: none (then ``max_steps`` or ``max_time_s`` must bound the fit)."""
    batch_size: int = 32
    learning_rate: float = 1e-3
    gradient_clip: float | None = 5.0
    """Clip the gradient norm to this (Lightning's ``gradient_clip_val``); None: no clipping."""
    patience: int = 5
    seed: int = 0
    accelerator: str = "auto"
    devices: int | str = 1
    strategy: str = "auto"
    """Lightning's strategy, e.g. ``"ddp"`` with ``devices > 1`` (one process per device, gloo on CPU; ``"ddp_spawn"``
    from inside a worker process)."""
    num_nodes: int = 1
    progress_bar: bool = False
    max_steps: int = -1
    max_time_s: float | None = None
    """Wall-clock budget of the fit (Lightning's ``max_time``); None: no limit."""
    val_every_steps: int | None = None
    """Validate (and consider early stopping) every this many training steps instead of once per epoch."""
    mirror: bool = True
    """Augment: each training window mirrored left/right (``y -> -y``, attack still ``+x``) with probability 1/2
    (:func:`soccerai.windows.sources.mirror_left_right`); validation windows never are."""
    lr_schedule: str = "constant"
    """``constant`` or ``cosine``: ``lr_t = lr (r + (1 - r) (1 + cos(pi t / T)) / 2)``, ``r = 0.05``, over the
    ``T`` optimiser steps of the fit (needs ``max_steps`` or an epoch limit)."""
    keep_best: bool = False
    """With validation: end the fit with the weights of the lowest ``val_loss`` seen (not the last ones)."""


class TrajectoryLightningModule(L.LightningModule):
    """Wraps a :class:`TrajectoryModel`: minimises ``model.loss(batch)["loss"]``, logs ``train_*`` / ``val_*``."""

    def __init__(self, model: TrajectoryModel, learning_rate: float, lr_schedule: str = "constant") -> None:
        super().__init__()
        self.model, self.learning_rate, self.lr_schedule = model, learning_rate, lr_schedule
        self.sequences_seen = 0
        self.windows_seen: list[int] = []
        """Indices (into the training windows) of the windows this process trained on in the first epoch: its shard
        under DDP (the distributed sampler reshuffles the shards every epoch)."""

    def _step(self, batch: TrajectoryBatch, stage: str) -> torch.Tensor:
        losses = self.model.loss(batch)
        for name, value in losses.items():
            self.log(f"{stage}_{name}", value, prog_bar=name == "loss", batch_size=batch.batch_size)
        return losses["loss"]

    def training_step(self, data: WindowBatch, batch_index: int) -> torch.Tensor:
        self.sequences_seen += data.batch.batch_size
        if self.current_epoch == 0:
            self.windows_seen.extend(data.windows.tolist())
        return self._step(data.batch, "train")

    def validation_step(self, data: WindowBatch, batch_index: int) -> torch.Tensor:
        return self._step(data.batch, "val")

    def configure_optimizers(self) -> Any:
        optimizer = torch.optim.Adam(self.model.parameters(), lr=self.learning_rate)
        if self.lr_schedule == "constant":
            return optimizer
        total = self.trainer.estimated_stepping_batches
        if not math.isfinite(total) or total < 1:
            raise InvalidParameterError("lr_schedule='cosine' needs max_steps or an epoch limit (a known step count)")
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=int(total),
                                                              eta_min=COSINE_FLOOR * self.learning_rate)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}


COSINE_FLOOR = 0.05
"""The cosine schedule ends at this fraction of the learning rate."""
LR_SCHEDULES = ("constant", "cosine")


class _KeepBest(Callback):
    """Keeps a copy of the weights at the lowest ``val_loss`` and puts them back when the fit ends."""

    def __init__(self) -> None:
        self.best_loss, self.best_step = math.inf, 0
        self.state: dict[str, torch.Tensor] | None = None

    def on_validation_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        loss = trainer.callback_metrics.get("val_loss")
        if trainer.sanity_checking or loss is None or not float(loss) < self.best_loss:
            return
        self.best_loss, self.best_step = float(loss), int(trainer.global_step)
        self.state = {k: v.detach().clone() for k, v in module.state_dict().items()}

    def on_fit_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if self.state is not None:
            module.load_state_dict(self.state)


class _History(Callback):
    """Collects the train / val losses at every epoch end and every validation check."""

    def __init__(self) -> None:
        self.epochs: list[dict[str, float]] = []

    def _record(self, trainer: L.Trainer) -> None:
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if k.endswith("loss")}
        self.epochs.append({"epoch": trainer.current_epoch, "step": trainer.global_step, **metrics})

    def on_train_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self._record(trainer)

    def on_validation_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if not trainer.sanity_checking:
            self._record(trainer)


@dataclass
class TrainResult:
    model: TrajectoryModel
    history: list[dict[str, float]] = field(default_factory=list)
    sequences_per_second: float = math.nan
    steps: int = 0
    """Optimiser steps taken (Lightning's ``global_step``)."""
    final_loss: float | None = None
    """The last logged ``train_loss`` (None when the model is not trainable)."""
    global_rank: int = 0
    """This process's rank in a multi-process (DDP) fit; only rank 0 writes checkpoints."""
    ranks: list[dict[str, Any]] = field(default_factory=list)
    """Per rank of the fit (one entry on a single device): ``windows`` (the training windows of its first-epoch shard) and
    ``weights_sha256`` (a digest of its final weights: equal on every rank when DDP kept them in sync)."""
    best_step: int | None = None
    """With ``keep_best``: the step whose weights were kept (lowest validation loss); None otherwise."""
    best_val_loss: float | None = None


def fit_model(
    name: str,
    model_config: Any,
    train: TrajectoryWindows,
    val: TrajectoryWindows | None,
    config: TrainConfig,
) -> TrainResult:
    """Build model ``name`` and train it on ``train`` (early stopping on ``val_loss`` when ``val`` is given)."""
    _check_limits(config)
    L.seed_everything(config.seed, workers=True, verbose=False)
    return fit(build_model(name, model_config), train, val, config)


def _check_limits(config: TrainConfig) -> None:
    if config.epochs < 1 and config.epochs != -1:
        raise InvalidParameterError(f"epochs must be at least 1 (or -1: no epoch limit), got {config.epochs}")
    if config.max_time_s is not None and config.max_time_s <= 0:
        raise InvalidParameterError(f"max_time_s must be positive, got {config.max_time_s}")
    if config.max_steps == 0 or config.max_steps < -1:
        raise InvalidParameterError(f"max_steps must be at least 1 (or -1: no step limit), got {config.max_steps}")
    if config.epochs == -1 and config.max_steps == -1 and config.max_time_s is None:
        raise InvalidParameterError("epochs=-1 needs max_steps or max_time_s: the fit would never stop")
    if config.lr_schedule not in LR_SCHEDULES:
        raise InvalidParameterError(f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}, got {config.lr_schedule!r}")


def fit(
    model: TrajectoryModel,
    train: TrajectoryWindows,
    val: TrajectoryWindows | None,
    config: TrainConfig,
) -> TrainResult:
    """Train an already built ``model`` as :func:`fit_model` does (the caller seeds; nothing is reseeded here).

    The fit stops at whichever limit comes first: ``epochs``, ``max_steps`` optimiser steps, ``max_time_s`` seconds
    (checked after each step), or early stopping; :attr:`TrainResult.steps` says how many steps were taken.
    """
    _check_limits(config)
    if not model.trainable:
        return TrainResult(model)
    data = WindowDataModule(train, val, batch_size=config.batch_size, seed=config.seed, mirror=config.mirror)
    history = _History()
    callbacks: list[Callback] = [history]
    keep = _KeepBest() if config.keep_best and val is not None else None
    if val is not None:
        # checked after each validation only, and never an error when a step limit ends the fit before the first
        # validation (``--steps 2``): there is then no ``val_loss`` to watch
        callbacks.append(EarlyStopping(monitor="val_loss", patience=config.patience, mode="min", strict=False,
                                       check_on_train_epoch_end=False))
    if keep is not None:
        callbacks.append(keep)
    model.train()  # a model loaded from a checkpoint is in eval mode; Lightning keeps a module's mode
    module = TrajectoryLightningModule(model, config.learning_rate, config.lr_schedule)
    with _quiet_lightning():
        trainer = L.Trainer(
            max_epochs=config.epochs,
            max_steps=config.max_steps,
            max_time=None if config.max_time_s is None else timedelta(seconds=config.max_time_s),
            val_check_interval=_val_interval(config, len(train)),
            check_val_every_n_epoch=None if config.val_every_steps else 1,
            accelerator=config.accelerator,
            devices=config.devices,
            strategy=config.strategy,
            num_nodes=config.num_nodes,
            gradient_clip_val=config.gradient_clip,
            callbacks=callbacks,
            enable_progress_bar=config.progress_bar,
            enable_model_summary=False,
            enable_checkpointing=False,
            logger=False,
            deterministic=False,
            num_sanity_val_steps=0,
            limit_val_batches=1.0 if val is not None else 0,
        )
        start = time.perf_counter()
        trainer.fit(module, datamodule=data)
        elapsed = time.perf_counter() - start
    ranks = _gather_ranks(trainer, module)
    model = module.model.cpu().eval()
    throughput = module.sequences_seen / elapsed if elapsed > 0 else math.nan  # validation time included
    loss = trainer.callback_metrics.get("train_loss")
    return TrainResult(model, history.epochs, throughput, int(trainer.global_step),
                       None if loss is None else float(loss), trainer.global_rank, ranks,
                       None if keep is None or keep.state is None else keep.best_step,
                       None if keep is None or keep.state is None else keep.best_loss)


def weights_digest(model: torch.nn.Module) -> str:
    """sha256 over the model's state dict (names, shapes and float32 bytes, in order)."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()


def _gather_ranks(trainer: L.Trainer, module: TrajectoryLightningModule) -> list[dict[str, Any]]:
    """Every rank's windows and weight digest, collected on every rank (one entry without DDP)."""
    windows = sorted(set(module.windows_seen))
    mine = {"rank": trainer.global_rank, "windows": windows, "weights_sha256": weights_digest(module.model)}
    if trainer.world_size == 1:
        return [mine]
    gathered: list[Any] = [None] * trainer.world_size
    torch.distributed.all_gather_object(gathered, mine)
    return sorted(gathered, key=lambda rank: rank["rank"])


def _val_interval(config: TrainConfig, n_train: int) -> int | float:
    """Lightning's ``val_check_interval``: every ``val_every_steps`` batches (capped at an epoch), else 1.0."""
    if not config.val_every_steps:
        return 1.0
    batches_per_epoch = max(1, math.ceil(n_train / config.batch_size))
    return max(1, min(config.val_every_steps, batches_per_epoch))


def train_and_save(
    name: str,
    model_config: Any,
    train: TrajectoryWindows,
    val: TrajectoryWindows | None,
    config: TrainConfig,
    out_dir: str | Path,
    metadata: dict[str, Any] | None = None,
) -> TrainResult:
    """:func:`fit_model`, then a checkpoint in ``out_dir`` recording the training settings and history.

    Under DDP every process trains; rank 0 alone writes the checkpoint, with each rank's shard size and weight
    digest in ``ranks`` (the saved weights are rank 0's, which DDP keeps equal to every other rank's).
    """
    wall, cpu = time.perf_counter(), time.process_time()
    result = fit_model(name, model_config, train, val, config)
    if result.global_rank != 0:
        return result
    record = {
        "train": asdict(config),
        "steps": result.steps,
        "train_wall_s": round(time.perf_counter() - wall, 1),
        "train_cpu_s": round(time.process_time() - cpu, 1),
        "obs_len": train.obs_len,
        "pred_len": train.pred_len,
        "n_train_windows": len(train),
        "n_val_windows": 0 if val is None else len(val),
        "simulated": train.simulated,
        "history": result.history,
        "ranks": result.ranks,
        **({} if result.best_step is None else {"best_step": result.best_step, "best_val_loss": result.best_val_loss}),
        **(metadata or {}),
    }
    save_checkpoint(result.model, out_dir, record)
    return result


class _quiet_lightning:
    """Silence Lightning's banner logs and data-loader worker warnings for the duration of a fit."""

    def __enter__(self) -> None:
        self._levels = {n: logging.getLogger(n).level for n in ("lightning.pytorch", "lightning.fabric")}
        for n in self._levels:
            logging.getLogger(n).setLevel(logging.ERROR)
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.filterwarnings("ignore", message=".*does not have many workers.*")
        warnings.filterwarnings("ignore", message=".*GPU available but not used.*")
        warnings.filterwarnings("ignore", message=".*LeafSpec.*")

    def __exit__(self, *exc: object) -> None:
        self._warnings.__exit__(*exc)
        for n, level in self._levels.items():
            logging.getLogger(n).setLevel(level)
