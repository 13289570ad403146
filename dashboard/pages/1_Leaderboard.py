"""Per-player C-OBSO leaderboard from the nightly pipeline's per-match ``cobso.parquet`` outputs."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import streamlit as st  # noqa: E402
import ui  # noqa: E402

from soccerai import replay  # noqa: E402
from soccerai.config import output_dir  # noqa: E402

st.set_page_config(page_title="soccerai · C-OBSO leaderboard", page_icon="⚽", layout="wide")
st.title("C-OBSO leaderboard")
st.write("How much scoring opportunity each off-ball attacker created, from the pipeline's C-OBSO step or "
         "`make demo` (shot-weighted mean over matches; C-OBSO as in Teranishi et al. 2022).")


def cobso_files(root: Path) -> dict[str, Path]:
    """The pipeline's per-match ``matches/<key>/cobso.parquet`` and the demo's ``cobso_players.parquet`` (one per
    folder, keyed by the folder) under ``root``."""
    found = dict(replay.pipeline_outputs(root, "cobso.parquet"))
    for path in sorted(root.glob("**/cobso_players.parquet")):
        found.setdefault(str(path.parent.relative_to(root)) if path.parent != root else root.name, path)
    return found


default = output_dir() / "pipeline"
if not default.is_dir() or not cobso_files(default):
    default = output_dir()  # the demo writes out/demo/cobso_players.parquet
root = Path(st.text_input("Output folder (pipeline state or demo output)", str(default), key="pipeline_dir"))
if not root.is_dir():
    st.warning(f"The folder {root} does not exist. Type the folder the pipeline or `make demo` wrote to "
               "(e.g. out/pipeline or out/demo).")
    st.stop()
files = cobso_files(root)
if not files:
    st.info(f"No C-OBSO outputs under {root} yet (no matches/*/cobso.parquet, no cobso_players.parquet). Run "
            "`make demo` or the nightly job: `soccerai pipeline run --config pipelines/nightly.toml`.")
    st.stop()

tables = {match: table for match, path in files.items()
          if (table := ui.guarded(lambda path=path: replay.read_table(path), f"Skipping {path.name}")) is not None}
board = ui.guarded(lambda: replay.cobso_leaderboard(tables), "Cannot build the leaderboard")
if board is not None:
    simulated = [m for m, t in tables.items()
                 if ("simulated" in t.columns and bool(t["simulated"].any()))
                 or ("tracking" in t.columns and (t["tracking"].cast(str) == "simulated").any())]
    if simulated:
        st.warning(f"{len(simulated)} of {len(tables)} tables are from **simulated tracking**.", icon="🧪")
    st.caption("Read from: " + ", ".join(str(p.relative_to(root)) for p in files.values()))
    st.metric("tables", len(tables))
    st.dataframe(board, width="stretch", key="leaderboard")
    if board.height:
        st.bar_chart(board.head(15).to_pandas(), x="player", y="cobso")
