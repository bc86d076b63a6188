"""``POST /setup``: Label Studio connects a project (fast and idempotent; 3 s timeout)."""

from __future__ import annotations

from fastapi import APIRouter

from ls_cleanlab.server.deps import BackendDep, SettingsDep
from ls_cleanlab.server.errors import responses
from ls_cleanlab.server.project_params import read_extra_params
from ls_cleanlab.server.schemas import SetupRequest, SetupResponse, project_id

__all__ = ["router"]

router = APIRouter(tags=["Label Studio"], responses=responses(400, 401, 413, 422))


@router.post("/setup")
def setup(body: SetupRequest, backend: BackendDep, settings: SettingsDep) -> SetupResponse:
    """Check the label config and the extra params (``{"tag": ...}``: the control tag to audit,
    :mod:`~ls_cleanlab.server.project_params`), record the project, its tag and the credentials
    Label Studio sent (kept in the data dir, mode 0600), and sign the project's webhooks in the
    background. Answers the model version /predict will report: the project's current run's
    (Label Studio predicts only tasks without a prediction of it)."""
    params = read_extra_params(body.extra_params)  # InvalidOptionError -> 422
    backend.predictor.schema(body.schema_, params.tag)  # LabelConfigError -> 422
    project = project_id(body.project)
    backend.set_up(project, body.project, body.hostname, body.access_token, params.tag)
    return SetupResponse(model_version=backend.current_version(project, settings.model_version))
