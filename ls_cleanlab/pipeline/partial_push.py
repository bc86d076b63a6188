"""What a refresh reports, and pushing a few changed predictions one task at a time (shared by
the classification refresh, :mod:`.refresh`, and the box refresh, :mod:`.box_refresh`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ls_cleanlab.pipeline.options import ProjectAudit
from ls_cleanlab.studio import StudioClient

__all__ = ["PARTIAL_PUSH_LIMIT", "Refresh", "push_some"]

#: Above this many changed predictions a refresh publishes a new run instead.
PARTIAL_PUSH_LIMIT = 200


@dataclass(frozen=True)
class Refresh:
    """What a refresh did: the new audit (None when the project has no audit to refresh yet,
    ``reason`` says why), the predictions pushed, the tasks audited, the new tasks left for the
    next full audit (no trained model, or their media could not be read), and the earlier runs'
    versions left for the cleanup when it published a new run."""

    audit: ProjectAudit | None
    pushed: int = 0
    tasks: int = 0
    reason: str | None = None
    waiting: int = 0
    stale_versions: tuple[str, ...] = ()


def push_some(
    client: StudioClient, project: int, predictions: Sequence[Mapping[str, Any]], version: str
) -> None:
    """Replace our prediction on each of a few tasks (delete ours there, create the new one)."""
    for prediction in predictions:
        task = int(prediction["task"])
        old = client.session.json("GET", "/api/predictions/", params={"task": task})
        for item in old or []:
            if item.get("model_version") == version:
                client.session.json("DELETE", f"/api/predictions/{int(item['id'])}/")
        client.session.json("POST", "/api/predictions/", json={**prediction, "project": project})
