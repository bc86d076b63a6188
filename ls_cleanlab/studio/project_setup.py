"""Project setup through the Label Studio API: Data Manager views, the ML backend, webhooks.

Every call here is idempotent: a view is found by title, an ML backend by URL, a webhook by URL,
and updated in place rather than created again. :class:`ProjectSetup` is a base of
:class:`~ls_cleanlab.studio.client.StudioClient`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ls_cleanlab.studio.session import StudioSession

__all__ = ["ProjectSetup"]

#: Webhook actions that change what an audit sees.
ANNOTATION_ACTIONS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_DELETED")


class ProjectSetup:
    """Views, ML backend and webhooks of a project (needs ``self.session``)."""

    session: StudioSession

    def ensure_view(
        self,
        project: int,
        title: str,
        *,
        filters: Mapping[str, Any] | None = None,
        ordering: Sequence[str] = (),
        hidden_columns: Mapping[str, Any] | None = None,
        columns_width: Mapping[str, int] | None = None,
    ) -> int:
        """Create or update the Data Manager view (tab) called ``title``; returns its id.

        ``filters`` is Label Studio's filter object (``{"conjunction": "and", "items": [...]}``,
        items like ``{"filter": "filter:tasks:predictions_score", "operator": "less",
        "type": "Number", "value": 0.5}``); ``ordering`` e.g. ``["-tasks:predictions_score"]``.
        ``hidden_columns`` is ``{"explore": [...], "labeling": [...]}`` of column keys
        (``tasks:id``, ``tasks:data.image``), ``columns_width`` pixels by column key. A view with
        the same title is updated, never duplicated.
        """
        data: dict[str, Any] = {
            "title": title,
            "filters": dict(filters or {"conjunction": "and", "items": []}),
            "ordering": list(ordering),
        }
        if hidden_columns is not None:
            data["hiddenColumns"] = dict(hidden_columns)
        if columns_width is not None:
            data["columnsWidth"] = dict(columns_width)
        body = {"project": int(project), "data": data}
        for view in self.views(project):
            if view.get("data", {}).get("title") == title:
                answer = self.session.json("PATCH", f"/api/dm/views/{view['id']}/", json=body)
                return int(answer["id"])
        return int(self.session.json("POST", "/api/dm/views/", json=body)["id"])

    def set_label_config(self, project: int, config: str) -> None:
        """Replace ``project``'s labeling config (Label Studio refuses one its annotations do not
        fit, with a 400 naming them)."""
        self.session.json("PATCH", f"/api/projects/{int(project)}/", json={"label_config": config})

    def columns(self, project: int) -> list[dict[str, Any]]:
        """The Data Manager's columns of the project (``id``, ``title``, ``type``, ``parent``
        ``"data"`` for task data ...)."""
        answer = self.session.json("GET", "/api/dm/columns/", params={"project": int(project)})
        return list(answer.get("columns", []) if isinstance(answer, Mapping) else [])

    def views(self, project: int) -> list[dict[str, Any]]:
        """The project's Data Manager views."""
        return list(self.session.json("GET", "/api/dm/views/", params={"project": int(project)}))

    def ensure_ml_backend(
        self, project: int, url: str, *, title: str = "ls-cleanlab", **options: Any
    ) -> int:
        """Connect the ML backend at ``url`` to the project (updated if already connected);
        returns its id. Label Studio calls the backend's ``/health`` and ``/setup`` now, so it
        must be running. ``options`` are further fields such as ``is_interactive``,
        ``auth_method="BASIC_AUTH"``, ``basic_auth_user``, ``basic_auth_pass``."""
        body = {"url": url, "project": int(project), "title": title, **options}
        existing = self.session.json("GET", "/api/ml/", params={"project": int(project)})
        for backend in existing or []:
            if backend.get("url", "").rstrip("/") == url.rstrip("/"):
                answer = self.session.json("PATCH", f"/api/ml/{backend['id']}", json=body)
                return int(answer["id"])
        return int(self.session.json("POST", "/api/ml/", json=body)["id"])

    def ensure_webhook(
        self,
        project: int,
        url: str,
        actions: Iterable[str] = ANNOTATION_ACTIONS,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> int:
        """Register (or update) a webhook of the project that posts ``actions`` to ``url``;
        returns its id."""
        body = {
            "project": int(project),
            "url": url,
            "send_payload": True,
            "send_for_all_actions": False,
            "actions": list(actions),
            "is_active": True,
            "headers": dict(headers or {}),
        }
        existing = self.session.json("GET", "/api/webhooks/", params={"project": int(project)})
        for hook in existing or []:
            if hook.get("url") == url and hook.get("project") == int(project):
                return int(
                    self.session.json("PATCH", f"/api/webhooks/{hook['id']}/", json=body)["id"]
                )
        return int(self.session.json("POST", "/api/webhooks/", json=body)["id"])
