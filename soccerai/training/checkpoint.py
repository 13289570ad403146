"""Model checkpoints without pickle: ``<dir>/model.safetensors`` (weights) + ``<dir>/manifest.json`` (everything else).

Format (``format_version`` 2). ``manifest.json`` is one JSON object:

=================== ===================================================================================
``format``          ``"soccerai-checkpoint"``
``format_version``  ``2``
``soccerai_version`` the soccerai version that wrote it
``model``           registry name (``soccerai.models.registry.MODELS``)
``config``          the model's config dataclass as a dict (every field; unknown keys are refused)
``tensors``         ``{name: shape}`` of every tensor in the weights file
``weights_sha256``  sha256 of ``model.safetensors``; ``weights_bytes`` its size
``training_data``   ids of the matches (or clips) the weights were trained on, sorted
``metadata``        training settings, metrics, history, and the provenance every checkpoint records
                    (:func:`provenance`): ``fps`` and ``n_agents`` of the windows it was trained on, ``commit``
                    (the soccerai git commit, ``"unknown"`` outside a checkout)
``manifest_sha256`` sha256 of the canonical JSON (sorted keys, no spaces) of all the fields above
=================== ===================================================================================

The manifest hash makes the config covered by an integrity check like the weights (an edited or corrupted
manifest is refused); it is not a signature: whoever can write both files can forge both.

:func:`load_checkpoint` checks, in order and before any tensor is allocated: the manifest's size, JSON, fields and
own hash; the provenance (a manifest without ``fps``, ``n_agents`` and ``commit`` is refused); the model name; every config value against its dataclass field (type, range, and a size bound: no
integer may exceed the number of elements in the weights file, since a dimension of size n needs at least n
weights); the weights file's size and sha256; the safetensors header against the manifest; and the shapes of the
model built on PyTorch's ``meta`` device (no memory) against the header. Only then is the model built for real and
the weights read (safetensors: no pickle, no code). Every failure is one :class:`~soccerai.errors.CheckpointError`
line naming the file; the CLI prints it and exits 2.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import subprocess
import types
import typing
from collections.abc import Sequence
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from soccerai import __version__
from soccerai.errors import CheckpointError, SoccerAIError
from soccerai.files import atomic_path, sha256_file, write_json_atomic
from soccerai.models.base import TrajectoryModel
from soccerai.models.registry import MODELS, build_model
from soccerai.windows.container import FPS, N_AGENTS

WEIGHTS_FILE = "model.safetensors"
MANIFEST_FILE = "manifest.json"
CONFIG_FILE = MANIFEST_FILE
"""Older name of :data:`MANIFEST_FILE` (kept for importers)."""
FORMAT = "soccerai-checkpoint"
FORMAT_VERSION = 2
MAX_MANIFEST_BYTES = 4 * 2**20
MAX_WEIGHTS_BYTES = 2 * 2**30
MAX_STR_LEN = 64
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

_UNIT_INTERVAL = {"ghosting_rate", "eta", "player_dropout"}
_POSITIVE_FLOATS = {"sigma", "clip_sample"}


def manifest_hash(manifest: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of ``manifest`` without its ``manifest_sha256`` field."""
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


PROVENANCE = ("fps", "n_agents", "commit")
"""What every checkpoint's ``metadata`` records about how it was made (:func:`provenance`)."""


def git_commit() -> str:
    """The soccerai git commit this code runs from, or ``"unknown"`` outside a git checkout."""
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10,
                              cwd=Path(__file__).resolve().parent, check=True).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def provenance(fps: float = FPS, n_agents: int = N_AGENTS) -> dict[str, Any]:
    """The provenance fields of a checkpoint trained on windows at ``fps`` Hz with ``n_agents`` agents."""
    return {"fps": float(fps), "n_agents": int(n_agents), "commit": git_commit()}


def save_checkpoint(
    model: TrajectoryModel,
    directory: str | Path,
    metadata: dict[str, Any] | None = None,
    training_data: Sequence[str] | None = None,
    *,
    fps: float = FPS,
    n_agents: int = N_AGENTS,
) -> Path:
    """Write weights then the manifest (each atomically) into ``directory``; returns the directory.

    The manifest records its own provenance (:func:`provenance`: ``fps`` / ``n_agents`` of the training windows,
    the layout's unless given, and the git commit) over any such keys of ``metadata``. ``training_data`` defaults
    to ``metadata["matches"]`` when the caller recorded the matches there.
    """
    directory = Path(directory)
    metadata = json.loads(json.dumps({**(metadata or {}), **provenance(fps, n_agents)}, default=str))
    if training_data is None:
        training_data = metadata.get("matches") or []
    tensors = {name: t.detach().cpu().contiguous() for name, t in model.state_dict().items()}
    weights = directory / WEIGHTS_FILE
    with atomic_path(weights, suffix=".safetensors") as tmp:
        save_file(tensors, str(tmp))
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "soccerai_version": __version__,
        "model": model.name,
        "config": model.config_dict(),
        "tensors": {name: list(t.shape) for name, t in tensors.items()},
        "weights_sha256": sha256_file(weights),
        "weights_bytes": weights.stat().st_size,
        "training_data": sorted(str(t) for t in training_data),
        "metadata": metadata,
    }
    manifest["manifest_sha256"] = manifest_hash(manifest)
    write_json_atomic(manifest, directory / MANIFEST_FILE)
    return directory


def read_checkpoint_record(directory: str | Path) -> dict[str, Any]:
    """The verified manifest of a checkpoint (fields, types and its own hash; no weights read)."""
    path = Path(directory) / MANIFEST_FILE
    if not path.is_file():
        legacy = Path(directory) / "config.json"
        if legacy.is_file():
            raise CheckpointError("checkpoint predates the verified manifest format (re-save it with "
                                  "soccerai.training.checkpoint.save_checkpoint)", legacy)
        raise CheckpointError(f"checkpoint {MANIFEST_FILE} not found", path)
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise CheckpointError(f"manifest is larger than {MAX_MANIFEST_BYTES // 2**20} MiB", path)
    try:
        record = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise CheckpointError(f"manifest is not valid JSON ({exc.__class__.__name__})", path) from exc
    if not isinstance(record, dict):
        raise CheckpointError(f"manifest must be a JSON object, got {type(record).__name__}", path)
    _check_manifest_fields(record, path)
    if record["manifest_sha256"] != manifest_hash(record):
        raise CheckpointError("manifest sha256 does not match its content (edited or corrupted)", path)
    return record


def _check_manifest_fields(record: dict[str, Any], path: Path) -> None:
    if record.get("format") != FORMAT or record.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"not a {FORMAT} version {FORMAT_VERSION} manifest "
                              f"(format {record.get('format')!r}, version {record.get('format_version')!r})", path)
    expected: dict[str, type | tuple[type, ...]] = {
        "soccerai_version": str, "model": str, "config": dict, "tensors": dict, "weights_sha256": str,
        "weights_bytes": int, "training_data": list, "metadata": dict, "manifest_sha256": str,
    }
    for key, kind in expected.items():
        if key not in record:
            raise CheckpointError(f"manifest lacks {key!r}", path)
        value = record[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise CheckpointError(f"manifest {key!r} must be {_type_name(kind)}, got {_show(value)}", path)
    for key in ("weights_sha256", "manifest_sha256"):
        if not _SHA256.match(record[key]):
            raise CheckpointError(f"manifest {key!r} is not a hex sha256", path)
    lacking = [key for key in PROVENANCE if key not in record["metadata"]]
    if lacking:
        raise CheckpointError(f"checkpoint lacks provenance {', '.join(lacking)} (re-save it with "
                              "soccerai.training.checkpoint.save_checkpoint)", path)
    if not all(isinstance(t, str) for t in record["training_data"]):
        raise CheckpointError("manifest 'training_data' must be a list of match ids", path)
    for name, shape in record["tensors"].items():
        if not (isinstance(shape, list) and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                                for d in shape)):
            raise CheckpointError(f"manifest shape of tensor {name!r} is not a list of sizes", path)


def validate_config(name: str, values: dict[str, Any], max_int: int, path: Path | None = None) -> dict[str, Any]:
    """Check ``values`` against model ``name``'s config dataclass; returns them with defaults filled in.

    Rules: no unknown field; ``int`` fields are integers (not bools or floats) in ``1..max_int``; ``float`` fields
    finite numbers ``>= 0`` (``ghosting_rate`` and ``eta`` at most 1; ``sigma`` and ``clip_sample`` above 0);
    ``bool`` fields booleans; ``str`` fields short strings; ``X | None`` also accepts null.
    """
    cls = MODELS[name].config_class
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise CheckpointError(f"config has unknown {name} fields: {', '.join(unknown[:5])}", path)
    out: dict[str, Any] = {}
    for key, field in known.items():
        if key not in values:
            if field.default is MISSING and field.default_factory is MISSING:
                raise CheckpointError(f"config lacks {name} field {key!r}", path)
            continue
        out[key] = _check_value(key, values[key], hints[key], max_int, path)
    return out


def _check_value(key: str, value: Any, hint: Any, max_int: int, path: Path | None) -> Any:
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union \
        else (hint,)
    if value is None:
        if type(None) in options:
            return None
        raise CheckpointError(f"config.{key} must not be null", path)
    kind = next(o for o in options if o is not type(None))
    bad = f"config.{key} must be {kind.__name__}, got {_show(value)}"
    if kind is bool:
        if not isinstance(value, bool):
            raise CheckpointError(bad, path)
    elif kind is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise CheckpointError(bad, path)
        if not 1 <= value <= max_int:
            raise CheckpointError(f"config.{key}={value} is outside 1..{max_int} (bounded by the weights' "
                                  f"{max_int} elements)", path)
    elif kind is float:
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            raise CheckpointError(bad if not isinstance(value, int | float) else f"config.{key}={value} is not "
                                  "finite", path)
        top = 1.0 if key in _UNIT_INTERVAL else math.inf
        if not (value > 0 if key in _POSITIVE_FLOATS else value >= 0) or value > top:
            raise CheckpointError(f"config.{key}={value} is out of range", path)
    elif kind is str:
        if not isinstance(value, str) or not 0 < len(value) <= MAX_STR_LEN:
            raise CheckpointError(bad if not isinstance(value, str) else f"config.{key} length must be "
                                  f"1..{MAX_STR_LEN}", path)
    else:  # pragma: no cover - a config field of a type this loader does not know
        raise CheckpointError(f"config.{key} has an unsupported type {hint}", path)
    return value


def _header_shapes(weights: Path) -> dict[str, list[int]]:
    """Tensor names and shapes from the safetensors header (no tensor data read)."""
    try:
        with safe_open(str(weights), framework="pt") as handle:
            return {name: list(handle.get_slice(name).get_shape()) for name in handle.keys()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"unreadable safetensors file ({str(exc).splitlines()[0][:120]})", weights) from exc


def _build(name: str, config: dict[str, Any], device: str, path: Path) -> TrajectoryModel:
    try:
        with torch.device(device):
            return build_model(name, dict(config))
    except (SoccerAIError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"manifest describes no buildable {name} model ({str(exc).splitlines()[0][:160]})",
                              path) from exc


def load_checkpoint(directory: str | Path) -> tuple[TrajectoryModel, dict[str, Any]]:
    """Verify everything (see the module docstring), then rebuild the model; returns ``(model, manifest)``."""
    directory = Path(directory)
    record = read_checkpoint_record(directory)
    manifest = directory / MANIFEST_FILE
    weights = directory / WEIGHTS_FILE
    if record["model"] not in MODELS:
        raise CheckpointError(f"unknown model {record['model'][:MAX_STR_LEN]!r}", manifest)
    if not weights.is_file():
        raise CheckpointError("checkpoint weights model.safetensors not found", weights)
    size = weights.stat().st_size
    if size > MAX_WEIGHTS_BYTES or size != record["weights_bytes"]:
        raise CheckpointError(f"weights file is {size} bytes; the manifest says {record['weights_bytes']} "
                              f"(limit {MAX_WEIGHTS_BYTES // 2**30} GiB)", weights)
    if sha256_file(weights) != record["weights_sha256"]:
        raise CheckpointError("weights sha256 does not match the manifest (file changed or tampered with)", weights)
    header = _header_shapes(weights)
    if header != record["tensors"]:
        raise CheckpointError("tensors in the weights file differ from those listed in the manifest", weights)
    n_weights = sum(math.prod(shape) for shape in header.values())
    config = validate_config(record["model"], record["config"], max(n_weights, 1), manifest)
    _check_shapes(_build(record["model"], config, "meta", manifest), header, record["model"], weights)
    model = _build(record["model"], config, "cpu", manifest)
    try:
        tensors = load_file(str(weights))
        model.load_state_dict(tensors, strict=True)
    except (SafetensorError, OSError, RuntimeError) as exc:
        raise CheckpointError(f"weights do not load ({str(exc).splitlines()[0][:120]})", weights) from exc
    model.eval()
    return model, record


def _check_shapes(model: TrajectoryModel, found: dict[str, list[int]], name: str, weights: Path) -> None:
    expected = {key: list(t.shape) for key, t in model.state_dict().items()}
    if found == expected:
        return
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    wrong = sorted(n for n in set(found) & set(expected) if found[n] != expected[n])
    detail = "; ".join(
        part
        for part in (
            f"missing {', '.join(missing[:3])}" if missing else "",
            f"unexpected {', '.join(extra[:3])}" if extra else "",
            f"shape mismatch {', '.join(wrong[:3])}" if wrong else "",
        )
        if part
    )
    raise CheckpointError(f"weights do not fit the {name} config: {detail}", weights)


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {dict: "an object", list: "a list", str: "a string", int: "an integer"}
    return names.get(kind, str(kind)) if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)


def _show(value: Any) -> str:
    text = json.dumps(value, default=str)
    return f"{type(value).__name__} {text[:40]}{'...' if len(text) > 40 else ''}"
