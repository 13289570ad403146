"""The recipe of the shipped GVRNN: pre-train on SIMULATED matches, fine-tune on the REAL SkillCorner first half.

    SOCCERAI_DATA_DIR=../shared/data python -m soccerai.training.recipe --out data/models/gvrnn-sim-skillcorner

Stages (each ends in a checkpoint under ``--work``, default ``<out>/recipe/<name>``; a re-run resumes from the last
finished stage, ``--resume DIR`` starts the fine-tuning from any checkpoint folder):

1. **simulated windows**: the synthesizer (:mod:`soccerai.synth`) plays the three real Metrica event timelines
   (Games 1-3, one seed each, ``--sim-duration-s`` each, cached by :func:`soccerai.synth.cache.simulated_match_path`);
   each match is cut twice, as the synthesizer wrote it (every player, clean) and as a broadcast camera would
   have recorded it (:func:`soccerai.synth.measurement.observe` with the fitted ``broadcast`` model: the players
   in camera view only, AR(1) + heavy-tailed position noise), 2 s + 4 s windows every second;
2. **pre-train** ``--pretrain-steps`` optimiser steps on them (``gvrnn`` with the rollout, best-of-K and energy
   terms, mean aggregation and player dropout of :class:`soccerai.models.vrnn.VRNNConfig`);
3. **fine-tune** ``--finetune-steps`` on the REAL SkillCorner first half (:func:`soccerai.windows.sources.skillcorner_sets`:
   its last 10 minutes validate, the weights of the lowest validation loss are kept; the second half is the test
   set and is never seen), then write the checkpoint to ``--out`` with the recipe in its manifest metadata.

A stage checkpoint that cannot be read (corrupt, foreign, another model) stops the recipe with one line and deletes
nothing. Training runs on one CPU thread (``--threads``): on a shared 2-core machine more threads only contend.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from soccerai.config import output_dir
from soccerai.errors import CheckpointError, SoccerAIError
from soccerai.models.base import TrajectoryModel
from soccerai.models.registry import build_model
from soccerai.training.checkpoint import MANIFEST_FILE, load_checkpoint, save_checkpoint
from soccerai.training.loop import TrainConfig, fit
from soccerai.windows.container import TrajectoryWindows

SIM_SEEDS = {"game1": 101, "game2": 102, "game3": 103}
OBS, PRED = 20, 40


def simulated_windows(duration_s: float = 900.0, stride: int = 10, seeds: dict[str, int] | None = None,
                      say=print) -> TrajectoryWindows:
    """SIMULATED 2 s + 4 s windows of the three Metrica games, clean and through the broadcast measurement model."""
    from soccerai.data.store import read_match
    from soccerai.synth.cache import simulated_match_path
    from soccerai.synth.measurement import MODELS, observe
    from soccerai.windows.sources import MIN_PLAYERS, match_windows

    parts = []
    for game, seed in (seeds or SIM_SEEDS).items():
        match = read_match(simulated_match_path(game, seed=seed, duration_s=duration_s))
        clean = match_windows(match, OBS, PRED, stride, min_players=MIN_PLAYERS)
        broadcast = match_windows(observe(match, MODELS["broadcast"], seed=seed), OBS, PRED, stride,
                                  min_players=MIN_PLAYERS)
        say(f"simulated {game} (seed {seed}): {len(clean)} clean + {len(broadcast)} broadcast-measured windows")
        parts += [w for w in (clean, broadcast) if len(w)]
    return TrajectoryWindows.concat(parts)


def _load_stage(path: Path) -> TrajectoryModel:
    try:
        model, _ = load_checkpoint(path)
    except SoccerAIError as error:
        raise CheckpointError(f"cannot resume from {path}: {str(error).splitlines()[0]}") from error
    if model.name != "gvrnn":
        raise CheckpointError(f"cannot resume from {path}: it holds a {model.name!r} model, the recipe trains gvrnn")
    return model


def run(args: argparse.Namespace, say=print) -> dict[str, Any]:
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    work = Path(args.work) if args.work else output_dir() / "recipe" / out.name
    work.mkdir(parents=True, exist_ok=True)
    model_config = {"hidden": args.hidden, "latent": args.latent}
    log: dict[str, Any] = {"command": "python -m soccerai.training.recipe " + shlex.join(sys.argv[1:]),
                           "model_config": model_config}
    cpu0, wall0 = time.process_time(), time.perf_counter()
    pre_dir = work / "pretrain"
    if args.resume:
        model = _load_stage(Path(args.resume))
        say(f"resuming the fine-tuning from {args.resume}")
        log["pretrain"] = {"resumed_from": str(args.resume)}
    elif (pre_dir / MANIFEST_FILE).is_file():
        model = _load_stage(pre_dir)
        say(f"pre-training already done: {pre_dir}")
        log["pretrain"] = json.loads((pre_dir / MANIFEST_FILE).read_text())["metadata"].get("stage", {})
    else:
        torch.manual_seed(args.seed)
        np.random.seed(args.seed)
        model = build_model("gvrnn", model_config)
        sim = simulated_windows(args.sim_duration_s, say=say)
        config = TrainConfig(epochs=-1, max_steps=args.pretrain_steps, batch_size=args.batch_size,
                             learning_rate=args.lr, seed=args.seed, accelerator="cpu", lr_schedule="constant",
                             max_time_s=args.pretrain_max_s)
        t, c = time.perf_counter(), time.process_time()
        result = fit(model, sim, None, config)
        model = result.model
        stage = {"data": "SIMULATED: synthesizer on the real Metrica Games 1-3 event timelines, clean + broadcast "
                         "measurement model", "seeds": SIM_SEEDS, "duration_s": args.sim_duration_s,
                 "n_windows": len(sim), "steps": result.steps, "wall_s": round(time.perf_counter() - t, 1),
                 "cpu_s": round(time.process_time() - c, 1), "train": asdict(config),
                 "final_loss": result.final_loss}
        save_checkpoint(model, pre_dir, {"stage": stage, "simulated": True}, training_data=list(SIM_SEEDS))
        say(f"pre-trained {result.steps} steps on {len(sim)} SIMULATED windows: {stage['wall_s']} s wall, "
            f"{stage['cpu_s']} CPU s -> {pre_dir}")
        log["pretrain"] = stage
    from soccerai.windows.sources import skillcorner_sets

    train, val, _ = skillcorner_sets()
    config = TrainConfig(epochs=-1, max_steps=args.finetune_steps, batch_size=args.batch_size,
                         learning_rate=args.finetune_lr, seed=args.seed, accelerator="cpu", lr_schedule="cosine",
                         val_every_steps=args.val_every, keep_best=True, patience=100,
                         max_time_s=args.finetune_max_s)
    t, c = time.perf_counter(), time.process_time()
    result = fit(model, train, val, config)
    finetune = {"data": "REAL: SkillCorner Bayern v Dortmund 2019-11-09 first half (broadcast, 10 Hz)",
                "n_train_windows": len(train), "n_val_windows": len(val), "steps": result.steps,
                "best_step": result.best_step, "best_val_loss": result.best_val_loss,
                "wall_s": round(time.perf_counter() - t, 1), "cpu_s": round(time.process_time() - c, 1),
                "train": asdict(config), "history": result.history}
    log["finetune"] = finetune
    log["total_wall_s"] = round(time.perf_counter() - wall0, 1)
    log["total_cpu_s_this_run"] = round(time.process_time() - cpu0, 1)
    metadata = {
        "recipe": log,
        "data": "SIMULATED pre-training (synthesizer, Metrica Games 1-3) + REAL fine-tuning (SkillCorner Bayern v "
                "Dortmund 2019-11-09 first half, broadcast, 10 Hz)",
        "split": "train: first half minus its last 10 min; val: last 10 min of the first half; test: second half",
        "obs_len": OBS, "pred_len": PRED, "n_train_windows": len(train), "n_val_windows": len(val),
        "steps": result.steps, "simulated": False, "matches": sorted(set(train.meta["match_id"].to_list())),
    }
    save_checkpoint(result.model, out, metadata)
    say(f"fine-tuned {result.steps} steps on {len(train)} REAL windows (best step {result.best_step}): "
        f"{finetune['wall_s']} s wall, {finetune['cpu_s']} CPU s -> {out}")
    return log


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="checkpoint folder to write (e.g. data/models/gvrnn-sim-skillcorner)")
    p.add_argument("--work", default=None, help="stage checkpoints (default <out dir>/recipe/<name>)")
    p.add_argument("--resume", default=None, help="fine-tune from this checkpoint folder instead of pre-training")
    p.add_argument("--pretrain-steps", type=int, default=350)
    p.add_argument("--finetune-steps", type=int, default=350)
    p.add_argument("--pretrain-max-s", type=float, default=None, help="wall-clock cap of the pre-training")
    p.add_argument("--finetune-max-s", type=float, default=None, help="wall-clock cap of the fine-tuning")
    p.add_argument("--sim-duration-s", type=float, default=900.0)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--latent", type=int, default=16)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--finetune-lr", type=float, default=1e-3)
    p.add_argument("--val-every", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        run(args, say=lambda m: print(m, flush=True))
    except CheckpointError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
