"""``soccerai obso`` (OBSO at every shot) and ``soccerai cobso`` (C-OBSO with a trained model)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from soccerai.cli.output import FormatOption, Output


def _load(match_files: list[Path]):
    from soccerai.data.load import load_any

    return load_any(match_files)


@contextmanager
def _naming(match_files: list[Path]) -> Iterator[None]:
    """A soccerai error that names no file names the match it was computing on (``error: <path>: <problem>``)."""
    from soccerai.errors import SoccerAIError

    try:
        yield
    except SoccerAIError as exc:
        if exc.path is not None or not match_files:
            raise
        raise type(exc)(exc.problem, match_files[0]) from exc


def _write(table, path: Path) -> Path:
    from soccerai.files import write_parquet_atomic

    return write_parquet_atomic(table, path)


def _grid(text: str):
    from soccerai.errors import InvalidParameterError
    from soccerai.evaluate.pitch_control import Grid

    try:
        nx, ny = (int(v) for v in text.lower().split("x"))
    except ValueError as exc:
        raise InvalidParameterError(f"grid must look like 50x32, got {text!r}") from exc
    return Grid(nx, ny)


def obso_command(
    match: Annotated[list[Path], typer.Argument(help="a stored match (.parquet) or one match's provider files")],
    attacking: Annotated[str, typer.Option(help="attacking team of the span: home or away")] = "home",
    period: Annotated[int | None, typer.Option(help="period of the span (default: the first period tracked)")] = None,
    start_s: Annotated[float | None, typer.Option(
        help="span start, seconds into the period (default: where the period's tracking starts)")] = None,
    seconds: Annotated[float, typer.Option(help="span length in seconds")] = 10.0,
    score: Annotated[str, typer.Option(help="score model: potential or distance")] = "potential",
    grid: Annotated[str, typer.Option(help="grid cells, NXxNY")] = "50x32",
    out: Annotated[Path | None, typer.Option(help="output folder (default $SOCCERAI_OUT_DIR/obso)")] = None,
    fmt: FormatOption = "table",
) -> None:
    """OBSO over a span of play (per-player table + figure of its best frame) and at every shot of the match."""
    import polars as pl

    from soccerai.config import output_dir
    from soccerai.evaluate.match_obso import shot_obso, span_obso
    from soccerai.viz import plot_surface, save_figure

    show = Output(fmt)
    cells = _grid(grid)
    game = _load(match)
    kind = game.metadata.tracking_label
    out = out or output_dir() / "obso"
    with _naming(match):
        span = span_obso(game, attacking, period, start_s, seconds, cells, score)
    frames, result = span.frames, span.result
    summary = span.summary.with_columns(tracking=pl.lit(kind))
    _write(summary, out / f"{game.match_id}_summary.parquet")
    best = span.best_frame
    ax = plot_surface(frames.positions[best], result.surface[best], velocities=frames.velocities[best],
                      valid=frames.valid[best], colorbar_label="OBSO",
                      title=f"{game.match_id} frame {frames.frames[best]}: OBSO ({kind} tracking)")
    save_figure(ax, out / f"{game.match_id}_best.png")
    show.table(summary, f"OBSO per attacker, {game.match_id} {attacking} attacking ({kind} tracking)", "{:.4g}")
    show.say(f"OBSO of {len(frames) - result.skipped} frames ({result.skipped} skipped) on {kind} tracking -> {out}")
    with _naming(match):
        shots = shot_obso(game, cells).with_columns(tracking=pl.lit(kind))  # event shots, else detected ones
    if shots.height:
        _write(shots, out / f"{game.match_id}_shot_obso.parquet")
        show.table(shots, f"OBSO at the frame before each shot ({shots['shot_source'][0]}; {kind} tracking)", "{:.4g}")
        show.say(f"OBSO at the frame before {shots.height} shots ({shots['shot_source'][0]}) on {kind} tracking")


def cobso_command(
    match: Annotated[list[Path], typer.Argument(help="a stored match (.parquet) or one match's provider files")],
    checkpoint: Annotated[str | None, typer.Option(
        help="trained model folder or pretrained name, e.g. gvrnn-sim-skillcorner (default: constant velocity)")] = None,
    samples: Annotated[int, typer.Option(help="predicted futures per (shot, A1)")] = 10,
    out: Annotated[Path, typer.Option(help="output folder")] = Path("out/cobso"),
    fmt: FormatOption = "table",
) -> None:
    """C-OBSO of every off-ball attacker at every shot: the model's scene with A1's real run against its scene with
    A1's counterfactual run (same draws); tables keep the signed value (cobso_signed) beside the clipped one."""
    from rich.progress import track

    from soccerai.evaluate.match_obso import cobso_shot_view, match_scenes, scenes_cobso, shot_roles
    from soccerai.models import build_model
    from soccerai.training import pretrained
    from soccerai.viz import cobso_shot_figure

    show = Output(fmt)
    model = pretrained.load(checkpoint)[0] if checkpoint else build_model("constant_velocity")  # verified first
    game = _load(match)
    with _naming(match):
        scenes = match_scenes(game)
    pairs, players = scenes_cobso(scenes, model, n_samples=samples,
                                  progress=lambda scenes: track(scenes, description="shots", console=show.err,
                                                                disable=not show.err.is_terminal),
                                  players=game.players)
    kind = game.metadata.tracking_label
    _write(pairs.with_columns(tracking=_lit(kind)), out / f"{game.match_id}_cobso_pairs.parquet")
    path = _write(players.with_columns(tracking=_lit(kind)), out / f"{game.match_id}_cobso_players.parquet")
    _write(shot_roles(scenes, game.players).with_columns(tracking=_lit(kind)),
           out / f"{game.match_id}_shot_roles.parquet")  # the one (shooter, A1, D1, D2) per shot every face shows
    view = cobso_shot_view(scenes, model, pairs, samples)
    figure = None if view is None else cobso_shot_figure(view, out / f"{game.match_id}_cobso_best.png", kind)
    show.table(players, f"C-OBSO per off-ball attacker ({kind} tracking)", "{:.4g}")
    source = pairs["shot_source"][0] if pairs.height else "none"
    show.say(f"C-OBSO of {pairs.height} (shot, A1) pairs at {len(scenes)} shots (source: {source}) on {kind} "
                  f"tracking -> {path}")
    if figure is not None:
        show.say(f"figure of the shot with the largest C-OBSO -> {figure}")


def _lit(value: str):
    import polars as pl

    return pl.lit(value)


def register(app: typer.Typer) -> None:
    app.command("obso")(obso_command)
    app.command("cobso")(cobso_command)
