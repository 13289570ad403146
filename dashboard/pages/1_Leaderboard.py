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
st.write("How much scoring opportunity each off-ball attacker created, from the pipeline's C-OBSO step "
         "(shot-weighted mean over matches; C-OBSO as in Teranishi et al. 2022).")

root = Path(st.text_input("Pipeline output folder", str(output_dir() / "pipeline"), key="pipeline_dir"))
files = replay.pipeline_outputs(root, "cobso.parquet")
if not files:
    st.info(f"No C-OBSO outputs under {root} yet. Run the nightly job: "
            "`soccerai pipeline run --config pipelines/nightly.toml`.")
    st.stop()

tables = {match: table for match, path in files.items()
          if (table := ui.guarded(lambda path=path: replay.read_table(path), f"Skipping {path.name}")) is not None}
board = ui.guarded(lambda: replay.cobso_leaderboard(tables), "Cannot build the leaderboard")
if board is not None:
    simulated = [m for m, t in tables.items() if "simulated" in t.columns and bool(t["simulated"].any())]
    if simulated:
        st.warning(f"{len(simulated)} of {len(tables)} matches are **simulated tracking**.", icon="🧪")
    st.metric("matches", len(tables))
    st.dataframe(board, width="stretch", key="leaderboard")
    st.bar_chart(board.head(15).to_pandas(), x="player", y="cobso")
