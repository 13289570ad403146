"""The match synthesizer: full 25 Hz matches (SIMULATED tracking) driven by real or generated event timelines.

No full real tracking match can be had on these machines, so soccerai writes its own, as close to real play as a
small tactical + kinematic model gets, and marks them ``metadata.simulated = True`` everywhere.

* :func:`synthesize_match` - timeline (Metrica CSV/JSON events, or None for a generated one) -> canonical Match
* :func:`write_match_files` - Match -> Metrica CSV pair, EPTS XML + txt, canonical parquet, Metrica event CSV
* :func:`soccerai.synth.realism.realism_report` - simulated vs real clips, side by side
"""

from soccerai.synth.match import synthesize_match
from soccerai.synth.writers import write_match_files

__all__ = ["synthesize_match", "write_match_files"]
