"""The pitch as one value object: its size and the points every drawing and every model measures from.

Coordinates are centred (origin on the centre spot, metres), ``x`` along the length and ``y`` across, so the goal
lines stand at ``x = +-length / 2`` and the touchlines at ``y = +-width / 2``.
"""

from __future__ import annotations

from dataclasses import dataclass

from soccerai.match.schema import DEFAULT_PITCH, MatchMetadata

GOAL_WIDTH = 7.32
"""Metres between the posts (the Laws of the Game)."""


@dataclass(frozen=True)
class Pitch:
    """A pitch of ``length`` x ``width`` metres (105 x 68 when the provider gives none)."""

    length: float = DEFAULT_PITCH[0]
    width: float = DEFAULT_PITCH[1]

    @classmethod
    def from_tuple(cls, size: tuple[float, float]) -> Pitch:
        """``Pitch.from_tuple(DEFAULT_PITCH)``: a ``(length, width)`` pair as the providers give it."""
        return cls(float(size[0]), float(size[1]))

    @classmethod
    def of(cls, metadata: MatchMetadata) -> Pitch:
        """The pitch a match's metadata gives."""
        return cls(float(metadata.pitch_length), float(metadata.pitch_width))

    @property
    def half_length(self) -> float:
        return self.length / 2

    @property
    def half_width(self) -> float:
        return self.width / 2

    def goal_posts(self, side: int = 1) -> tuple[tuple[float, float], tuple[float, float]]:
        """The two posts of the goal at ``x = side * length / 2`` (``side`` +1: the goal attacked towards +x)."""
        x, half = side * self.half_length, GOAL_WIDTH / 2
        return (x, -half), (x, half)

    def contains(self, x: float, y: float, margin: float = 0.0) -> bool:
        """True when ``(x, y)`` is on the pitch or within ``margin`` metres of its lines."""
        return abs(x) <= self.half_length + margin and abs(y) <= self.half_width + margin
