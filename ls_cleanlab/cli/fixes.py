"""How the command reports an error: the exit code and the ``fix:`` line for each kind of error.
Private to :mod:`ls_cleanlab.cli`."""

from __future__ import annotations

import traceback
from typing import IO

from ls_cleanlab.errors import (
    EngineError,
    ExtractorUnavailableError,
    InvalidAnnotationsError,
    InvalidLabelsError,
    InvalidOptionError,
    InvalidPredProbsError,
    InvalidTasksError,
    LabelConfigError,
    LsCleanlabError,
    MediaError,
    MissingExtraError,
    NotEnoughLabelsError,
    StudioAuthError,
    StudioError,
    StudioRequestError,
    StudioUnreachableError,
    WeightsError,
)

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_STUDIO",
    "UsageError",
    "report_error",
]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_STUDIO = 0, 1, 2, 3


class UsageError(LsCleanlabError):
    """Bad command-line input; carries the fix to show."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


_FIXES: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], int, str], ...] = (
    (
        StudioAuthError,
        EXIT_STUDIO,
        "check the API key (--api-key or LABEL_STUDIO_API_KEY); copy one from Account & Settings.",
    ),
    (
        StudioUnreachableError,
        EXIT_STUDIO,
        "check the URL (--url or LABEL_STUDIO_URL) and that Label Studio is running, then run "
        "the command again: it replaces its model version's predictions and tabs whole.",
    ),
    (UsageError, EXIT_BAD_INPUT, ""),
    (
        LabelConfigError,
        EXIT_BAD_INPUT,
        "ls-cleanlab needs a <Choices> (or <RectangleLabels>) tag: name one of several with "
        "--choices NAME; for an export, pass the project's config with --label-config.",
    ),
    (
        NotEnoughLabelsError,
        EXIT_BAD_INPUT,
        "label more tasks (or lower --folds), or give probabilities: --pred-probs FILE.npy or "
        "--from-model-version V; for features that failed, see --local-files-root, "
        "--allowed-host, --embeddings-file.",
    ),
    (InvalidTasksError, EXIT_BAD_INPUT, "correct the task JSON named above, or export again."),
    (
        InvalidAnnotationsError,
        EXIT_BAD_INPUT,
        "audit with probabilities instead: ls-cleanlab audit (a model, --pred-probs or "
        "--from-model-version).",
    ),
    (InvalidOptionError, EXIT_BAD_INPUT, "correct the option or file named above (see --help)."),
    (
        WeightsError,
        EXIT_FAILED,
        "reinstall the package the message names (its pinned files failed their check).",
    ),
    (
        MediaError,
        EXIT_BAD_INPUT,
        "check the media reference named above (--local-files-root, --allowed-host, --url).",
    ),
    (
        MissingExtraError,
        EXIT_BAD_INPUT,
        "install what the message names, or choose other features (--embedder, "
        "--text-embedder, --embedding-field, --embeddings-file).",
    ),
    (
        (InvalidPredProbsError, InvalidLabelsError),
        EXIT_BAD_INPUT,
        "give probabilities that fit the project: one row per task and one column per class, "
        "rows summing to 1 for a single-label tag.",
    ),
    (
        EngineError,
        EXIT_BAD_INPUT,
        "check --dask (or LS_CLEANLAB_DASK_SCHEDULER) and the workers named above: each needs "
        "this ls-cleanlab, the media and the data dir (README: Running on a Dask cluster).",
    ),
    (
        ExtractorUnavailableError,
        EXIT_BAD_INPUT,
        "install the embedder or restore the file named above, or choose other features "
        "(--embedder, --embedding-field, --embeddings-file).",
    ),
    (StudioError, EXIT_STUDIO, "check the URL and key, and that Label Studio is running."),
)


#: What fixes each cause a :class:`NotEnoughLabelsError` names (its ``causes``).
_LABELS_FIXES = {
    "labels": "label more tasks",
    "folds": "label more tasks (or lower --folds)",
    "features": "make the features available (see --local-files-root, --allowed-host, "
    "--embeddings-file)",
    "unknown_choice": "add the unknown choices named above to the labeling config (an export's "
    "--label-config), or relabel those annotations",
    "no_choice": "give each of those single-label annotations exactly one choice",
    "cancelled_annotation": "annotate the tasks whose annotations were skipped (cancelled "
    "annotations are never used)",
    "deleted_annotator": "relabel the tasks whose annotators were deleted (their annotations "
    "cannot be weighed)",
}


def _labels_fix(error: NotEnoughLabelsError) -> str | None:
    """The fix of the causes ``error`` names, or None when it names none."""
    causes = [c for c in error.causes if c in _LABELS_FIXES]
    if "folds" in causes and "labels" in causes:
        causes.remove("labels")
    if not causes:
        return None
    fixes = "; ".join(_LABELS_FIXES[cause] for cause in causes)  # one per cause named
    tail = "or give probabilities: --pred-probs FILE.npy or --from-model-version V."
    return f"{fixes}{', ' if len(causes) == 1 else '; '}{tail}"


def _request_fix(error: StudioRequestError) -> str:
    """The fix for a request Label Studio rejected, by its status."""
    if error.status == 404:
        return "check the project id (--project) and that your user may see that project."
    if error.status is not None and 400 <= error.status < 500:
        return "Label Studio refused the request named above; check the project's settings."
    return "check that --url (or LABEL_STUDIO_URL) points at Label Studio itself."


def report_error(error: BaseException, err: IO[str], debug: bool) -> int:
    code, fix = EXIT_FAILED, "run again with --debug for the traceback, and report it."
    message = f"unexpected {type(error).__name__}: {error}"
    if isinstance(error, StudioRequestError):  # before StudioError's row: the fix by status
        code, message, fix = EXIT_BAD_INPUT, str(error), _request_fix(error)
    elif isinstance(error, NotEnoughLabelsError) and (found := _labels_fix(error)) is not None:
        code, message, fix = EXIT_BAD_INPUT, str(error), found
    else:
        for kind, kind_code, kind_fix in _FIXES:
            if isinstance(error, kind):
                code, message = kind_code, str(error)
                fix = str(getattr(error, "fix", "") or kind_fix)
                break
    if debug:
        traceback.print_exception(type(error), error, error.__traceback__, file=err)
    print(f"error: {' '.join(message.split())}", file=err)  # one line
    print(f"fix: {fix}", file=err)
    return code
