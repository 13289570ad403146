"""Backbone benchmark: every generator and every GVRNN interaction encoder, same training budget, one table.

Run ``python benchmarks/backbones.py [--budget-s 40 ...]`` (equal wall time per model, the default) or
``python benchmarks/backbones.py --steps 60 [--budget-s 300]`` (equal optimiser steps, with an optional wall cap per
model; a model the cap stops early is marked ``capped``). The options are those of ``soccerai benchmark``. The table
ranks models against constant velocity, run in the same process on the same windows; simulated and real (Last Row)
rows are labelled as such. It prints the table, saves it as markdown and parquet, and ends with one line
``RESULT data=simulated scenario=ghosting best=<model> budget=steps:N|wall:S <model>_minade20=<metres> ...``
(:func:`soccerai.bench.backbones.result_line`).
"""

from __future__ import annotations

import typer

from soccerai.cli.commands.benchmark import benchmark

if __name__ == "__main__":
    typer.run(benchmark)
