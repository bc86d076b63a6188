"""Label Studio API client: fetch tasks, replace our predictions, views, ML backend, webhooks.

:class:`StudioClient` talks to one Label Studio over its REST API (``requests``; see
:mod:`ls_cleanlab.studio.session` for authentication, retries and errors, and
:mod:`ls_cleanlab.studio.project_setup` for views, the ML backend and webhooks). It never creates,
changes or deletes an annotation, and among predictions touches only the ``model_version`` it is
given.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Literal

from ls_cleanlab.errors import InvalidOptionError, StudioRequestError
from ls_cleanlab.studio import push
from ls_cleanlab.studio.project_setup import ProjectSetup
from ls_cleanlab.studio.push import Progress, PushReport
from ls_cleanlab.studio.schema import LabelSchema, parse_label_config
from ls_cleanlab.studio.session import StudioSession
from ls_cleanlab.studio.users import read_user_names, read_users

__all__ = ["FetchResult", "Progress", "PushReport", "StudioClient"]

logger = logging.getLogger(__name__)

FetchMethod = Literal["export", "list"]

#: Tasks per page of the task list (Label Studio's largest page is far larger).
_PAGE_SIZE = 1000


@dataclass(frozen=True)
class FetchResult:
    """Tasks fetched from a project.

    Attributes
    ----------
    tasks : tuple of dict
        Task JSON with ``annotations``, ``predictions`` and ``drafts``, ordered by task id.
    fetched_at : str
        Label Studio's time (ISO 8601, UTC, whole seconds) when the fetch began: pass it as
        ``since`` to fetch what changed afterwards (tasks changed in that same second come
        again, which is harmless).
    method : str
        The endpoint used: ``"export"`` or ``"list"``.
    """

    tasks: tuple[dict[str, Any], ...]
    fetched_at: str
    method: str


def _iso(stamp: datetime) -> str:
    """UTC with microseconds and a ``Z``: the only form Label Studio's Datetime filter parses."""
    stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)
    return stamp.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _since(value: str | datetime) -> str:
    if isinstance(value, datetime):
        return _iso(value)
    try:
        return _iso(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except (AttributeError, ValueError) as exc:
        raise StudioRequestError(f"since must be an ISO 8601 time, got {value!r}.") from exc


class StudioClient(ProjectSetup):
    """A client for one Label Studio instance.

    Parameters
    ----------
    url : str
        Label Studio's base URL, e.g. ``http://localhost:8080``.
    api_key : str
        A personal access token (recommended) or a legacy token.
    timeout : float
        Seconds to wait for an answer; exports of large projects take a while.
    retries : int
        Retries after 5xx answers and connection errors, with exponential backoff.

    Examples
    --------
    >>> client = StudioClient("http://localhost:8080", api_key)  # doctest: +SKIP
    >>> schema = client.label_schema(12)  # doctest: +SKIP
    >>> table = read_tasks(client.fetch_tasks(12).tasks, schema)  # doctest: +SKIP
    """

    def __init__(self, url: str, api_key: str, *, timeout: float = 300.0, retries: int = 3) -> None:
        self.session = StudioSession(url, api_key, timeout=timeout, retries=retries)

    def __repr__(self) -> str:
        return f"StudioClient({self.session!r})"

    def close(self) -> None:
        """Close the connections."""
        self.session.close()

    def __enter__(self) -> StudioClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- projects -------------------------------------------------------------------------------

    def project(self, project: int) -> dict[str, Any]:
        """The project's JSON (title, ``label_config``, ``model_version``, counts ...)."""
        return dict(self.session.json("GET", f"/api/projects/{int(project)}/"))

    def label_schema(self, project: int, choices_name: str | None = None) -> LabelSchema:
        """The project's :class:`LabelSchema` (see ``parse_label_config``)."""
        return parse_label_config(self.label_config(project), choices_name)

    def label_config(self, project: int) -> str:
        """The project's labeling config XML."""
        # ``include`` names the fields to answer with, sparing the project's counts
        params = {"include": "id,label_config"}
        answer = self.session.json("GET", f"/api/projects/{int(project)}/", params=params)
        config = answer.get("label_config") if isinstance(answer, Mapping) else None
        if not isinstance(config, str):
            raise StudioRequestError(f"project {project} answered without a label_config.")
        return config

    def users(self) -> list[dict[str, Any]]:
        """The users the token may list (``id``, ``email``, names); raises when it may not."""
        return read_users(self.session)

    def user_names(self) -> dict[int, str]:
        """User id -> ``"First Last <email>"`` (:mod:`~ls_cleanlab.studio.users`); ``{}`` when
        users cannot be read (said once in the log)."""
        return read_user_names(self.session)

    # -- fetching -------------------------------------------------------------------------------

    def fetch_tasks(
        self,
        project: int,
        *,
        since: str | datetime | None = None,
        method: FetchMethod | None = None,
        progress: Progress | None = None,
    ) -> FetchResult:
        """All tasks of a project, or those changed since a time, with annotations and
        predictions.

        Parameters
        ----------
        project : int
        since : str or datetime, optional
            Only tasks whose ``updated_at`` is later (a new, changed or deleted annotation
            updates it). Use the ``fetched_at`` of an earlier fetch. Deleted tasks are not
            reported.
        method : {"export", "list"}, optional
            The JSON export (default for full fetches; faster on large projects) or the paged
            task list (default and only choice with ``since``).
        progress : callable, optional
            ``progress(done, total)`` in tasks.
        """
        started = self._server_now(int(project))
        if since is not None and method == "export":
            raise StudioRequestError("the export endpoint cannot filter by time; use 'list'.")
        chosen: FetchMethod = method or ("list" if since is not None else "export")
        if chosen not in ("export", "list"):
            raise StudioRequestError(f"method={method!r} is not supported; use 'export' or 'list'.")
        if chosen == "export":
            tasks = self._fetch_export(int(project), progress)
        else:
            tasks = self._fetch_list(int(project), since, progress)
        try:
            tasks.sort(key=lambda task: task["id"])
        except (KeyError, TypeError):
            pass  # malformed tasks: read_tasks says which
        return FetchResult(tuple(tasks), started, chosen)

    def _server_now(self, project: int) -> str:
        """Label Studio's clock (its ``Date`` header, whole seconds, so never late), as ISO 8601:
        incremental fetches then do not depend on this machine's clock agreeing with the
        server's."""
        response = self.session.request(
            "GET", f"/api/projects/{project}/", params={"include": "id"}
        )
        try:
            stamp = parsedate_to_datetime(response.headers["Date"])
        except (KeyError, TypeError, ValueError):
            stamp = datetime.now(timezone.utc)
        return _iso(stamp)

    def _fetch_export(self, project: int, progress: Progress | None) -> list[dict[str, Any]]:
        params = {"exportType": "JSON", "download_all_tasks": "true"}
        tasks = self.session.json("GET", f"/api/projects/{project}/export", params=params)
        if not isinstance(tasks, list):
            raise StudioRequestError(f"the JSON export of project {project} is not a list.")
        if progress is not None:
            progress(len(tasks), len(tasks))
        return tasks

    def _fetch_list(
        self, project: int, since: str | datetime | None, progress: Progress | None
    ) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"ordering": ["tasks:id"]}
        if since is not None:
            query["filters"] = {
                "conjunction": "and",
                "items": [
                    {
                        "filter": "filter:tasks:updated_at",
                        "operator": "greater",
                        "type": "Datetime",
                        "value": _since(since),
                    }
                ],
            }
        tasks: list[dict[str, Any]] = []
        for batch, total in self._pages(project, "all", query):
            tasks.extend(batch)
            if progress is not None:
                progress(len(tasks), total)
        return tasks

    def task_ids(self, project: int) -> set[int]:
        """The ids of every task in the project (cheap: no annotations are sent)."""
        query = {"ordering": ["tasks:id"]}
        return {
            int(t["id"])
            for batch, _ in self._pages(int(project), "task_only", query)
            for t in batch
        }

    def _pages(
        self, project: int, fields: str, query: Mapping[str, Any]
    ) -> Iterator[tuple[list[dict[str, Any]], int]]:
        """Pages of the task list, with the total number of tasks matching ``query``."""
        done = 0
        page = 1
        while True:
            params = {
                "project": project,
                "page": page,
                "page_size": _PAGE_SIZE,
                "fields": fields,
                "query": json.dumps(query),
            }
            try:
                body = self.session.json("GET", "/api/tasks/", params=params)
            except StudioRequestError as exc:
                if exc.status == 404 and page > 1:  # past the last page
                    return
                raise
            batch = body.get("tasks") if isinstance(body, Mapping) else None
            if not isinstance(batch, list):
                raise StudioRequestError(f"the task list of project {project} has no 'tasks'.")
            done += len(batch)
            total = int(body.get("total", done))
            yield batch, total
            if not batch or done >= total:
                return
            page += 1

    # -- predictions (see :mod:`ls_cleanlab.studio.push`) ----------------------------------------

    def with_predictions(
        self, project: int, tasks: Sequence[Mapping[str, Any]], model_version: str
    ) -> list[dict[str, Any]]:
        """``tasks`` with the full predictions of ``model_version`` as their ``predictions``.

        The JSON export lists predictions by id only (Label Studio 1.23.2 serializes them as
        primary keys there), so reading another model's predictions from a full fetch needs them
        listed: one request for the project's predictions, kept for that version. The tasks are
        copied, not changed. A version the project has no prediction of raises
        :class:`InvalidOptionError` listing the versions it has.
        """
        answer = self.session.json("GET", "/api/predictions/", params={"project": int(project)})
        found: dict[int, list[dict[str, Any]]] = {}
        versions: set[str] = set()
        for item in answer if isinstance(answer, list) else []:
            if not isinstance(item, Mapping):
                continue
            versions.add(str(item.get("model_version")))
            if item.get("model_version") == model_version:
                found.setdefault(int(item.get("task", -1)), []).append(dict(item))
        if model_version not in versions:
            raise InvalidOptionError(
                f"project {project} has no prediction of model_version {model_version!r}; its "
                f"versions: {sorted(versions) or 'none'}."
            )
        return [{**task, "predictions": found.get(int(task["id"]), [])} for task in tasks]

    def check_predictions(
        self,
        project: int,
        predictions: Sequence[Mapping[str, Any]],
        *,
        choices_name: str | None = None,
        task_ids: Collection[int] | None = None,
    ) -> list[str]:
        """Everything Label Studio would reject or silently drop in ``predictions``: one message
        per problem, empty when all are valid (:func:`ls_cleanlab.studio.push.check_predictions`).
        """
        return push.check_predictions(
            self, project, predictions, choices_name=choices_name, task_ids=task_ids
        )

    def replace_predictions(
        self,
        project: int,
        predictions: Sequence[Mapping[str, Any]],
        *,
        model_version: str,
        choices_name: str | None = None,
        task_ids: Collection[int] | None = None,
        chunk_size: int = 10_000,
        progress: Progress | None = None,
    ) -> PushReport:
        """Replace this model version's predictions in a project, idempotently; nothing is sent
        unless every prediction is valid (:func:`ls_cleanlab.studio.push.replace_predictions`)."""
        return push.replace_predictions(
            self, project, predictions, model_version=model_version, choices_name=choices_name,
            task_ids=task_ids, chunk_size=chunk_size, progress=progress,
        )  # fmt: skip

    def import_predictions(
        self,
        project: int,
        predictions: Sequence[Mapping[str, Any]],
        *,
        model_version: str,
        choices_name: str | None = None,
        task_ids: Collection[int] | None = None,
        chunk_size: int = 10_000,
        progress: Progress | None = None,
    ) -> PushReport:
        """Add predictions of a new model version, deleting nothing; nothing is sent unless
        every prediction is valid (:func:`ls_cleanlab.studio.push.import_predictions`)."""
        return push.import_predictions(
            self, project, predictions, model_version=model_version, choices_name=choices_name,
            task_ids=task_ids, chunk_size=chunk_size, progress=progress,
        )  # fmt: skip

    def delete_predictions(
        self, project: int, model_version: str, timeout: float | None = None
    ) -> int:
        """Delete the predictions of one model version; returns how many were deleted
        (``timeout``: seconds to wait for Label Studio's answer, default the session's)."""
        return push.delete_predictions(self.session, project, model_version, timeout)

    def model_versions(self, project: int) -> dict[str, int]:
        """The project's prediction model versions and how many predictions each has."""
        return push.model_versions(self.session, project) or {}

    def set_model_version(self, project: int, model_version: str) -> None:
        """Make ``model_version`` the project's (the Data Manager's prediction score follows)."""
        push.set_model_version(self.session, project, model_version)
