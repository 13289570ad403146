"""Generators (AE, CVAE, GAN, DDPM diffusion, transformer) and GVRNN with every encoder, on real Last Row windows."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from soccerai.bench.backbones import BenchmarkConfig
from soccerai.errors import InvalidParameterError
from soccerai.models.ae import AEConfig, AutoEncoder
from soccerai.models.base import TrajectoryBatch, TrajectoryModel
from soccerai.models.diffusion import DiffusionConfig, TrajectoryDiffusion
from soccerai.models.encoders import ENCODERS
from soccerai.models.gan import GANConfig, TrajectoryGAN
from soccerai.models.gvrnn import GVRNN, GVRNNConfig
from soccerai.models.schedulers import SCHEDULES, AncestralSampler, DDIMSampler, NoiseSchedule, beta_schedule
from soccerai.models.transformer import TrajectoryTransformer, TransformerConfig
from soccerai.models.vae import ConditionalVAE, VAEConfig
from soccerai.windows.container import N_AGENTS, TrajectoryWindows
from soccerai.windows.sources import lastrow_clip_windows

HORIZON = 6
GENERATORS = {
    "ae": lambda: AutoEncoder(AEConfig(hidden=16, horizon=HORIZON)),
    "vae": lambda: ConditionalVAE(VAEConfig(hidden=16, latent=4, horizon=HORIZON)),
    "gan": lambda: TrajectoryGAN(GANConfig(hidden=16, noise=4, horizon=HORIZON, variety_k=3)),
    "diffusion": lambda: TrajectoryDiffusion(DiffusionConfig(hidden=16, horizon=HORIZON, diffusion_steps=20)),
    "transformer": lambda: TrajectoryTransformer(TransformerConfig(hidden=16, horizon=HORIZON)),
}
STOCHASTIC = ("vae", "gan", "diffusion")
# The supervised part each model minimises (the GAN's combined loss also holds the discriminator's, which need not fall).
FIT_KEY = {"ae": "loss", "vae": "loss", "gan": "variety", "diffusion": "loss", "transformer": "loss"}


@pytest.fixture(scope="module")
def batch(clips_dir: Path) -> TrajectoryBatch:
    windows = lastrow_clip_windows(clips_dir / "lastrow" / "LIV_[2]-1_CHE.csv", obs_len=5, pred_len=HORIZON, stride=6)
    return TrajectoryBatch.from_windows(windows, slice(0, 6))


def _model(name: str) -> TrajectoryModel:
    torch.manual_seed(0)
    return GENERATORS[name]()


def _ghosting(batch: TrajectoryBatch) -> torch.Tensor:
    predict = torch.zeros(batch.batch_size, N_AGENTS, dtype=torch.bool)
    predict[:, [3, 12, 14]] = True
    return predict


def _seeded_loss(model: TrajectoryModel, batch: TrajectoryBatch, key: str, seed: int = 123) -> float:
    torch.manual_seed(seed)  # same ghosting masks, noise and diffusion steps before and after training
    with torch.no_grad():
        return model.loss(batch)[key].item()


def _fit(model: TrajectoryModel, batch: TrajectoryBatch, steps: int, lr: float = 3e-3) -> None:
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    for step in range(steps):
        torch.manual_seed(step)
        loss = model.loss(batch)["loss"]
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_a_few_steps_reduce_the_loss(name: str, batch: TrajectoryBatch) -> None:
    model = _model(name)
    before = _seeded_loss(model, batch, FIT_KEY[name])
    _fit(model, batch, steps=25)
    after = _seeded_loss(model, batch, FIT_KEY[name])
    assert after < 0.9 * before, (before, after)


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_sample_shapes_and_given_agents_follow_truth(name: str, batch: TrajectoryBatch) -> None:
    model = _model(name).train()
    predict, truth = _ghosting(batch), batch.future_positions()
    samples = model.sample(batch.history(), HORIZON, 3, predict, truth.clone())
    assert samples.shape == (3, batch.batch_size, HORIZON, N_AGENTS, 2) and torch.isfinite(samples).all()
    given = ~predict[None, :, None, :].expand(samples.shape[:-1])
    assert torch.equal(samples[given], truth.unsqueeze(0).expand_as(samples)[given])
    assert model.training  # sampling ran in eval mode and restored the mode
    shorter = model.sample(batch.history(), HORIZON - 2, 2)
    assert shorter.shape == (2, batch.batch_size, HORIZON - 2, N_AGENTS, 2) and torch.isfinite(shorter).all()


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_predicted_agents_never_read_their_true_future(name: str, batch: TrajectoryBatch) -> None:
    model = _model(name)
    predict = _ghosting(batch)
    truth = batch.future_positions().clone()
    tampered = truth.clone()
    hidden = predict[:, None, :].expand(truth.shape[:-1])
    tampered[hidden] += 25.0 * torch.randn(int(hidden.sum()), 2)
    first = model.sample(batch.history(), HORIZON, 4, predict, truth, torch.Generator().manual_seed(7))
    second = model.sample(batch.history(), HORIZON, 4, predict, tampered, torch.Generator().manual_seed(7))
    assert torch.equal(first, second)
    moved_given = truth.clone()
    moved_given[~hidden] += 5.0  # the GIVEN agents' futures are read: the forecasts react to them
    third = model.sample(batch.history(), HORIZON, 4, predict, moved_given, torch.Generator().manual_seed(7))
    assert not torch.allclose(first[:, :, :, [3, 12, 14]], third[:, :, :, [3, 12, 14]])
    if name in STOCHASTIC:
        other = model.sample(batch.history(), HORIZON, 4, predict, truth, torch.Generator().manual_seed(8))
        assert not torch.equal(first, other)


@pytest.mark.parametrize("name", ["ae", "transformer"])
def test_permuting_agents_permutes_forecasts(name: str, batch: TrajectoryBatch) -> None:
    model = _model(name)
    perm = torch.randperm(N_AGENTS, generator=torch.Generator().manual_seed(3))
    history = batch.history()
    permuted = TrajectoryBatch(
        history.states[:, :, perm], history.mask[:, :, perm], history.is_goalkeeper[:, perm],
        history.roles[perm], history.obs_len,
    )
    out = model.sample(history, HORIZON, 1)
    torch.testing.assert_close(model.sample(permuted, HORIZON, 1), out[:, :, :, perm], atol=1e-4, rtol=1e-4)


def test_gan_gradients_stay_with_their_player(batch: TrajectoryBatch) -> None:
    """The combined objective gives the discriminator exactly grad L_D and the generator exactly grad L_G."""
    model = _model("gan")

    def grads(key: str, params: list[torch.nn.Parameter]) -> list[torch.Tensor]:
        torch.manual_seed(5)
        return torch.autograd.grad(model.loss(batch)[key], params, allow_unused=True)

    discriminator = list(model.discriminator.parameters())
    generator = list(model.generator.parameters()) + list(model.scene.parameters())
    for total, own in zip(grads("loss", discriminator), grads("discriminator", discriminator), strict=True):
        torch.testing.assert_close(total, own)
    for total, own in zip(grads("loss", generator), grads("generator", generator), strict=True):
        torch.testing.assert_close(total, own)


def test_gan_and_diffusion_train_with_the_common_trainer(batch: TrajectoryBatch, clips_dir: Path) -> None:
    from soccerai.training.loop import TrainConfig, fit_model

    windows = lastrow_clip_windows(clips_dir / "lastrow" / "LIV_[2]-1_CHE.csv", obs_len=5, pred_len=HORIZON, stride=6)
    for cls, config in ((TrajectoryGAN, GANConfig(hidden=8, noise=2, horizon=HORIZON)),
                        (TrajectoryDiffusion, DiffusionConfig(hidden=8, horizon=HORIZON, diffusion_steps=10))):
        torch.manual_seed(0)  # fit_model seeds 0 too: the same initial weights
        untrained = cls(config).state_dict()
        result = fit_model(cls.name, config, windows, None, TrainConfig(epochs=1, batch_size=8, max_steps=2))
        assert isinstance(result.model, cls)
        changed = [not torch.equal(untrained[k], v) for k, v in result.model.state_dict().items()]
        assert any(changed)


@pytest.mark.parametrize("kind", SCHEDULES)
def test_beta_schedules_run_from_data_to_noise(kind: str) -> None:
    betas = beta_schedule(kind, 100)
    assert betas.shape == (100,) and bool((betas > 0).all() and (betas < 1).all())
    assert bool((betas[1:] >= betas[:-1]).all())
    schedule = NoiseSchedule(kind, 100)
    assert schedule.alpha_bars[0] > 0.99 and schedule.alpha_bars[-1] < 0.01


def test_ddim_with_every_step_and_eta_one_is_the_ancestral_sampler() -> None:
    schedule = NoiseSchedule("linear", 20)
    fixed = torch.nn.Linear(4, 4)
    start = torch.randn(3, 4, generator=torch.Generator().manual_seed(0))
    outputs = []
    for sampler in (AncestralSampler(schedule, clip=3.0), DDIMSampler(schedule, 20, eta=1.0, clip=3.0)):
        x, generator = start.clone(), torch.Generator().manual_seed(1)
        with torch.no_grad():
            for t, t_prev in sampler.timesteps():
                x = sampler.step(fixed(x), t, t_prev, x, generator)
        outputs.append(x)
    torch.testing.assert_close(outputs[0], outputs[1], atol=1e-4, rtol=1e-4)
    assert len(DDIMSampler(schedule, 5).timesteps()) == 5


def test_diffusion_fast_sampler_uses_fewer_network_calls(batch: TrajectoryBatch) -> None:
    model = _model("diffusion")
    calls = []
    model.denoiser.register_forward_hook(lambda *_: calls.append(1))
    model.sample(batch.history(), HORIZON, 2)
    full = len(calls)
    model.config.sampler, model.config.sample_steps = "ddim", 4
    calls.clear()
    fast = model.sample(batch.history(), HORIZON, 2)
    assert (full, len(calls)) == (20, 4) and torch.isfinite(fast).all()


@pytest.mark.parametrize("encoder", sorted(ENCODERS))
def test_gvrnn_trains_and_samples_with_every_encoder(encoder: str, batch: TrajectoryBatch) -> None:
    torch.manual_seed(0)
    model = GVRNN(GVRNNConfig(hidden=8, latent=2, encoder=encoder))
    small = TrajectoryBatch(batch.states[:3], batch.mask[:3], batch.is_goalkeeper[:3], batch.roles, batch.obs_len)
    before = _seeded_loss(model, small, "loss")
    _fit(model, small, steps=6, lr=1e-2)
    assert _seeded_loss(model, small, "loss") < before
    samples = model.sample(small.history(), HORIZON, 2, _ghosting(small), small.future_positions().clone())
    assert samples.shape == (2, 3, HORIZON, N_AGENTS, 2) and torch.isfinite(samples).all()


def test_bad_arguments(batch: TrajectoryBatch) -> None:
    with pytest.raises(InvalidParameterError, match="beta schedule"):
        TrajectoryDiffusion(DiffusionConfig(horizon=HORIZON, schedule="cosine"))
    with pytest.raises(InvalidParameterError, match="sampler"):
        TrajectoryDiffusion(DiffusionConfig(horizon=HORIZON, sampler="euler"))
    with pytest.raises(InvalidParameterError, match="interaction encoder"):
        AutoEncoder(AEConfig(horizon=HORIZON, encoder="transformer"))
    model = _model("ae")
    with pytest.raises(InvalidParameterError, match="horizon"):
        model.sample(batch.history(), HORIZON + 1, 1)
    with pytest.raises(InvalidParameterError, match="given_future"):
        model.sample(batch.history(), HORIZON, 1, _ghosting(batch))
    longer = TrajectoryBatch(batch.states[:, :-1], batch.mask[:, :-1], batch.is_goalkeeper, batch.roles, batch.obs_len)
    with pytest.raises(InvalidParameterError, match="future frames"):
        model.loss(longer)


def test_benchmark_rejects_absurd_settings() -> None:
    from typer.testing import CliRunner

    from soccerai.bench.backbones import BenchmarkConfig
    from soccerai.cli.app import app

    with pytest.raises(InvalidParameterError, match="budget_s"):
        BenchmarkConfig(budget_s=0)
    with pytest.raises(InvalidParameterError, match="unknown benchmark backbones: lstm"):
        BenchmarkConfig(encoders=("lstm",))
    result = CliRunner().invoke(app, ["benchmark", "--budget-s", "-1"])
    assert result.exit_code != 0 and isinstance(result.exception, InvalidParameterError)


@pytest.mark.slow
def test_tiny_benchmark_writes_one_labelled_table(events_dir: Path, clips_dir: Path, tmp_path: Path) -> None:
    import polars as pl

    from soccerai.bench.backbones import BenchmarkConfig, run_benchmark, save_table

    config = BenchmarkConfig(budget_s=1, hidden=8, latent=2, train_matches=1, match_duration_s=120, test_windows=3,
                             n_samples=2, encoders=("mpnn",), generators=("ae", "diffusion"))
    table = run_benchmark(config, events_dir, [clips_dir / "lastrow" / "LIV_[2]-1_CHE.csv"])
    models = set(table["model"])
    assert {"constant velocity", "gvrnn [mpnn]", "ae", "diffusion [DDIM 10 steps]"} <= models
    assert set(table["data"]) == {"simulated", "real (Last Row)"} and table.height == 4 * len(models)
    markdown, parquet = save_table(table, config, tmp_path)
    assert "| simulated | full_scene | constant velocity |" in markdown.read_text()
    assert pl.read_parquet(parquet).height == table.height


def test_benchmark_result_line_ranks_the_block() -> None:
    import polars as pl

    from soccerai.bench.backbones import BenchmarkConfig, result_line

    table = pl.DataFrame({
        "data": ["simulated", "simulated", "real (Last Row)"], "scenario": ["ghosting"] * 3,
        "model": ["constant velocity", "gvrnn [gcn]", "ae"], "min_ade_20": [2.2, 1.9, 0.5],
    })
    line = result_line(table, BenchmarkConfig(n_samples=20))
    assert line.startswith("RESULT data=simulated scenario=ghosting best=gvrnn_gcn ")
    assert "constant_velocity_minade20=2.200" in line and "ae_" not in line


# -- equal optimiser steps (``soccerai benchmark --steps N``) --------------------------------------------------------
def _tiny_steps_config(**overrides: object) -> BenchmarkConfig:
    settings = {"steps": 3, "budget_s": None, "hidden": 4, "latent": 2, "batch_size": 4, "obs_s": 0.5, "pred_s": 0.6}
    return BenchmarkConfig(**{**settings, **overrides})


@pytest.fixture(scope="module")
def six_real_windows(clips_dir: Path) -> TrajectoryWindows:
    """Six real Last Row windows (5 observed + 6 future frames): batch 4 gives 2 batches an epoch."""
    windows = lastrow_clip_windows(clips_dir / "lastrow" / "LIV_[2]-1_CHE.csv", obs_len=5, pred_len=HORIZON, stride=6)
    return windows.subset(list(range(6)))


def test_equal_steps_gives_every_model_exactly_n_steps(six_real_windows: TrajectoryWindows) -> None:
    from soccerai.bench.backbones import entries, train_with_budget

    config = _tiny_steps_config()  # 3 steps = one epoch and a half: the step limit, not the epoch end, stops it
    trained = 0
    for entry in entries(config):
        torch.manual_seed(config.seed)
        model = entry.build()
        record = train_with_budget(model, six_real_windows, config)
        if not model.trainable:
            assert (record.steps, record.capped) == (0, None), entry.label
            continue
        assert (record.steps, record.capped) == (3, False), (entry.label, record)
        assert record.seconds > 0 and record.cpu_seconds > 0
        trained += 1
    assert trained == 1 + len(config.encoders) + len(config.generators)  # VRNN, every GVRNN, every generator


def test_wall_cap_marks_a_model_that_cannot_finish(six_real_windows: TrajectoryWindows) -> None:
    from soccerai.bench.backbones import train_with_budget

    config = _tiny_steps_config(steps=10_000, budget_s=0.05)  # Lightning checks the clock after every step
    torch.manual_seed(0)
    record = train_with_budget(GVRNN(GVRNNConfig(hidden=4, latent=2, encoder="gat")), six_real_windows, config)
    assert 1 <= record.steps < 10_000 and record.capped is True
    wall = _tiny_steps_config(steps=None, budget_s=0.05)  # wall mode: the clock always ends it, nothing to mark
    record = train_with_budget(GVRNN(GVRNNConfig(hidden=4, latent=2, encoder="gat")), six_real_windows, wall)
    assert record.steps >= 1 and record.capped is None


@pytest.mark.parametrize("steps", [0, -5])
def test_benchmark_rejects_bad_step_counts(steps: int) -> None:
    from typer.testing import CliRunner

    from soccerai.cli.app import app

    with pytest.raises(InvalidParameterError, match="steps"):
        _tiny_steps_config(steps=steps)
    result = CliRunner().invoke(app, ["benchmark", "--steps", str(steps)])
    assert result.exit_code != 0 and isinstance(result.exception, InvalidParameterError)
    assert f"steps={steps}" in str(result.exception)
    capped = CliRunner().invoke(app, ["benchmark", "--steps", "5", "--budget-s", "0"])
    assert isinstance(capped.exception, InvalidParameterError) and "budget_s" in str(capped.exception)


def test_fit_rejects_unbounded_or_empty_step_limits(six_real_windows: TrajectoryWindows) -> None:
    from soccerai.training.loop import TrainConfig, fit

    model = AutoEncoder(AEConfig(hidden=4, horizon=HORIZON))
    with pytest.raises(InvalidParameterError, match="max_steps"):
        fit(model, six_real_windows, None, TrainConfig(max_steps=0))
    with pytest.raises(InvalidParameterError, match="never stop"):
        fit(model, six_real_windows, None, TrainConfig(epochs=-1))


def test_equal_steps_benchmark_labels_its_mode(events_dir: Path, clips_dir: Path, tmp_path: Path) -> None:
    import polars as pl

    from soccerai.bench.backbones import BenchmarkConfig, result_line, run_benchmark, save_table

    config = BenchmarkConfig(steps=3, budget_s=None, hidden=4, latent=2, batch_size=4, train_matches=1,
                             match_duration_s=60, test_windows=2, n_samples=2, encoders=("gcn",), generators=("ae",))
    table = run_benchmark(config, events_dir, [clips_dir / "lastrow" / "LIV_[2]-1_CHE.csv"])
    trained = table.filter(pl.col("family") != "baseline")
    assert set(trained["train_steps"]) == {3} and not trained["capped"].any()
    assert set(trained["model"]) == {"vrnn (no graph)", "gvrnn [gcn]", "ae"}
    markdown, parquet = save_table(table, config, tmp_path)
    text = markdown.read_text()
    assert "3 optimiser steps each, no wall cap (budget=steps:3)" in text and "| steps | capped |" in text
    assert "| simulated | full_scene | gvrnn [gcn] |" in text and "| real (Last Row) |" in text
    saved = pl.read_parquet(parquet)
    assert set(saved["budget"]) == {"steps:3"} and set(saved["budget_steps"]) == {3}
    assert saved["budget_s"].is_null().all()
    assert " budget=steps:3 " in result_line(table, config)
    assert " budget=wall:40 " in result_line(table, BenchmarkConfig(n_samples=2))


def test_result_line_names_the_capped_models() -> None:
    import polars as pl

    from soccerai.bench.backbones import BenchmarkConfig, result_line

    table = pl.DataFrame({
        "data": ["simulated"] * 3, "scenario": ["ghosting"] * 3, "model": ["constant velocity", "gvrnn [sat]", "ae"],
        "min_ade_20": [2.2, 1.9, 2.0], "capped": [None, True, False],
    })
    line = result_line(table, BenchmarkConfig(steps=60, budget_s=30, n_samples=20))
    assert " budget=steps:60 capped=gvrnn_sat " in line and line.split()[3] == "best=gvrnn_sat"
