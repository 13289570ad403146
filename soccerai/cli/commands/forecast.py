"""``soccerai train``, ``soccerai evaluate``, ``soccerai predict``: the forecasting commands.

Inputs are canonical ``.parquet`` matches (windowed by ``soccerai.windows.sources.MAKE_WINDOWS``) or Last Row ``.csv``
clips. Every table says whether its windows came from simulated or real tracking.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import numpy as np
import polars as pl
import torch
import typer
from rich.console import Console
from rich.progress import track

from soccerai.cli.output import FormatOption, Output
from soccerai.config import output_dir
from soccerai.errors import InvalidParameterError
from soccerai.evaluate.metrics import DEFAULT_K, SCENARIOS, compare_models, forecast, motion_statistics
from soccerai.files import write_parquet_atomic
from soccerai.models import TrajectoryModel, build_model, model_names
from soccerai.training import pretrained
from soccerai.training.loop import TrainConfig, train_and_save
from soccerai.windows import sources
from soccerai.windows.container import TrajectoryWindows
from soccerai.windows.sources import split_windows

console = Console()
err = Console(stderr=True)
Inputs = Annotated[list[Path], typer.Argument(help="Canonical .parquet matches or Last Row .csv clips.")]


OptionalInputs = Annotated[list[Path] | None, typer.Argument(
    help="Canonical .parquet matches or Last Row .csv clips (or none with --dataset).")]
Dataset = Annotated[str | None, typer.Option(
    help="Built-in REAL data set instead of files: skillcorner (first half trains, its last 10 min validate, "
         "second half tests); evaluate also takes hawkeye and lastrow.")]
CheckpointName = Annotated[str, typer.Option(help="Checkpoint folder or pretrained model name (gvrnn-sim-skillcorner, the default shipped GVRNN).")]


def train(
    inputs: OptionalInputs = None,
    model: Annotated[str, typer.Option(help=f"One of {', '.join(model_names())}.")] = "gvrnn",
    epochs: Annotated[int, typer.Option(min=-1, help="Epoch limit (-1: none; then --steps or --budget-s).")] = 20,
    obs: Annotated[int, typer.Option(help="Observed frames at 10 Hz.")] = 20,
    horizon: Annotated[int, typer.Option(help="Predicted frames at 10 Hz.")] = 40,
    stride: Annotated[int, typer.Option(help="Frames between window starts.")] = 5,
    hidden: int = 64,
    latent: int = 16,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    val_fraction: float = 0.2,
    seed: int = 0,
    accelerator: Annotated[str, typer.Option(help="auto, cpu or gpu.")] = "auto",
    devices: Annotated[int, typer.Option(min=1, help="Devices (processes) per node; >1 with --strategy ddp.")] = 1,
    strategy: Annotated[str, typer.Option(help="Lightning strategy: auto, ddp (one process per device).")] = "auto",
    num_nodes: Annotated[int, typer.Option(min=1, help="Machines taking part (DDP across nodes).")] = 1,
    budget_s: Annotated[float | None, typer.Option(help="Stop training after this many seconds.")] = None,
    val_every_steps: Annotated[int | None, typer.Option(help="Validate every N steps (default: each epoch).")] = None,
    out: Annotated[Path | None, typer.Option(help="Checkpoint folder (default <out>/models/<model>).")] = None,
    dataset: Dataset = None,
    steps: Annotated[int, typer.Option(help="Optimiser step limit (-1: none).")] = -1,
    patience: Annotated[int, typer.Option(help="Validation checks without improvement before stopping.")] = 5,
    mirror: Annotated[bool, typer.Option(help="Augment: mirror training windows left/right (y -> -y) half the time.")]
    = True,
    lr_schedule: Annotated[str, typer.Option(help="constant or cosine (over the fit's steps).")] = "constant",
    keep_best: Annotated[bool, typer.Option(help="Keep the weights of the lowest validation loss.")] = False,
) -> None:
    """Train a forecaster; write safetensors weights + JSON config (data, split, steps, commit, frame rate).

    Stored matches (``soccerai ingest``, ``soccerai synthesize --format parquet``) are cut into windows inside
    possession segments; with several matches, whole matches are held out for validation. ``--dataset
    skillcorner`` trains on the real match's first half (:func:`soccerai.windows.sources.skillcorner_sets`).
    """
    train_windows, val_windows, metadata = _training_data(inputs, dataset, obs, horizon, stride, val_fraction, seed)
    config = _model_config(model, {"hidden": hidden, "latent": latent, "horizon": horizon})
    target = out or output_dir() / "models" / model
    console.print(
        f"training {model} on {len(train_windows)} windows, validating on {len(val_windows)} "
        f"({train_windows.tracking_label} tracking)"
    )
    settings = TrainConfig(epochs, batch_size, learning_rate, patience=patience, seed=seed, accelerator=accelerator,
                           devices=devices, strategy=strategy, num_nodes=num_nodes, progress_bar=True,
                           max_steps=steps, max_time_s=budget_s, val_every_steps=val_every_steps, mirror=mirror,
                           lr_schedule=lr_schedule, keep_best=keep_best)
    result = train_and_save(model, config, train_windows, val_windows, settings, target, metadata)
    if result.global_rank != 0:
        return  # a DDP worker process: rank 0 writes and reports
    last = result.history[-1] if result.history else {}
    best = "" if result.best_step is None else f"; kept step {result.best_step} (val_loss {result.best_val_loss:.3f})"
    console.print(f"checkpoint written to {target}; {result.steps} steps; last validation: {last}{best}")


def _training_data(inputs: list[Path] | None, dataset: str | None, obs: int, horizon: int, stride: int,
                   val_fraction: float, seed: int) -> tuple[TrajectoryWindows, TrajectoryWindows, dict]:
    """(train, val, metadata) from files or from the built-in real data set."""
    if dataset is not None:
        if inputs:
            raise InvalidParameterError("give input files or --dataset, not both")
        if dataset != "skillcorner":
            raise InvalidParameterError(f"--dataset for training must be skillcorner, got {dataset!r}")
        from soccerai.windows.sources import skillcorner_sets

        train_windows, val_windows, _ = skillcorner_sets(obs_len=obs, pred_len=horizon, train_stride=stride)
        return train_windows, val_windows, {
            "data": "real: SkillCorner Bayern v Dortmund 2019-11-09 (broadcast, 10 Hz)",
            "split": "train: first half minus its last 10 min (training windows end >= one window before); "
                     "val: last 10 min of the first half; test: second half",
            "stride": stride,
            "matches": sorted(set(train_windows.meta["match_id"].to_list())),
        }
    if not inputs:
        raise InvalidParameterError("no input files given (or use --dataset skillcorner)")
    train_windows, val_windows = split_windows(load_windows(inputs, obs, horizon, stride), val_fraction, seed)
    return train_windows, val_windows, {"inputs": [str(p) for p in inputs], "stride": stride}


def load_windows(inputs: list[Path], obs: int, horizon: int, stride: int) -> TrajectoryWindows:
    """:func:`soccerai.windows.sources.load_windows`, printing one line per file with the windows made and skipped.

    Broadcast tracking (SkillCorner: 12-19 of the 22 players in view) gives partial-visibility windows: absent
    agents are masked; windows with fewer than ``sources.MIN_PLAYERS`` tracked players at some frame are skipped."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        windows = sources.load_windows(inputs, obs, horizon, stride)
    for warning in caught:
        if issubclass(warning.category, UserWarning):
            err.print(f"windows: {warning.message}", markup=False, highlight=False, soft_wrap=True)
    err.print(f"windows: {len(windows)} used from {len(inputs)} file(s) ({windows.tracking_label} tracking; "
                  f"agents out of view masked)", markup=False, highlight=False, soft_wrap=True)
    return windows


def _model_config(model: str, wanted: dict[str, int]) -> dict[str, int]:
    """The command-line settings that model's config dataclass has (AE has no latent, GVRNN no horizon, ...)."""
    from dataclasses import fields

    from soccerai.models import MODELS

    if model not in MODELS:
        raise InvalidParameterError(f"unknown model {model!r}; choose one of {', '.join(model_names())}")
    known = {f.name for f in fields(MODELS[model].config_class)}
    return {key: value for key, value in wanted.items() if key in known}


def _load_models(checkpoints: list[str]) -> dict[str, TrajectoryModel]:
    models: dict[str, TrajectoryModel] = {"constant_velocity": build_model("constant_velocity")}
    for name in checkpoints:
        model, record = pretrained.load(name)
        label = record["model"] if record["model"] not in models else f"{record['model']} ({Path(name).name})"
        models[label] = model
    return models


TEST_SETS = ("skillcorner", "hawkeye", "lastrow")


def _test_set(dataset: str, obs: int, horizon: int) -> TrajectoryWindows:
    """The built-in REAL test set ``dataset`` (second half / Hawk-Eye minutes / Last Row clip), 2 s apart."""
    from soccerai.windows import sources as datasets

    if dataset == "skillcorner":
        return datasets.skillcorner_sets(obs_len=obs, pred_len=horizon)[2]
    if dataset == "hawkeye":
        return datasets.hawkeye_test_set(obs_len=obs, pred_len=horizon)
    if dataset == "lastrow":
        return datasets.lastrow_test_set(obs_len=obs, pred_len=horizon)
    raise InvalidParameterError(f"unknown --dataset {dataset!r}; choose {', '.join(TEST_SETS)}")


def evaluate(
    inputs: OptionalInputs = None,
    checkpoint: Annotated[list[str] | None, typer.Option(
        help="Checkpoint folders or pretrained names (repeat for VRNN, GVRNN).")] = None,
    obs: int = 20,
    horizon: int = 40,
    stride: int = 5,
    samples: Annotated[int, typer.Option(help="Samples per window (K of minADE_K).")] = DEFAULT_K,
    seed: int = 0,
    dataset: Dataset = None,
    out: Annotated[Path | None, typer.Option(help="With --dataset: folder for the table (.md + .parquet).")] = None,
    fmt: FormatOption = "table",
) -> None:
    """Compare constant velocity and trained models on held-out data: full scene and A1/D1/D2 ghosting.

    ``--dataset skillcorner|hawkeye|lastrow`` scores a built-in REAL test set and prints the forecast table of
    ``benchmarks/forecast.py`` (per-scene and per-agent minADE, bootstrap intervals, wins against CV).
    """
    show = Output(fmt)
    if dataset is not None:
        if inputs:
            raise InvalidParameterError("give input files or --dataset, not both")
        _evaluate_dataset(dataset, checkpoint or [], obs, horizon, samples, seed, out, show)
        return
    if not inputs:
        raise InvalidParameterError("no input files given (or use --dataset)")
    models = _load_models(checkpoint or [])  # checkpoints are verified before any data is read
    windows = load_windows(inputs, obs, horizon, stride)
    tables = [compare_models({name: model}, windows, samples, seed) for name, model in track(
        models.items(), description="evaluating", console=show.err, transient=True,
        disable=not show.err.is_terminal)]
    table = pl.concat(tables)
    show.table(table, f"Honest forecast error (m), {len(windows)} windows, {obs / 10:.1f} s observed, "
                      f"{horizon / 10:.1f} s predicted, {windows.tracking_label} tracking")
    show.table(_plausibility_table(models, windows, samples, seed),
               "Player motion plausibility (speed m/s, acceleration m/s^2)")


def _evaluate_dataset(dataset: str, checkpoints: list[str], obs: int, horizon: int, samples: int, seed: int,
                      out: Path | None, show: Output) -> None:
    from soccerai.evaluate import forecast_table

    models = _load_models(checkpoints)
    windows = _test_set(dataset, obs, horizon)
    table = forecast_table.forecast_table(models, {dataset: windows}, samples, seed)
    view = table.select("data", "scenario", "agents", "model", "windows", pl.col(pl.Float64).exclude(
        "^.*_(lo|hi)$"))
    show.table(view, f"Forecast table, {dataset} ({windows.tracking_label} tracking), {obs / 10:g} s observed, "
                     f"{horizon / 10:g} s predicted, K={samples}")
    if out is not None:
        md, parquet = forecast_table.save(table, out, f"evaluate-{dataset}", samples)
        show.say(f"saved {md} and {parquet}")


def _plausibility_table(models: dict[str, TrajectoryModel], windows: TrajectoryWindows, k: int, seed: int
                        ) -> pl.DataFrame:
    """Player speed / acceleration percentiles of full-scene samples versus the real future."""
    truth = torch.as_tensor(windows.states[:, windows.obs_len :, :, :2])
    players = torch.as_tensor(windows.mask[:, windows.obs_len :]).clone()
    players[..., -1] = False  # the ball is not a player
    rows = {f"observed ({windows.tracking_label})": motion_statistics(truth, players)}
    for name, model in models.items():
        samples, _, _ = forecast(model, windows, "full_scene", k, seed)
        rows[name] = motion_statistics(samples, players.unsqueeze(0).expand(samples.shape[:-1]))
    return pl.DataFrame([{"trajectories": name, **stats} for name, stats in rows.items()])


def predict(
    inputs: Inputs,
    checkpoint: CheckpointName,
    out: Annotated[Path, typer.Option(help="Output parquet file.")],
    obs: int = 20,
    horizon: int = 40,
    stride: int = 5,
    samples: int = DEFAULT_K,
    scenario: Annotated[str, typer.Option(help=" or ".join(SCENARIOS))] = "full_scene",
    seed: int = 0,
) -> None:
    """Sample futures and write them as a long parquet table (one row per sample, window, step, agent)."""
    if out.suffix != ".parquet":
        raise InvalidParameterError(f"--out must be a .parquet file, got {out}")
    model, record = pretrained.load(checkpoint)  # verified before any data is read
    windows = load_windows(inputs, obs, horizon, stride)
    pretrained.check_compatible(record, windows)
    futures, _, valid = forecast(model, windows, scenario, samples, seed)
    frame = futures_frame(futures, valid.any(dim=1), windows, record["model"])
    write_parquet_atomic(frame, out)
    console.print(f"wrote {frame.height} rows ({samples} samples x {len(windows)} windows) to {out}")


def futures_frame(futures: torch.Tensor, predicted: torch.Tensor, windows: TrajectoryWindows, model: str) -> pl.DataFrame:
    """Long table of sampled positions ``[S, W, H, N, 2]``: window_id, sample, step, agent, object_id, x, y, ..."""
    s, w, h, n, _ = futures.shape
    index = np.indices((s, w, h, n)).reshape(4, -1)
    object_ids = np.array(windows.meta["object_ids"].to_list(), dtype=object)
    return pl.DataFrame(
        {
            "window_id": windows.meta["window_id"].to_numpy()[index[1]],
            "sample": index[0].astype(np.int32),
            "step": (index[2] + 1).astype(np.int32),
            "time_s": ((index[2] + 1) / 10.0).astype(np.float32),
            "agent": index[3].astype(np.int32),
            "object_id": object_ids[index[1], index[3]].astype(str),
            "x": futures[..., 0].reshape(-1).numpy(),
            "y": futures[..., 1].reshape(-1).numpy(),
            "predicted": predicted.numpy()[index[1], index[3]],
            "model": model,
            "simulated": windows.simulated,
        }
    )


def register(app: typer.Typer) -> None:
    """Add ``train``, ``evaluate`` and ``predict`` to the soccerai app."""
    app.command("train")(train)
    app.command("evaluate")(evaluate)
    app.command("predict")(predict)
