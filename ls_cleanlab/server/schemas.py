"""Request and response bodies of the ML backend, as pydantic models.

Requests follow what Label Studio 1.23 sends (captured in ``tests/server/payloads/``); every
route declares its response model, so the OpenAPI schema describes the answers the backend
really gives (the fuzz test checks them against it). Task JSON inside ``/predict`` stays a
plain object: the pipeline validates it (:func:`ls_cleanlab.studio.read_tasks`), and copying
10,000 tasks through models would cost more than the prediction.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = [
    "MAX_ID",
    "Health",
    "JobList",
    "JobOut",
    "JobRequest",
    "PredictRequest",
    "PredictResponse",
    "Prediction",
    "SetupRequest",
    "SetupResponse",
    "Versions",
    "WebhookRequest",
    "WebhookResponse",
    "project_id",
]

#: Label Studio's ``project`` on /setup and /predict: ``"<id>.<created timestamp>"``.
PROJECT_PATTERN = r"^\d{1,12}(\.\d{1,20})?$"
#: Largest id accepted (JSON numbers above it lose precision in JavaScript).
MAX_ID = 2**53


def project_id(value: str) -> int:
    """The project id in Label Studio's ``"<id>.<timestamp>"`` (already pattern-checked)."""
    return int(value.split(".", 1)[0])


# -- requests -------------------------------------------------------------------------------------


class SetupRequest(BaseModel):
    project: str = Field(pattern=PROJECT_PATTERN, description='"<id>.<created timestamp>"')
    schema_: str = Field(alias="schema", min_length=1, max_length=1_000_000)
    hostname: str | None = Field(
        None, max_length=2000, pattern=r"^(https?://\S+)?$", description="Label Studio's URL"
    )
    access_token: SecretStr | None = Field(None, max_length=2000)
    extra_params: Any = None


class PredictParams(BaseModel):
    model_config = ConfigDict(extra="allow")
    context: Any = None


class PredictRequest(BaseModel):
    tasks: list[dict[str, Any]]
    project: str | None = Field(None, pattern=PROJECT_PATTERN)
    label_config: str = Field(min_length=1, max_length=1_000_000)
    params: PredictParams | None = None


class WebhookRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    action: str = Field(min_length=1, max_length=100)
    project: dict[str, Any] | None = None


class JobRequest(BaseModel):
    project: int = Field(ge=1, le=MAX_ID)
    kind: Literal["audit", "refresh"] = "audit"


# -- responses ------------------------------------------------------------------------------------


class Health(BaseModel):
    status: Literal["UP"] = "UP"
    model_class: str
    model_version: str


class SetupResponse(BaseModel):
    model_version: str


class Versions(BaseModel):
    versions: list[str]


class Prediction(BaseModel):
    """One task's prediction: a Choices result (empty when the task could not be predicted)."""

    result: list[dict[str, Any]]
    score: float = Field(ge=0, le=1)
    model_version: str


class PredictResponse(BaseModel):
    results: list[Prediction] = Field(description="one per task, in the order of the request")
    model_version: str


class WebhookResponse(BaseModel):
    """``queued``/``ignored`` with the event's ``action``; for ``START_TRAINING`` the audit
    job's id and state."""

    status: str
    action: str | None = None
    job: str | None = None


class JobOut(BaseModel):
    """A background job (``queued -> running -> done | failed``)."""

    id: int
    project: int
    kind: Literal["audit", "refresh", "register", "cleanup"]
    state: Literal["queued", "running", "done", "failed"]
    reason: str | None = Field(description="why it failed")
    stage: str | None = Field(description="the step under way, or the one that failed")
    done: int
    total: int
    summary: dict[str, Any] | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    resumed: int = Field(0, description="times it was resumed after a restart of the backend")


class JobList(BaseModel):
    jobs: list[JobOut] = Field(description="the last 100, oldest first")
