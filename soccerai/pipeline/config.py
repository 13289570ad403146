"""Pipeline job definitions: a TOML file -> validated, frozen dataclasses.

Relative paths in the file are resolved against the file's own folder; ``$VARS`` and ``~`` are expanded, so a
job can say ``state_dir = "${SOCCERAI_OUT_DIR}/pipeline/nightly"``.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from soccerai.errors import InvalidInputError, InvalidParameterError
from soccerai.windows.container import MIN_PLAYERS

MATCH_STEPS = ("ingest", "summary", "windows", "obso", "cobso")

OBSO_STEP_OPTIONS = ("obs_s", "horizon_s", "score_model", "transition_sigma")
"""``[obso]`` keys the per-shot OBSO step uses (:func:`soccerai.evaluate.match_obso.shot_obso`)."""
COBSO_STEP_OPTIONS = ("obs_s", "horizon_s", "n_samples", "seed")
"""``[obso]`` keys the C-OBSO step uses (:func:`soccerai.evaluate.match_obso.match_cobso`)."""
GLOBAL_STEPS = ("train", "evaluate")
KNOWN_STEPS = MATCH_STEPS + GLOBAL_STEPS
EXECUTORS = ("process", "ray", "inline")
TRACKING_LABELS = ("auto", "simulated", "real")


@dataclass(frozen=True)
class WindowsConfig:
    """Model windows cut from every match: ``obs_s`` observed, ``pred_s`` predicted, a new window every ``stride_s``."""

    obs_s: float = 2.0
    pred_s: float = 4.0
    stride_s: float = 2.0
    min_players: int = MIN_PLAYERS
    """Keep a window when at least this many of the 22 players are tracked at every frame; the others are masked
    (broadcast tracking shows 12-19; 20 left the real SkillCorner match almost without windows)."""


@dataclass(frozen=True)
class TrainConfig:
    """Which model to train and when.

    Training happens when the training data changed. Every ``retrain_every_runs``-th training (and the first) starts
    from scratch ("retrain": fresh weights, or ``base_model``); the others continue from the previous checkpoint
    ("finetune").
    ``accelerator``/``devices``/``strategy`` go to Lightning (``strategy = "ddp"`` with ``devices = 4`` on 4 GPUs).
    """

    model: str = "gvrnn"
    max_steps: int = 200
    batch_size: int = 32
    learning_rate: float = 1e-3
    retrain_every_runs: int = 7
    holdout_fraction: float = 0.2
    accelerator: str = "auto"
    devices: int = 1
    strategy: str = "auto"
    model_options: dict[str, Any] = field(default_factory=dict)
    base_model: str = ""
    """A shipped model's name or a checkpoint folder (of the ``model`` kind) that every from-scratch training
    fine-tunes instead of fresh weights (``model_options`` then do not apply); "" trains from fresh weights."""


@dataclass(frozen=True)
class PipelineConfig:
    """One pipeline job (``pipelines/<name>.toml``)."""

    name: str
    drop_dir: Path
    state_dir: Path
    steps: tuple[str, ...] = ("ingest", "summary", "windows", "obso", "train", "evaluate", "cobso")
    executor: str = "process"
    workers: int = 2
    ray_address: str | None = None
    tracking: str = "auto"
    """Label of the drop folder's tracking: "auto" (as the files say), "simulated" or "real". Only EPTS metadata
    can declare simulated tracking (``<TrackingType>Simulated``); Metrica CSV and the other provider formats cannot,
    so a drop folder of synthesized CSV matches says so here."""
    windows: WindowsConfig = WindowsConfig()
    train: TrainConfig = TrainConfig()
    obso: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None

    def step_params(self, step: str) -> dict[str, Any]:
        """The settings that decide a step's output (part of its input key: change them and the step reruns)."""
        if step == "ingest":
            return {"tracking": self.tracking}
        if step == "windows":
            return vars(self.windows)
        if step in ("obso", "cobso"):
            used = OBSO_STEP_OPTIONS if step == "obso" else COBSO_STEP_OPTIONS
            return {k: v for k, v in self.obso.items() if k in used}
        if step in ("train", "evaluate"):
            return {
                k: v for k, v in vars(self.train).items() if k not in ("accelerator", "devices", "strategy")
            }
        return {}

    @property
    def match_steps(self) -> tuple[str, ...]:
        return tuple(s for s in self.steps if s in MATCH_STEPS)


def _path(raw: str, base: Path) -> Path:
    expanded = os.path.expanduser(os.path.expandvars(raw))
    if "$" in expanded:
        raise InvalidParameterError(f"path {raw!r} names an unset environment variable")
    path = Path(expanded)
    return (path if path.is_absolute() else base / path).resolve()


def _section(cls: type, raw: dict[str, Any], name: str, source: Path) -> Any:
    known = set(cls.__dataclass_fields__)
    unknown = set(raw) - known
    if unknown:
        raise InvalidParameterError(
            f"[{name}] has unknown keys {sorted(unknown)} (known: {sorted(known)})", source
        )
    _check_types(cls(), raw, name, source)
    return cls(**raw)


def _check_types(defaults: Any, raw: dict[str, Any], name: str, source: Path) -> None:
    """Each value must have its default's type (an int is accepted for a float; bool is not an int)."""
    for key, value in raw.items():
        default = getattr(defaults, key)
        if default is None or isinstance(default, Path):
            continue
        expected = (int, float) if isinstance(default, float) else type(default)
        if isinstance(value, bool) != isinstance(default, bool) or not isinstance(value, expected):
            raise InvalidParameterError(
                f"[{name}] {key} must be a {type(default).__name__}, got {value!r}", source
            )


def _check(cfg: PipelineConfig) -> None:
    src = cfg.source
    bad = [s for s in cfg.steps if s not in KNOWN_STEPS]
    if bad or not cfg.steps:
        raise InvalidParameterError(f"steps {bad or '[]'} unknown; choose from {list(KNOWN_STEPS)}", src)
    if cfg.steps[0] != "ingest":
        raise InvalidParameterError("the first step must be 'ingest'", src)
    for step, needs in (("train", "windows"), ("evaluate", "windows"), ("summary", "ingest")):
        if step in cfg.steps and needs not in cfg.steps[: cfg.steps.index(step)]:
            raise InvalidParameterError(f"step {step!r} needs {needs!r} before it in steps", src)
    if cfg.tracking not in TRACKING_LABELS:
        raise InvalidParameterError(
            f"tracking {cfg.tracking!r} unknown; choose from {list(TRACKING_LABELS)}", src
        )
    if cfg.executor not in EXECUTORS:
        raise InvalidParameterError(f"executor {cfg.executor!r} unknown; choose from {list(EXECUTORS)}", src)
    if not 1 <= cfg.workers <= 256:
        raise InvalidParameterError(f"workers must be in [1, 256], got {cfg.workers}", src)
    w, t = cfg.windows, cfg.train
    if min(w.obs_s, w.pred_s, w.stride_s) <= 0:
        raise InvalidParameterError("windows obs_s, pred_s and stride_s must be > 0", src)
    if (
        t.max_steps < 1
        or t.batch_size < 1
        or t.learning_rate <= 0
        or t.retrain_every_runs < 1
        or t.devices < 1
    ):
        raise InvalidParameterError(
            "train max_steps, batch_size, retrain_every_runs, devices >= 1 and learning_rate > 0", src
        )
    if not 0.0 < t.holdout_fraction < 1.0:
        raise InvalidParameterError(
            f"train holdout_fraction must be in (0, 1), got {t.holdout_fraction}", src
        )


def load_config(
    path: str | Path, drop_dir: str | Path | None = None, state_dir: str | Path | None = None
) -> PipelineConfig:
    """Read and validate a pipeline TOML file; ``drop_dir``/``state_dir`` override the file's values."""
    path = Path(path).resolve()
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise InvalidInputError("pipeline config not found", path) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"not valid TOML ({exc})", path) from exc
    job = dict(raw.get("pipeline", {}))
    for key in ("drop_dir", "state_dir"):
        if key not in job:
            raise InvalidParameterError(f"[pipeline] needs {key}", path)
    base = path.parent
    job["drop_dir"] = Path(drop_dir).resolve() if drop_dir else _path(job["drop_dir"], base)
    job["state_dir"] = Path(state_dir).resolve() if state_dir else _path(job["state_dir"], base)
    job["steps"] = tuple(job.get("steps", PipelineConfig.steps))
    job.setdefault("name", path.stem)
    known = set(PipelineConfig.__dataclass_fields__) - {"windows", "train", "obso", "source"}
    unknown = set(job) - known
    if unknown:
        raise InvalidParameterError(f"[pipeline] has unknown keys {sorted(unknown)}", path)
    extra = set(raw) - {"pipeline", "windows", "train", "obso"}
    if extra:
        raise InvalidParameterError(f"unknown sections {sorted(extra)}", path)
    unknown_obso = set(raw.get("obso", {})) - set(OBSO_STEP_OPTIONS) - set(COBSO_STEP_OPTIONS)
    if unknown_obso:
        known_obso = sorted(set(OBSO_STEP_OPTIONS) | set(COBSO_STEP_OPTIONS))
        raise InvalidParameterError(f"[obso] has unknown keys {sorted(unknown_obso)} (known: {known_obso})", path)
    _check_types(
        PipelineConfig("", Path(), Path()), {k: v for k, v in job.items() if k != "steps"}, "pipeline", path
    )
    try:
        cfg = PipelineConfig(
            **job,
            windows=_section(WindowsConfig, raw.get("windows", {}), "windows", path),
            train=_section(TrainConfig, raw.get("train", {}), "train", path),
            obso=dict(raw.get("obso", {})),
            source=path,
        )
    except TypeError as exc:
        raise InvalidParameterError(f"bad pipeline config ({exc})", path) from exc
    _check(cfg)
    return cfg
