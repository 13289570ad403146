"""The nightly pipeline: incremental, idempotent, crash-safe processing of a drop folder of matches.

* :func:`soccerai.pipeline.config.load_config` - ``pipelines/<job>.toml`` -> :class:`PipelineConfig`
* :func:`soccerai.pipeline.runner.run_pipeline` - one run under a lock, recorded in the SQLite ledger
* :class:`soccerai.pipeline.ledger.Ledger` - runs, steps per match, model versions
"""

from soccerai.pipeline.config import PipelineConfig, load_config
from soccerai.pipeline.runner import RunResult, run_pipeline

__all__ = ["PipelineConfig", "RunResult", "load_config", "run_pipeline"]
