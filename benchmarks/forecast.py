"""Forecasting benchmark on REAL play (the face of :mod:`soccerai.bench.forecast`).

    SOCCERAI_DATA_DIR=../shared/data .venv/bin/python benchmarks/forecast.py [--steps 60] [--budget-s 240] \
        [--models all] [--pretrain-sim-steps 40]

``--models`` (comma list, default vrnn,gvrnn; ``all``: VRNN, GVRNN with every encoder, AE, VAE, GAN, DDPM,
Transformer) are trained from scratch on the REAL SkillCorner first half (its last 10 minutes held out for
validation) under equal optimiser steps (``--steps``) AND equal wall time (``--budget-s``); the shipped pretrained
GVRNN (``soccerai.training.pretrained.DEFAULT_MODEL``, ``--extra-pretrained`` adds others), constant velocity and damped constant velocity (gamma fitted on the training half) are scored beside them on the REAL second half, the
REAL Hawk-Eye minutes, the REAL Last Row clip and one SIMULATED game with its own seed. Honest protocol: the models
see only the observed frames; an agent is forecast only if tracked at the last observed frame and scored only where
tracked; given agents are held, never fed as (0, 0).

Prints one table (markdown + parquet under ``<out>/benchmarks``: per-scene minADE_20 / minFDE_20 at 1-4 s, per-agent
minADE_20, ADE of one sample, 95 % block-bootstrap intervals over windows, paired win share against CV; published
anchors of OTHER protocols below it), sampling times, and ends with one ``RESULT ...`` line (full scene, visible
players, 4 s; ``gvrnn`` = the shipped model, ``vrnn`` = the equal-wall VRNN; timings on a shared, loaded CPU).
"""

from __future__ import annotations

import argparse
import time

import torch

from soccerai.bench import forecast as fb
from soccerai.config import output_dir
from soccerai.evaluate.forecast_table import markdown


def main() -> None:
    defaults = fb.ForecastBenchmarkConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=defaults.steps, help="equal-steps budget per model")
    parser.add_argument("--budget-s", type=float, default=defaults.budget_s, help="equal-wall budget per model (s)")
    parser.add_argument("--hidden", type=int, default=defaults.hidden)
    parser.add_argument("--latent", type=int, default=defaults.latent)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for training and scoring")
    parser.add_argument("--boot", type=int, default=defaults.n_boot, help="bootstrap resamples")
    parser.add_argument("--pretrained", default=defaults.pretrained, help="shipped model name or folder ('' none)")
    parser.add_argument("--extra-pretrained", default="",
                        help="comma list of other shipped models / checkpoint folders scored beside --pretrained")
    parser.add_argument("--full-scene-only", action="store_true", help="skip the ghosting scenario (faster)")
    parser.add_argument("--no-simulated", action="store_true", help="skip the simulated game")
    parser.add_argument("--max-test-windows", type=int, default=None, help="smoke runs: windows scored per set")
    parser.add_argument("--models", default=",".join(defaults.models),
                        help="comma list of backbones (vrnn, gvrnn, gvrnn:gat, ae, ...) or all")
    parser.add_argument("--pretrain-sim-steps", type=int, default=0,
                        help="also GVRNN pre-trained N steps on simulated Games 1+2, then fine-tuned on the real half")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = fb.ForecastBenchmarkConfig(steps=args.steps, budget_s=args.budget_s, hidden=args.hidden,
                                        latent=args.latent, n_boot=args.boot, pretrained=args.pretrained or None,
                                        simulated=not args.no_simulated, max_test_windows=args.max_test_windows,
                                        models=tuple(m.strip() for m in args.models.split(",") if m.strip()),
                                        pretrain_sim_steps=args.pretrain_sim_steps,
                                        extra_pretrained=tuple(m for m in args.extra_pretrained.split(",") if m),
                                        scenarios=("full_scene",) if args.full_scene_only else
                                        ("full_scene", "ghosting"))
    wall, cpu = time.perf_counter(), time.process_time()
    table, timings = fb.run(config, say=lambda m: print(m, flush=True))
    md, parquet = fb.save(table, output_dir() / "benchmarks", config)
    print(markdown(table, config.n_samples))
    print(f"saved {md} and {parquet}; benchmark {time.perf_counter() - wall:.0f} s wall, "
          f"{time.process_time() - cpu:.0f} CPU s (shared, loaded 2-core machine)")
    print(fb.result_line(table, timings, config), flush=True)


if __name__ == "__main__":
    main()
