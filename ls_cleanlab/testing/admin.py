"""Setting up Label Studio projects for tests, benchmarks and the demo, with plain ``requests``
and the legacy key: independent of :class:`~ls_cleanlab.studio.StudioClient`, the client under
test. Label configs of the three kinds of project the tests use are here too."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests

__all__ = ["IMAGE_MULTI", "SINGLE", "TEXT_MULTI", "Admin"]

IMAGE_MULTI = (
    '<View><Image name="image" value="$image"/>'
    '<Choices name="tags" toName="image" choice="multiple">'
    '<Choice value="Cat"/><Choice value="Dog" alias="dog"/><Choice value="Bird"/>'
    "</Choices></View>"
)
TEXT_MULTI = (
    '<View><Text name="text" value="$text"/>'
    '<Choices name="topics" toName="text" choice="multiple" showInline="true">'
    '<Choice value="sports"/><Choice value="politics"/><Choice value="tech"/>'
    "</Choices></View>"
)
SINGLE = (
    '<View><Text name="review" value="$review"/>'
    '<Choices name="sentiment" toName="review" choice="single-radio">'
    '<Choice value="positive"/><Choice value="negative"/><Choice value="neutral"/>'
    "</Choices></View>"
)


class Admin:
    """Raw API calls as an administrator (``token``: a legacy token), for setting projects up;
    any answer of 400 or more raises :class:`AssertionError` with its text."""

    def __init__(self, url: str, token: str) -> None:
        import requests

        self.url = url
        self.http: requests.Session = requests.Session()
        self.http.headers["Authorization"] = f"Token {token}"

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"{self.url}{path}", timeout=120, **kwargs)
        if response.status_code >= 400:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else None

    def project(self, title: str, config: str) -> int:
        return int(
            self.call("POST", "/api/projects/", json={"title": title, "label_config": config})["id"]
        )

    def import_tasks(self, project: int, tasks: list[dict[str, Any]]) -> list[int]:
        answer = self.call(
            "POST",
            f"/api/projects/{project}/import",
            json=tasks,
            params={"return_task_ids": "true"},
        )
        return [int(i) for i in answer["task_ids"]]

    def user(self, email: str, first_name: str | None = None, last_name: str = "") -> int:
        name = email.split("@")[0]
        body = {"email": email, "username": name, "first_name": first_name or name,
                "last_name": last_name}  # fmt: skip
        return int(self.call("POST", "/api/users/", json=body)["id"])

    def annotate(self, task: int, choices: list[str] | None, **fields: Any) -> dict[str, Any]:
        result = []
        if choices is not None:
            result = [
                {
                    "from_name": fields.pop("from_name", "tags"),
                    "to_name": fields.pop("to_name", "image"),
                    "type": "choices",
                    "value": {"choices": choices},
                }
            ]
        body = {"result": result, **fields}
        return dict(self.call("POST", f"/api/tasks/{task}/annotations/", json=body))

    def predictions(self, project: int) -> list[dict[str, Any]]:
        return list(self.call("GET", "/api/predictions/", params={"project": project}))

    def view_tasks(self, project: int, view: int) -> list[dict[str, Any]]:
        """The tasks a Data Manager view (tab) shows, as Label Studio's task list answers."""
        params = {"project": project, "view": view, "page_size": 500}
        return list(self.call("GET", "/api/tasks/", params=params)["tasks"])

    def current_run(
        self, project: int, views: Mapping[str, int]
    ) -> tuple[str, list[int], dict[str, list[int]]]:
        """The project's model version, the tasks holding a prediction of that version, and the
        tasks each of ``views`` (title -> view id) shows; task ids sorted."""
        version = str(self.call("GET", f"/api/projects/{project}/")["model_version"])
        mine = [p["task"] for p in self.predictions(project) if p["model_version"] == version]
        shown = {t: sorted(x["id"] for x in self.view_tasks(project, v)) for t, v in views.items()}
        return version, sorted(mine), shown
