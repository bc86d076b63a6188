"""``GET /report/{project}``: the HTML report of the project's last full audit, written by the
audit job into the data dir (a refresh keeps it, to stay quick); behind the backend's basic auth
like every route but the webhook."""

from __future__ import annotations

from fastapi import APIRouter, Path, Response

from ls_cleanlab.server.deps import BackendDep
from ls_cleanlab.server.errors import ApiError, responses
from ls_cleanlab.server.schemas import MAX_ID

__all__ = ["router"]

router = APIRouter(tags=["report"], responses=responses(401, 422))

_HTML = {"content": {"text/html": {"schema": {"type": "string"}}},
         "description": "the self-contained HTML report"}  # fmt: skip


@router.get("/report/{project}", response_class=Response,
            responses={200: _HTML, **responses(404)})  # fmt: skip
def report(backend: BackendDep, project: int = Path(ge=1, le=MAX_ID)) -> Response:
    """The report of the project's last full audit."""
    path = backend.workspace.report(project)
    if not path.is_file():
        raise ApiError(404, "no report", f"project {project} has no audit yet: start training")
    return Response(path.read_bytes(), media_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "no-store"})  # fmt: skip
