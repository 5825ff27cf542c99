"""What the metrics read of a methodology: its scope.

The methodology (:class:`govsocial.awards.methodology.Methodology`) is defined by the awards
stage, after this one; the metrics name only the fields they read, as a read-only
:class:`Scope` it satisfies by its shape, so they never import it. A frozen dataclass with
these fields (in a test, say) is a scope too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol


class Scope(Protocol):
    """Which posts count, and how they are measured (read-only)."""

    @property
    def period_start(self) -> datetime:
        """First instant of the period (UTC, inclusive)."""
        ...

    @property
    def period_end(self) -> datetime:
        """End of the period (UTC, exclusive)."""
        ...

    @property
    def platforms(self) -> Sequence[str]: ...

    @property
    def clusters(self) -> Sequence[str]:
        """Cluster ids: the accounts of their institutions are in scope."""
        ...

    @property
    def interactions_version(self) -> int:
        """The definition of interactions and views (:mod:`govsocial.metrics.interactions`)."""
        ...

    @property
    def max_follower_gap_days(self) -> float:
        """How far a follower reading may be from a post (:mod:`govsocial.metrics.facts`)."""
        ...
