"""Full SIMULATED matches driven by the real Metrica event timelines, synthesized once and cached as parquet."""

from __future__ import annotations

from pathlib import Path

from soccerai.config import metrica_events_dir, output_dir
from soccerai.data.store import write_match
from soccerai.errors import InvalidInputError, InvalidParameterError
from soccerai.synth.match import SYNTH_VERSION, synthesize_match

# The three real full-match Metrica event timelines that drive the match simulator (in the data folder).
METRICA_GAMES = {
    "game1": "Sample_Game_1_RawEventsData.csv",
    "game2": "Sample_Game_2_RawEventsData.csv",
    "game3": "Sample_Game_3_events.json",
}


def simulated_match_path(
    game: str, seed: int = 0, cache_dir: str | Path | None = None, duration_s: float | None = None
) -> Path:
    """Parquet file of a SIMULATED match driven by real Metrica game ``game`` (a key of :data:`METRICA_GAMES`).

    Synthesized with :func:`soccerai.synth.synthesize_match` (~15-30 s for a full match) on first use and cached
    under ``cache_dir`` (default ``<out>/simulated``) as ``synth-<game>-seed<seed>[-<duration>s]-v<version>.parquet``
    (:data:`soccerai.synth.match.SYNTH_VERSION`: a changed synthesizer does not reuse old matches).
    """
    if game not in METRICA_GAMES:
        raise InvalidParameterError(f"unknown Metrica game {game!r}; choose one of {', '.join(METRICA_GAMES)}")
    folder = Path(cache_dir) if cache_dir is not None else output_dir() / "simulated"
    suffix = "" if duration_s is None else f"-{int(duration_s)}s"
    path = folder / f"synth-{game}-seed{seed}{suffix}-v{SYNTH_VERSION}.parquet"
    if not path.is_file():
        events = metrica_events_dir() / METRICA_GAMES[game]
        if not events.is_file():
            raise InvalidInputError("real Metrica event timeline not found (check SOCCERAI_DATA_DIR)", events)
        folder.mkdir(parents=True, exist_ok=True)
        write_match(synthesize_match(events, seed=seed, duration_s=duration_s), path)
    return path
