"""``POST /predict``: one prediction per task, in order, from the project's trained model."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ls_cleanlab.errors import InvalidTasksError
from ls_cleanlab.server.deps import BackendDep, SettingsDep
from ls_cleanlab.server.errors import ApiError, responses
from ls_cleanlab.server.schemas import Prediction, PredictRequest, PredictResponse, project_id

__all__ = ["router"]

router = APIRouter(tags=["Label Studio"], responses=responses(400, 401, 409, 413, 422, 502, 503))


def check_tasks(tasks: list[dict[str, Any]], limit: int) -> None:
    """At most ``limit`` tasks, each with an integer ``id`` and an object ``data``."""
    if len(tasks) > limit:
        detail = f"at most {limit} tasks per request (LS_CLEANLAB_MAX_PREDICT_TASKS)"
        raise ApiError(413, "too many tasks", detail)
    for i, task in enumerate(tasks):
        if isinstance(task.get("id"), bool) or not isinstance(task.get("id"), int):
            raise InvalidTasksError(f"tasks[{i}] needs an integer 'id'")
        if not isinstance(task.get("data", {}), dict):
            raise InvalidTasksError(f"tasks[{i}].data must be an object")


@router.post("/predict")
def predict(body: PredictRequest, backend: BackendDep, settings: SettingsDep) -> PredictResponse:
    """Pre-annotations for ``tasks`` (empty before the project's first audit, and for tasks
    whose media cannot be read). 409 when the model's feature extractor cannot run here; 502
    or 503 when no task could be read because Label Studio refused the key or is unreachable."""
    check_tasks(body.tasks, settings.max_predict_tasks)
    if body.project is None:
        backend.predictor.schema(body.label_config)  # a config we cannot read is still a 422
        version = settings.model_version
        empty = Prediction(result=[], score=0.0, model_version=version)
        return PredictResponse(results=[empty] * len(body.tasks), model_version=version)
    project = project_id(body.project)
    schema = backend.predictor.schema(body.label_config, backend.store.tag(project))
    version = backend.current_version(project, settings.model_version)  # the same as /setup's
    made = backend.predict(project, body.tasks, schema)
    return PredictResponse.model_validate({"results": made, "model_version": version})
