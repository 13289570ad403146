"""Hostile checkpoints: every case refused with one line (a CheckpointError naming the file) before any tensor is
allocated, through the library and every CLI path that loads a checkpoint (evaluate, predict, cobso: exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from soccerai.errors import CheckpointError
from soccerai.models import build_model
from soccerai.training.checkpoint import (
    MANIFEST_FILE,
    WEIGHTS_FILE,
    load_checkpoint,
    manifest_hash,
    save_checkpoint,
)

SMALL = {"hidden": 8, "latent": 4}


def _edit(folder: Path, change: Callable[[dict], object], rehash: bool = True) -> None:
    """Rewrite the manifest; with ``rehash`` its own hash is recomputed (what a deliberate attacker would do)."""
    path = folder / MANIFEST_FILE
    manifest = json.loads(path.read_text())
    result = change(manifest)
    if result is not None:  # the change replaced the whole document
        path.write_text(json.dumps(result))
        return
    if rehash:
        manifest["manifest_sha256"] = manifest_hash(manifest)
    path.write_text(json.dumps(manifest))


def _set_config(key: str, value: object) -> Callable[[dict], None]:
    return lambda m: m["config"].__setitem__(key, value)


def _tamper_weights(folder: Path) -> None:
    path = folder / WEIGHTS_FILE
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))


CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "hidden_string": (lambda f: _edit(f, _set_config("hidden", "abc")), "config.hidden must be int, got str"),
    "hidden_negative": (lambda f: _edit(f, _set_config("hidden", -3)), "config.hidden=-3 is outside 1.."),
    "hidden_float_1e6": (lambda f: _edit(f, _set_config("hidden", 1e6)), "config.hidden must be int, got float"),
    "hidden_int_1e6": (lambda f: _edit(f, _set_config("hidden", 1_000_000)), "bounded by the weights"),
    "hidden_fits_bound_but_not_weights": (lambda f: _edit(f, _set_config("hidden", 9)), "shape mismatch"),
    "config_string": (lambda f: _edit(f, lambda m: m.__setitem__("config", "x")), "'config' must be an object"),
    "model_list": (lambda f: _edit(f, lambda m: m.__setitem__("model", ["gvrnn"])), "'model' must be a string"),
    "unknown_model": (lambda f: _edit(f, lambda m: m.__setitem__("model", "gpt5")), "unknown model 'gpt5'"),
    "unknown_field": (lambda f: _edit(f, _set_config("evil", 1)), "unknown gvrnn fields: evil"),
    "bad_encoder": (lambda f: _edit(f, _set_config("encoder", "os.system")), "no buildable gvrnn"),
    "nan_weight": (lambda f: _edit(f, _set_config("kl_weight", float("nan"))), "not finite"),
    "top_level_list": (lambda f: _edit(f, lambda m: [m]), "must be a JSON object, got list"),
    "not_json": (lambda f: (f / MANIFEST_FILE).write_text("{config"), "not valid JSON"),
    "tampered_config": (lambda f: _edit(f, _set_config("hidden", 16), rehash=False), "manifest sha256 does not"),
    "tampered_weights": (_tamper_weights, "weights sha256 does not match"),
    "missing_weights": (lambda f: (f / WEIGHTS_FILE).unlink(), "model.safetensors not found"),
}


@pytest.fixture()
def saved(tmp_path: Path) -> Path:
    return save_checkpoint(build_model("gvrnn", dict(SMALL)), tmp_path / "ckpt", {"matches": ["m2", "m1"]})


def test_manifest_records_version_data_and_hashes(saved: Path) -> None:
    model, record = load_checkpoint(saved)
    assert record["training_data"] == ["m1", "m2"] and record["soccerai_version"]
    assert record["manifest_sha256"] == manifest_hash(record) and record["config"]["hidden"] == 8
    assert model.config.hidden == 8 and not model.training


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_checkpoint_is_one_line_checkpoint_error(saved: Path, case: str) -> None:
    """hidden=1e6 would need about 8 TB if built: it is refused before any model is built."""
    damage, expected = CASES[case]
    damage(saved)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(saved)
    message = str(info.value)
    assert expected in message and "\n" not in message and str(saved) in message


def _cli(*args: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from soccerai import cli

    monkeypatch.setattr(sys, "argv", ["soccerai", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    return int(exited.value.code), capsys.readouterr().err


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_cli_path_refuses_with_exit_2(saved: Path, case: str, clips_dir: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    CASES[case][0](saved)
    clip = str(next((clips_dir / "lastrow").glob("*.csv")))
    for args in (
        ("evaluate", clip, "--checkpoint", str(saved)),
        ("predict", clip, "--checkpoint", str(saved), "--out", str(tmp_path / "p.parquet")),
        ("cobso", str(tmp_path / "no-match.parquet"), "--checkpoint", str(saved)),
    ):
        code, err = _cli(*args, monkeypatch=monkeypatch, capsys=capsys)
        lines = [line for line in err.splitlines() if line.strip()]
        assert code == 2 and len(lines) == 1 and CASES[case][1] in err.replace("\n", ""), (args, err)
        assert "Traceback" not in err
    assert not (tmp_path / "p.parquet").exists()


def test_dashboard_model_loading_refuses_hostile_checkpoint(saved: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dashboard's loader is ``load_checkpoint`` behind ``ui.guarded``: the error is shown as one line."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "dashboard"))
    import ui

    _edit(saved, _set_config("hidden", "abc"))
    shown: list[str] = []
    monkeypatch.setattr(ui.st, "error", shown.append)
    assert ui.guarded(lambda: ui.load_model(str(saved)), "Model refused") is None
    assert len(shown) == 1 and "config.hidden must be int" in shown[0] and "\n" not in shown[0]


@pytest.mark.slow  # ~25 s on a loaded 2-core machine (a fresh interpreter importing torch); the in-process CLI tests above run always
def test_real_process_prints_one_line_and_exits_2(saved: Path, clips_dir: Path) -> None:
    _edit(saved, _set_config("hidden", 1e6))
    clip = str(next((clips_dir / "lastrow").glob("*.csv")))
    done = subprocess.run([sys.executable, "-m", "soccerai.cli", "evaluate", clip, "--checkpoint", str(saved)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "config.hidden must be int, got float" in done.stderr


def test_no_pickle_anywhere_in_the_code() -> None:
    """Nothing soccerai reads from disk or from a user goes through pickle: no pickle/joblib/dill import, no
    torch.load, no numpy allow_pickle=True, no pandas read_pickle (process-pool IPC between soccerai's own workers
    is the only pickle, inside the standard library)."""
    import re

    root = Path(__file__).resolve().parents[1]
    banned = re.compile(r"^\s*(import|from)\s+(pickle|cPickle|dill|joblib|cloudpickle|shelve)\b|torch\.load\(|"
                        r"allow_pickle\s*=\s*True|read_pickle\(|\.load_from_checkpoint\(", re.MULTILINE)
    sources = [p for folder in ("soccerai", "dashboard", "benchmarks", "pipelines") for p in (root / folder).rglob("*.py")]
    assert len(sources) > 50
    hits = [f"{p.relative_to(root)}: {m.group(0).strip()}" for p in sources for m in banned.finditer(p.read_text())]
    assert hits == []
