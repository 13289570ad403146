"""The library side of benchmarks/: the computations every benchmark script and the CLI share."""
