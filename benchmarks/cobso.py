"""Benchmark: how PAIRED C-OBSO values spread (share of exact zeros, of positive and negative values).

C-OBSO (:mod:`soccerai.evaluate.cobso`) compares the model's scene with A1's REAL run against its scene with A1's
counterfactual run, same model, same random draws. The unpaired form (observed frame minus forecast) is negative by
construction (D2 is chosen nearest the shooter at the scored frame, any forecast moves him away); before the pairing
the real match gave 12 pairs, zero share 1.0 (every clipped value 0).

Data:

* REAL: the SkillCorner Bayern v Dortmund match (broadcast tracking, no events: shots detected in the tracking), the
  shipped GVRNN (``gvrnn-skillcorner``) forecasting, ``--samples`` samples per pair;
* SIMULATED: a soccerai synthesizer match driven by the real Metrica Game 1 event timeline (``--sim-minutes``
  minutes), the same model. Also a scripted DECOY check on the simulated shots: a forecaster that, in the
  counterfactual scene, leaves A1 and D1 where they stood and puts D2 on the shooter (1 m goal-side), and in the
  real-run scene lets D1 and D2 follow their true runs; ``sim_cobso_decoy_positive`` is the share of pairs where the
  shooter's real marker was drawn off him (positive signed C-OBSO), i.e. where the real runs created space.

    .venv/bin/python benchmarks/cobso.py [--samples 10] [--sim-minutes 20] [--no-real] [--no-sim]

Last line: ``RESULT real_cobso_pairs=.. real_cobso_zero_share=.. real_cobso_positive_share=..
real_cobso_negative_share=.. sim_cobso_pairs=.. sim_cobso_zero_share=.. sim_cobso_positive_share=..
sim_cobso_decoy_positive=.. model=..``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import polars as pl
import torch

from soccerai.config import data_dir, metrica_events_dir
from soccerai.evaluate.cobso import cobso_distribution
from soccerai.evaluate.match_obso import match_scenes, scenes_cobso
from soccerai.models.base import TrajectoryModel
from soccerai.training import pretrained
from soccerai.windows.container import N_PER_TEAM

REAL_FOLDER = "real-matches/skillcorner-bayern-dortmund-2019-11-09"


class DecoyForecast(TrajectoryModel):
    """Scripted: the true future of the given agents; in the counterfactual (A1 forecast), A1 and D1 stand still
    and D2 marks the shooter 1 m goal-side (A1 made no run); in the real-run scene (A1 given), D1 and D2 follow their true runs."""

    name = "decoy"

    def __init__(self, truth: torch.Tensor, shooter: int) -> None:
        super().__init__()
        self.truth, self.shooter = truth, shooter

    def loss(self, batch):  # pragma: no cover - never trained
        return {"loss": torch.zeros(())}

    def _sample(self, history, horizon, n_samples, predict_mask, given_future, generator):
        out = given_future[None].expand(n_samples, -1, -1, -1, -1).clone()
        for row in range(history.batch_size):
            predicted = predict_mask[row].nonzero().flatten().tolist()
            counterfactual = any(a < N_PER_TEAM for a in predicted)
            for agent in predicted:
                out[:, row, :, agent] = self.truth[:, agent]
            if counterfactual:
                attackers = [a for a in predicted if a < N_PER_TEAM]
                defenders = [a for a in predicted if a >= N_PER_TEAM]
                start = history.states[row, -1, :, :2]  # where they stood at the end of the observation
                for agent in attackers + defenders[:-1]:
                    out[:, row, :, agent] = start[agent]
                mark = self.truth[-1, self.shooter] + torch.tensor([1.0, 0.0])
                out[:, row, :, defenders[-1]] = mark  # D2 (last of A1, D1, D2) on the shooter
        return out


def load_real():
    from soccerai.io import load_match

    folder = data_dir() / REAL_FOLDER
    return load_match([folder / "match_data.json", folder / "structured_data.json.xz"])


def load_sim(minutes: float):
    from soccerai.synth import synthesize_match

    return synthesize_match(metrica_events_dir() / "Sample_Game_1_RawEventsData.csv", seed=0,
                            duration_s=minutes * 60)


def distribution(label: str, match, model, samples: int) -> tuple[dict, list]:
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scenes = match_scenes(match)
        pairs, players = scenes_cobso(scenes, model, n_samples=samples, players=match.players)
    d = cobso_distribution(pairs["cobso_signed"], pairs["cobso"])
    print(f"{label}: {len(scenes)} shot scenes, {d['pairs']} pairs in {time.perf_counter() - start:.0f} s; "
          f"zero {d['zero_share']:.2f}, positive {d['positive_share']:.2f}, negative {d['negative_share']:.2f}, "
          f"signed mean {d['signed_mean']:.2e}, clipped mean {d['clipped_mean']:.2e}")
    with pl.Config(tbl_rows=40, tbl_cols=12, fmt_str_lengths=28):
        print(pairs.select("shot_id", "shooter_name", "a1_name", "d2_name", "real_obso", "real_run_obso_mean",
                           "predicted_obso_mean", "cobso_signed", "cobso"))
        print(players.head(10))
    return d, scenes


def decoy_share(scenes) -> tuple[float, int]:
    """Share of (shot, A1) pairs whose signed C-OBSO is positive under :class:`DecoyForecast`."""
    values = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for scene in scenes:
            truth = torch.as_tensor(scene.window.states[0, scene.window.obs_len :, :, :2], dtype=torch.float32)
            pairs, _ = scenes_cobso([scene], DecoyForecast(truth, scene.shooter_index), n_samples=1)
            values.extend(pairs["cobso_signed"].to_list())
    positive = sum(v > 0 for v in values)
    return (positive / len(values) if values else float("nan")), len(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--sim-minutes", type=float, default=20.0)
    parser.add_argument("--model", default=pretrained.DEFAULT_MODEL)
    parser.add_argument("--no-real", action="store_true")
    parser.add_argument("--no-sim", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model, _ = pretrained.load(args.model)
    model.eval()
    nan = {"pairs": 0, "zero_share": float("nan"), "positive_share": float("nan"), "negative_share": float("nan")}
    real = sim = nan
    decoy, decoy_pairs = float("nan"), 0
    if not args.no_real:
        real, _ = distribution("REAL SkillCorner Bayern v Dortmund (broadcast)", load_real(), model, args.samples)
    if not args.no_sim:
        sim, scenes = distribution(f"SIMULATED Metrica Game 1 timeline, {args.sim_minutes:g} min",
                                   load_sim(args.sim_minutes), model, args.samples)
        decoy, decoy_pairs = decoy_share(scenes)
        print(f"SIMULATED decoy check: {decoy_pairs} pairs, positive share {decoy:.2f}")
    print(f"RESULT real_cobso_pairs={real['pairs']} real_cobso_zero_share={real['zero_share']:.2f} "
          f"real_cobso_positive_share={real['positive_share']:.2f} "
          f"real_cobso_negative_share={real['negative_share']:.2f} sim_cobso_pairs={sim['pairs']} "
          f"sim_cobso_zero_share={sim['zero_share']:.2f} sim_cobso_positive_share={sim['positive_share']:.2f} "
          f"sim_cobso_decoy_positive={decoy:.2f} samples={args.samples} model={Path(str(args.model)).name}")


if __name__ == "__main__":
    main()
