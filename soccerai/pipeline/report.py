"""The HTML report of one run: what ran, what failed, the new matches, OBSO / C-OBSO, the model versus the previous one.

One self-contained file (figures embedded as PNG) at ``<state>/reports/run-<id>.html``, also copied to
``latest.html``; both written atomically. Every table and figure says whether its tracking was simulated or real.
"""

from __future__ import annotations

import base64
import html
import io
import json
import time
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import polars as pl  # noqa: E402
from mplsoccer import Pitch  # noqa: E402

from soccerai.files import atomic_path  # noqa: E402
from soccerai.pipeline.config import PipelineConfig  # noqa: E402
from soccerai.pipeline.ledger import GLOBAL_KEY, Ledger, StepRecord  # noqa: E402

MAX_PITCHES = 6
CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.6em 0 1.4em}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}
th{background:#f2f2f2}.failed,.quarantined{color:#b00020;font-weight:600}.done{color:#1b5e20}
.note{color:#555;font-size:13px}"""


def _table(rows: list[dict[str, Any]], css_col: str | None = None) -> str:
    if not rows:
        return "<p class='note'>none</p>"
    cols = list(rows[0])
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
    body = []
    for row in rows:
        cls = f" class='{html.escape(str(row.get(css_col, '')))}'" if css_col else ""
        body.append(
            "<tr>"
            + "".join(f"<td{cls if c == css_col else ''}>{html.escape(_fmt(row[c]))}</td>" for c in cols)
            + "</tr>"
        )
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def _kind(simulated: Any) -> str:
    return "simulated" if simulated else "real"


def _png(fig: plt.Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    return f"<img src='data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}'/>"


def positions_figure(summaries: list[dict[str, Any]]) -> str:
    """Mean player positions of each new match on an mplsoccer pitch (home red, away blue)."""
    shown = summaries[:MAX_PITCHES]
    if not shown:
        return ""
    length, width = shown[0]["pitch"]
    pitch = Pitch(pitch_type="custom", pitch_length=length, pitch_width=width, line_color="#555")
    fig, axes = pitch.grid(
        nrows=1, ncols=len(shown), figheight=3, title_height=0, endnote_height=0, axis=False
    )
    axes = [axes] if len(shown) == 1 else list(axes["pitch"] if isinstance(axes, dict) else axes)
    for ax, facts in zip(axes, shown, strict=True):
        pos = pl.DataFrame(facts["mean_positions"]) if facts["mean_positions"] else pl.DataFrame()
        for team, colour in (("home", "#c62828"), ("away", "#1565c0")):
            rows = pos.filter(pl.col("team") == team) if pos.height else pos
            if rows.height:
                pitch.scatter(
                    rows["x"].to_numpy() + length / 2, rows["y"].to_numpy() + width / 2, ax=ax, c=colour, s=60
                )
        ax.set_title(f"{facts['match_id']}\n({_kind(facts['simulated'])} tracking)", fontsize=8)
    kinds = sorted({_kind(f["simulated"]) for f in shown})
    caption = (
        f"<p class='note'>Mean player positions (home red, away blue) of {len(shown)} match(es), from "
        f"{' and '.join(kinds)} tracking.</p>"
    )
    return _png(fig) + caption


def _steps_rows(steps: list[StepRecord]) -> list[dict[str, Any]]:
    return [
        {
            "match": s.match_key,
            "step": s.step,
            "status": s.status,
            "seconds": round(s.seconds, 2) if s.seconds is not None else None,
            "error": s.error or "",
        }
        for s in steps
    ]


def _outputs_table(state: Path, steps: list[StepRecord], name: str, rows: int = 10) -> str:
    parts = []
    for s in steps:
        if s.step == name and s.status == "done" and name in s.outputs:
            table = pl.read_parquet(state / s.outputs[name], glob=False)
            parts.append(f"<h4>{html.escape(s.match_key)}</h4>" + _table(table.head(rows).to_dicts()))
    return "".join(parts) or "<p class='note'>not computed in this run</p>"


def _outputs_of(state: Path, steps: list[StepRecord], name: str) -> dict[str, pl.DataFrame]:
    """``{match: table}`` of one step's parquet outputs in this run."""
    return {s.match_key: pl.read_parquet(state / s.outputs[name], glob=False)
            for s in steps if s.step == name and s.status == "done" and name in s.outputs}


def _named(table: pl.DataFrame, column: str) -> pl.Expr:
    """The ``<column>_name`` of a table ("Name (#number)") where it has one, else the id."""
    name = f"{column}_name"
    return pl.col(name) if name in table.columns else pl.col(column)


def goals_and_chances(shots: pl.DataFrame, pairs: pl.DataFrame | None) -> pl.DataFrame:
    """One row per shot, goals first: shooter by name, result, his OBSO, and the A1 whose run made the most C-OBSO
    (clipped and signed, :mod:`soccerai.evaluate.cobso`) at that shot."""
    rows = shots.select(
        pl.col("event_id").alias("shot"), "period", "team", _named(shots, "shooter").alias("shooter"),
        (pl.col("result") if "result" in shots.columns else pl.lit(None, pl.String())).alias("result"),
        pl.col("shooter_obso").alias("OBSO"))
    if pairs is not None and pairs.height and "shot_id" in pairs.columns:
        signed = pl.col("cobso_signed") if "cobso_signed" in pairs.columns else pl.col("cobso")
        best = (pairs.sort("cobso", descending=True)
                .group_by("shot_id", maintain_order=True)
                .agg(_named(pairs, "a1").first().alias("best A1"), pl.col("cobso").first().alias("C-OBSO"),
                     signed.first().alias("C-OBSO signed"))
                .rename({"shot_id": "shot"}))
        rows = rows.join(best, on="shot", how="left")
    goal = (pl.col("result").fill_null("").str.to_uppercase() == "GOAL")
    return rows.sort(goal, "OBSO", descending=True, nulls_last=True)


def cobso_per_player(pairs: pl.DataFrame) -> pl.DataFrame:
    """C-OBSO per off-ball attacker by name: pairs, mean clipped and mean signed C-OBSO, total, best first."""
    signed = pl.col("cobso_signed") if "cobso_signed" in pairs.columns else pl.col("cobso")
    return (pairs.group_by(_named(pairs, "a1").alias("player"), "team")
            .agg(pl.len().alias("shots"), pl.col("cobso").mean().alias("C-OBSO mean"),
                 signed.mean().alias("C-OBSO signed mean"), pl.col("cobso").sum().alias("C-OBSO total"))
            .sort("C-OBSO mean", descending=True))


def _story_section(state: Path, steps: list[StepRecord]) -> str:
    """Goals and chances with names and C-OBSO per player, per match."""
    shots, pairs = _outputs_of(state, steps, "obso"), _outputs_of(state, steps, "cobso")
    parts = []
    for match in sorted(set(shots) | set(pairs)):
        parts.append(f"<h4>{html.escape(match)}</h4>")
        if match in shots:
            parts.append("<p>Goals and chances</p>" + _table(goals_and_chances(shots[match], pairs.get(match))
                                                           .head(30).to_dicts()))
        if match in pairs and pairs[match].height:
            parts.append("<p>C-OBSO per player (paired: real run against the model's counterfactual run)</p>"
                         + _table(cobso_per_player(pairs[match]).head(20).to_dicts()))
    return "".join(parts) or "<p class='note'>not computed in this run</p>"


def _model_section(ledger: Ledger, run_id: int) -> str:
    models = ledger.models()
    if not models:
        return "<p class='note'>no model trained yet</p>"
    current, previous = models[-1], (models[-2] if len(models) > 1 else None)
    rows = [
        {
            "model": m["model_id"],
            "mode": m["mode"],
            "parent": m["parent_id"],
            "trained in run": m["run_id"],
            "matches seen": len(m["train_matches"]),
            "tracking": _kind(m["simulated"]),
        }
        for m in models[-5:]
    ]
    metric_rows = []
    now, before = current.get("metrics") or {}, (previous or {}).get("metrics") or {}
    for name in sorted(set(now) | set(before)):
        a, b = now.get(name), before.get(name)
        delta = a - b if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None
        metric_rows.append(
            {
                "metric": name,
                current["model_id"]: a,
                (previous or {}).get("model_id", "previous"): b,
                "change": delta,
            }
        )
    trained_now = "(trained in this run)" if current["run_id"] == run_id else "(unchanged, trained earlier)"
    kind = _kind(current["simulated"])
    return (
        f"<p>Current model <b>{html.escape(current['model_id'])}</b> {trained_now}. It produced the C-OBSO numbers "
        f"of this run and the metrics below: honest full-scene forecasts of players on the held-out matches "
        f"({kind} tracking), in metres; <i>_cv</i> is the constant-velocity baseline on the same windows.</p>{_table(rows)}<h3>Metrics vs the previous model</h3>"
        f"{_table(metric_rows)}<p class='note'>trained on: {html.escape(', '.join(current['train_matches']))}</p>"
    )


def render(cfg: PipelineConfig, ledger: Ledger, run_id: int, status: str) -> str:
    """The report's HTML."""
    steps = ledger.steps(run_id=run_id)
    run = next(r for r in ledger.runs(limit=10_000) if r["run_id"] == run_id)
    summaries = [
        json.loads((cfg.state_dir / s.outputs["summary"]).read_text())
        for s in steps
        if s.step == "summary" and s.status == "done"
    ]
    match_rows = [
        {
            "match": f["match_id"],
            "tracking": _kind(f["simulated"]),
            "provider": f["provider"],
            "duration s": f["duration_s"],
            "frames": f["frames"],
            "home": f["players"]["home"],
            "away": f["players"]["away"],
            "ball coverage": f["ball_coverage"],
            "shots": f["shots"],
            "speed p50 m/s": f["speed_p50"],
            "speed p99 m/s": f["speed_p99"],
        }
        for f in summaries
    ]
    timing = (
        pl.DataFrame(_steps_rows(steps))
        .group_by("step")
        .agg(pl.len().alias("attempts"), pl.col("seconds").sum())
        .sort("step")
        .to_dicts()
        if steps
        else []
    )
    problems = [s for s in steps if s.status in ("failed", "quarantined")]
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run["started_at"]))
    body = [
        f"<h1>soccerai pipeline <i>{html.escape(cfg.name)}</i>: run {run_id}</h1>",
        f"<p>status <b class='{'failed' if status == 'failed' else 'done'}'>{status}</b>; started {started}; "
        f"executor {cfg.executor} x{cfg.workers}; drop folder <code>{html.escape(str(cfg.drop_dir))}</code></p>",
        "<h2>Problems</h2>",
        _table(_steps_rows(problems), "status"),
        "<h2>New or changed matches</h2>",
        _table(match_rows),
        positions_figure(summaries),
        "<h2>Goals and chances</h2>",
        _story_section(cfg.state_dir, steps),
        "<h2>OBSO per shot</h2>",
        _outputs_table(cfg.state_dir, steps, "obso"),
        "<h2>C-OBSO</h2>",
        _outputs_table(cfg.state_dir, steps, "cobso"),
        "<h2>Model</h2>",
        _model_section(ledger, run_id),
        "<h2>Timings</h2>",
        _table(timing),
        "<h2>Every step of this run</h2>",
        _table(
            _steps_rows(
                [s for s in steps if s.match_key != GLOBAL_KEY]
                + [s for s in steps if s.match_key == GLOBAL_KEY]
            ),
            "status",
        ),
    ]
    return f"<!doctype html><html><head><meta charset='utf-8'><title>soccerai run {run_id}</title><style>{CSS}</style></head><body>{''.join(body)}</body></html>"


def write_report(cfg: PipelineConfig, ledger: Ledger, run_id: int, status: str) -> Path:
    """Write ``reports/run-<id>.html`` and ``reports/latest.html`` atomically; return the run's report path."""
    text = render(cfg, ledger, run_id, status)
    path = cfg.state_dir / "reports" / f"run-{run_id:04d}.html"
    for target in (path, path.with_name("latest.html")):
        with atomic_path(target, ".html") as tmp:
            tmp.write_text(text)
    return path
