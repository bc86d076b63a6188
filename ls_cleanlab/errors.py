"""Exceptions raised by ls-cleanlab.

Every error the package raises on purpose derives from :class:`LsCleanlabError`, so callers can
catch ours without catching programming errors. Errors about bad input also derive from
:class:`ValueError` (or :class:`TypeError`), so code written against cleanlab, which raises those,
keeps working.
"""

from __future__ import annotations

import os
import sys
import warnings

__all__ = [
    "InvalidAnnotationsError",
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
    """An option or auxiliary input (a confident joint, thresholds, an aggregator) is invalid;
    the message says what is expected."""


class InvalidAnnotationsError(LsCleanlabError, ValueError):
    """A table of annotations (who labelled what) is malformed or does not fit the tasks, the
    classes or the probabilities it is used with."""


def warn_user(message: str, category: type[Warning] = UserWarning) -> None:
    """Warn, attributing the warning to the first caller outside this package."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame = sys._getframe(1)
    level = 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, category, stacklevel=level)
