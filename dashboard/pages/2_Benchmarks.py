"""Backbone benchmark table: saved benchmark outputs, and a quick honest comparison run on demand."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import streamlit as st  # noqa: E402
import ui  # noqa: E402

from soccerai import replay  # noqa: E402
from soccerai.config import clips_dir, output_dir  # noqa: E402
from soccerai.evaluate.metrics import compare_models  # noqa: E402
from soccerai.windows.sources import lastrow_clip_windows  # noqa: E402


@st.cache_data(show_spinner="Evaluating...")
def run_benchmark(clip: str, models: tuple[str, ...], k: int):
    """ADE / FDE / minADE_K of each model on the clip's windows (:func:`soccerai.evaluate.metrics.compare_models`)."""
    windows = lastrow_clip_windows(clip, obs_len=20, pred_len=40, stride=5)
    return compare_models({Path(m).name: ui.load_model(m) for m in models}, windows, k)


st.set_page_config(page_title="soccerai · backbone benchmark", page_icon="⚽", layout="wide")
st.title("Backbone benchmark")

st.subheader("Saved results")
root = Path(st.text_input("Output folder", str(output_dir()), key="bench_dir"))
saved = sorted([*root.glob("benchmarks/*.csv"), *root.glob("benchmarks/*.parquet"), *root.glob("benchmarks/*.json"),
                *root.glob("**/models/*/metrics.json")]) if root.is_dir() else []
if not saved:
    st.info(f"No saved benchmark tables under `{root}` (`benchmarks/*.csv|parquet|json` or pipeline "
            "`models/*/metrics.json`).")
for path in saved:
    table = ui.guarded(lambda path=path: replay.read_table(path), f"Skipping {path.name}")
    if table is not None:
        st.caption(str(path.relative_to(root)))
        st.dataframe(table, width="stretch")

st.subheader("Quick comparison")
clip = clips_dir() / "lastrow" / "LIV_[2]-1_CHE.csv"  # the data folder setting ($SOCCERAI_DATA_DIR)
choices = [c for c in ui.model_choices() if c != ui.OTHER]
chosen = st.multiselect("Models", choices, default=choices[:2], key="bench_models")
samples = st.slider("Samples per window (K of minADE_K)", 1, 20, 5, key="bench_samples")
st.caption(f"Honest rollout on the real Last Row clip {clip.name} (real tracking): 2 s observed, 4 s predicted.")
if not clip.is_file():
    st.warning(f"The real Last Row clip is not in the data folder: {clip} is missing. Point SOCCERAI_DATA_DIR at the "
               "data folder (the one `make demo` read) and restart the dashboard.")
elif not chosen:
    st.info("Choose at least one model.")
elif st.button("Run benchmark", key="run_benchmark"):
    result = ui.guarded(lambda: run_benchmark(str(clip), tuple(chosen), samples), "Benchmark failed")
    if result is not None:
        st.dataframe(result, width="stretch", key="benchmark_table")
