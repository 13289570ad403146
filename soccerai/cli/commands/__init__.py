"""CLI command groups, one module per topic; each exposes ``register(app)``."""
