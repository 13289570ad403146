"""Trajectory forecasters behind one interface (:class:`TrajectoryModel`), built by name from a config."""

from soccerai.models.base import TrajectoryBatch, TrajectoryModel
from soccerai.models.registry import MODELS, build_model, model_names

__all__ = ["MODELS", "TrajectoryBatch", "TrajectoryModel", "build_model", "model_names"]
