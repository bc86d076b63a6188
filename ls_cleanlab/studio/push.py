"""Our predictions in a project: checked the way Label Studio checks them, then replaced in bulk.

Label Studio silently drops invalid predictions (``201 {"created": 0}``), deletes predictions one
at a time, and recounts every task of a project after each import request. So predictions are
validated here first (nothing is sent if any is invalid), imported in large chunks, the created
count compared with what was sent, and a failed import removes what it had imported: a project
never holds half a push. Only the given ``model_version`` is ever touched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ls_cleanlab.errors import InvalidTasksError, StudioError
from ls_cleanlab.studio.predictions import check_prediction
from ls_cleanlab.studio.schema import parse_label_config
from ls_cleanlab.studio.session import StudioSession
from ls_cleanlab.validation import check_int


class StudioClient(Protocol):
    """What the push needs of a client (:class:`ls_cleanlab.studio.StudioClient`)."""

    session: StudioSession

    def label_config(self, project: int) -> str: ...

    def task_ids(self, project: int) -> set[int]: ...


__all__ = [
    "Progress",
    "PushReport",
    "check_predictions",
    "delete_predictions",
    "import_predictions",
    "model_versions",
    "replace_predictions",
    "set_model_version",
]

logger = logging.getLogger(__name__)

#: ``progress(done, total)``: called as work advances (tasks fetched, predictions sent).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class PushReport:
    """What :meth:`StudioClient.replace_predictions` did.

    Attributes
    ----------
    model_version : str
    sent, created : int
        Predictions sent and predictions Label Studio says it created.
    deleted : int
        Earlier predictions of this model version that were deleted.
    """

    model_version: str
    sent: int
    created: int
    deleted: int

    @property
    def missing(self) -> int:
        """Predictions sent but not created (Label Studio drops invalid ones silently)."""
        return self.sent - self.created


def check_predictions(
    client: StudioClient,
    project: int,
    predictions: Sequence[Mapping[str, Any]],
    *,
    choices_name: str | None = None,
    task_ids: Collection[int] | None = None,
) -> list[str]:
    """Everything Label Studio would reject or silently drop in ``predictions``.

    Checks, against the project's current label config: malformed results, unknown classes,
    scores outside [0, 1], a missing model version, and (Label Studio's own validator) the
    rest; also tasks not in the project and two predictions for one task. ``task_ids`` are
    the project's task ids when known (e.g. from a fetch), which saves listing them. Returns
    one message per problem, empty when all are valid.
    """
    from label_studio_sdk.label_interface import LabelInterface

    config = client.label_config(project)
    schema = parse_label_config(config, choices_name)
    interface = LabelInterface(config)
    known = set(task_ids) if task_ids is not None else client.task_ids(project)
    problems: list[str] = []
    seen: set[Any] = set()
    for i, prediction in enumerate(predictions):
        found = check_prediction(schema, prediction)
        if not found:
            found = [str(e) for e in interface.validate_prediction(prediction, True) or []]
            task = prediction["task"]
            if task not in known:
                found.append(f"task {task} is not in project {project}")
            elif task in seen:
                found.append(f"task {task} has more than one prediction")
            seen.add(task)
        task_id = prediction.get("task") if isinstance(prediction, Mapping) else None
        problems.extend(f"prediction {i} (task {task_id}): {p}" for p in found)
    return problems


def replace_predictions(
    client: StudioClient,
    project: int,
    predictions: Sequence[Mapping[str, Any]],
    *,
    model_version: str,
    choices_name: str | None = None,
    task_ids: Collection[int] | None = None,
    chunk_size: int = 10_000,
    progress: Progress | None = None,
) -> PushReport:
    """Replace this model version's predictions in a project, idempotently.

    Validates every prediction first and sends nothing if any is invalid; then deletes the
    predictions of ``model_version`` (and only those), imports the new ones in chunks,
    compares the created count with what was sent, and sets the project's ``model_version``
    so the Data Manager's prediction score averages these predictions. Annotations and other
    model versions are never touched.

    Parameters
    ----------
    project : int
    predictions : sequence of dict
        Prediction JSON (:func:`~ls_cleanlab.studio.tasks.predictions_json`), all carrying
        ``model_version``.
    model_version : str
    choices_name : str, optional
        The ``Choices`` tag the predictions are for (default as in ``parse_label_config``).
    task_ids : collection of int, optional
        The project's task ids if known (from a fetch); otherwise they are listed, which on
        a large project takes a while.
    chunk_size : int
        Predictions per import request. Label Studio 1.23 recounts every task of the
        project after each import request, so fewer, larger chunks are faster.
    progress : callable, optional
        ``progress(sent, total)``.

    Returns
    -------
    PushReport
        ``missing`` > 0 when Label Studio created fewer predictions than were sent.

    Raises
    ------
    InvalidTasksError
        When a prediction is invalid (nothing is sent; the message lists the problems).
    StudioError
        When a request fails; a failure after the old predictions were deleted deletes the
        new ones already imported too, so the project never holds half a push.
    """
    project = int(project)
    chunk_size = check_int(chunk_size, "chunk_size", low=1)
    _check_all(client, project, predictions, model_version, choices_name, task_ids)
    versions = model_versions(client.session, project)
    old = versions.get(model_version, 0) if versions is not None else 1
    # deleting is slow in Label Studio (a signal per prediction): only when there are some
    deleted = delete_predictions(client.session, project, model_version) if old else 0
    created = _import_chunks(client.session, project, predictions, model_version, chunk_size,
                             progress)  # fmt: skip
    _check_created(created, len(predictions), model_version)
    if predictions:  # deleting a version also unsets it as the project's: always set it
        set_model_version(client.session, project, model_version)
    return PushReport(model_version, len(predictions), created, deleted)


def import_predictions(
    client: StudioClient,
    project: int,
    predictions: Sequence[Mapping[str, Any]],
    *,
    model_version: str,
    choices_name: str | None = None,
    task_ids: Collection[int] | None = None,
    chunk_size: int = 10_000,
    progress: Progress | None = None,
) -> PushReport:
    """Add predictions of a new ``model_version`` to a project, deleting nothing.

    What :func:`replace_predictions` does without its slow first step: every prediction is
    validated (nothing is sent if one is invalid), imported in chunks, and the created count
    compared with what was sent; a failed import removes what it had imported. The project's
    ``model_version`` is left alone (:func:`set_model_version`). Meant for a version no
    prediction has yet, such as a new run's (:mod:`ls_cleanlab.pipeline.runs`).
    """
    project = int(project)
    chunk_size = check_int(chunk_size, "chunk_size", low=1)
    _check_all(client, project, predictions, model_version, choices_name, task_ids)
    created = _import_chunks(client.session, project, predictions, model_version, chunk_size,
                             progress)  # fmt: skip
    _check_created(created, len(predictions), model_version)
    return PushReport(model_version, len(predictions), created, 0)


def _check_created(created: int, sent: int, model_version: str) -> None:
    if created != sent:
        logger.warning("Label Studio created %d of %d predictions for %s", created, sent,
                       model_version)  # fmt: skip


def set_model_version(session: StudioSession, project: int, model_version: str) -> None:
    """Make ``model_version`` the project's: the Data Manager's prediction score averages the
    predictions of that version, and the labeling stream shows them."""
    session.json(
        "PATCH",
        f"/api/projects/{int(project)}/",
        params={"include": "id"},
        json={"model_version": model_version},
    )


def model_versions(session: StudioSession, project: int) -> dict[str, int] | None:
    """The project's prediction model versions with their counts (None when Label Studio
    answers with something else)."""
    answer = session.json("GET", f"/api/projects/{int(project)}/model-versions/")
    if not isinstance(answer, Mapping):
        return None
    return {str(v): int(c or 0) for v, c in answer.items()}


def delete_predictions(
    session: StudioSession, project: int, model_version: str, timeout: float | None = None
) -> int:
    """Delete the predictions of one model version; returns how many were deleted. Label
    Studio answers when the last one is gone (about 20 ms each): ``timeout`` overrides the
    session's wait for large versions."""
    answer = session.json(
        "DELETE",
        f"/api/projects/{int(project)}/model-versions/",
        json={"model_version": model_version},
        timeout=timeout,
    )
    if isinstance(answer, Mapping):
        return int(answer.get("deleted_predictions", 0) or 0)
    return int(answer or 0)


def _check_all(
    client: StudioClient,
    project: int,
    predictions: Sequence[Mapping[str, Any]],
    model_version: str,
    choices_name: str | None,
    task_ids: Collection[int] | None,
) -> None:
    """Raise :class:`InvalidTasksError` listing every problem of ``predictions``; nothing is sent
    unless all of them are valid and of ``model_version``."""
    if not isinstance(model_version, str) or not model_version:
        raise InvalidTasksError("model_version must be a non-empty string.")
    wrong = [
        i
        for i, p in enumerate(predictions)
        if not isinstance(p, Mapping) or p.get("model_version") != model_version
    ]
    if wrong:
        raise InvalidTasksError(
            f"predictions {wrong[:5]} do not carry model_version {model_version!r}."
        )
    problems = check_predictions(
        client, project, predictions, choices_name=choices_name, task_ids=task_ids
    )
    if problems:
        shown = "; ".join(problems[:10])
        more = f" and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise InvalidTasksError(
            f"{len(problems)} problems in the predictions, nothing was sent: {shown}{more}"
        )


def _import_chunks(
    session: StudioSession,
    project: int,
    predictions: Sequence[Mapping[str, Any]],
    model_version: str,
    chunk_size: int,
    progress: Progress | None,
) -> int:
    """Import ``predictions`` in chunks; returns how many Label Studio created. On any failure
    the version's predictions imported so far are deleted before the error propagates."""
    created = 0
    try:
        for start in range(0, len(predictions), chunk_size):
            chunk = [dict(p) for p in predictions[start : start + chunk_size]]
            answer = session.json("POST", f"/api/projects/{project}/import/predictions", json=chunk)
            created += int(answer.get("created", 0)) if isinstance(answer, Mapping) else 0
            if progress is not None:
                progress(start + len(chunk), len(predictions))
    except Exception:
        logger.warning("import of %s failed; removing its partial predictions", model_version)
        try:
            delete_predictions(session, project, model_version)
        except StudioError:
            logger.exception("could not remove the partial predictions of %s", model_version)
        raise
    return created
