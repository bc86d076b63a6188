"""Exceptions raised by ls-cleanlab.

Every error the package raises on purpose derives from :class:`LsCleanlabError`, so callers can
catch ours without catching programming errors. Errors about bad input also derive from
:class:`ValueError` (or :class:`TypeError`), so code written against cleanlab, which raises those,
keeps working.
"""

from __future__ import annotations

__all__ = [
    "InvalidLabelsError",
    "InvalidOptionError",
    "InvalidPredProbsError",
    "LsCleanlabError",
]


class LsCleanlabError(Exception):
    """Base class of every error raised on purpose by ls-cleanlab."""


class InvalidLabelsError(LsCleanlabError, ValueError):
    """The given labels are malformed or do not fit the predicted probabilities."""


class InvalidPredProbsError(LsCleanlabError, ValueError):
    """The predicted probabilities are malformed (shape, NaN, range, rows not summing to 1)."""


class InvalidOptionError(LsCleanlabError, ValueError):
    """An option has a value outside the ones we support; the message lists the valid ones."""
