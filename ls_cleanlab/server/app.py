"""The ML backend: a FastAPI app speaking Label Studio's ML backend protocol.

``create_app(settings)`` builds the app; nothing is created at import time. Routes:

=====================  ===========================================================================
``GET /health``        ``{"status": "UP", "model_class": ...}``
``POST /setup``        records the project, returns ``{"model_version": ...}`` (fast, idempotent)
``POST /predict``      one result per task, in order; empty results before the first audit
``POST /webhook``      annotation/task events: debounced refresh (answers at once);
                       ``START_TRAINING``: a full audit job, answered with its id
``GET /versions``      ``{"versions": [...]}``
``POST /jobs``         start a job (``{"project": 12, "kind": "audit"}``)
``GET /jobs/{id}``     a job's state, stage, progress, reason (``GET /jobs?project=``: the last 100)
``GET /metrics``       Prometheus text: jobs, queue, last audit, flagged tasks, annotator quality
=====================  ===========================================================================

Errors are JSON ``{"error": ..., "detail": ...}`` with a 4xx status; tracebacks, keys and
passwords never reach a response or a log line.
"""

from __future__ import annotations

import argparse
import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import FastAPI, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from ls_cleanlab.errors import LabelConfigError, LsCleanlabError
from ls_cleanlab.features import FeatureCache
from ls_cleanlab.media import MediaFetcher
from ls_cleanlab.pipeline.workspace import Workspace
from ls_cleanlab.server.auth import (
    SECRET_HEADER,
    WEBHOOK_ACTIONS,
    BodyLimit,
    basic_auth_ok,
    webhook_signed,
)
from ls_cleanlab.server.jobs import JobRunner
from ls_cleanlab.server.jobstore import Store
from ls_cleanlab.server.metrics import metrics_text
from ls_cleanlab.server.predict import Predictor
from ls_cleanlab.server.settings import Settings
from ls_cleanlab.studio import StudioClient

__all__ = ["Settings", "create_app", "serve"]

logger = logging.getLogger("ls_cleanlab")

_PROJECT = r"^\d{1,12}(\.\d{1,20})?$"
MAX_ID = 2**53


class SetupRequest(BaseModel):
    project: str = Field(pattern=_PROJECT, description='"<id>.<created timestamp>"')
    schema_: str = Field(alias="schema", min_length=1, max_length=1_000_000)
    hostname: str | None = Field(None, max_length=2000)
    access_token: str | None = Field(None, max_length=2000)
    extra_params: Any = None


class PredictParams(BaseModel):
    model_config = ConfigDict(extra="allow")
    context: Any = None


class PredictRequest(BaseModel):
    tasks: list[dict[str, Any]]
    project: str | None = Field(None, pattern=_PROJECT)
    label_config: str = Field(min_length=1, max_length=1_000_000)
    params: PredictParams | None = None


class WebhookRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    action: str = Field(min_length=1, max_length=100)
    project: dict[str, Any] | None = None


class JobRequest(BaseModel):
    project: int = Field(ge=1, le=MAX_ID)
    kind: Literal["audit", "refresh"] = "audit"


def _project_id(value: str) -> int:
    return int(value.split(".", 1)[0])


class Backend:
    """What the routes share: settings, store, predictor, jobs, per-project credentials."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.workspace = Workspace(settings.data_dir)
        self.store = Store(self.workspace.backend_db)
        self.cache = FeatureCache(self.workspace.features_db)
        self.predictor = Predictor(self.workspace, self.cache)
        self.jobs = JobRunner(settings, self.store, self.predictor, self.client)
        self.secret = settings.secret()
        self._credentials: dict[int, tuple[str | None, str | None]] = {}
        self._registered: dict[int, float] = {}
        self._lock = threading.Lock()

    def remember(self, project: int, hostname: str | None, token: str | None) -> None:
        with self._lock:
            self._credentials[project] = (hostname, token)

    def _studio(self, project: int) -> tuple[str, str]:
        with self._lock:
            hostname, token = self._credentials.get(project, (None, None))
        url = self.settings.label_studio_url or hostname
        key = self.settings.label_studio_api_key
        api_key = key.get_secret_value() if key is not None else token
        if not url or not api_key:
            raise LsCleanlabError(
                "no Label Studio to talk to: set LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY "
                "(or connect the backend in Label Studio so /setup brings them)."
            )
        return url, api_key

    def client(self, project: int) -> StudioClient:
        url, key = self._studio(project)
        return StudioClient(url, key, timeout=120.0, retries=2)

    def fetcher(self, project: int) -> MediaFetcher | None:
        """Media for ``project``; without Label Studio's URL and key, only local files,
        allowlisted hosts and ``data:`` URIs."""
        try:
            url, key = self._studio(project)
        except LsCleanlabError:
            url, key = None, None
        return MediaFetcher(url, key, allowed_hosts=self.settings.hosts,
                            local_files_root=self.settings.local_files_root)  # fmt: skip

    def register_soon(self, project: int) -> None:
        """Sign the project's webhooks (at most every 10 minutes per project)."""
        if not self.settings.register_webhooks:
            return
        with self._lock:
            if time.time() - self._registered.get(project, 0.0) < 600:
                return
            self._registered[project] = time.time()
        self.jobs.submit(project, "register")

    def close(self) -> None:
        self.jobs.stop()
        self.cache.close()
        self.store.close()


def _error(status: int, error: str, detail: Any = None) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status)


def create_app(settings: Settings) -> FastAPI:
    """The ML backend app for ``settings`` (the job worker starts with the app's lifespan)."""
    logging.getLogger("ls_cleanlab").setLevel(settings.log_level)
    backend = Backend(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        backend.jobs.start()
        try:
            yield
        finally:
            backend.close()

    app = FastAPI(title="ls-cleanlab ML backend", version="1", lifespan=lifespan)
    app.state.backend = backend
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)

    @app.middleware("http")
    async def basic_auth(request: Request, call_next: Any) -> Any:
        if request.url.path != "/webhook" and not basic_auth_ok(
            settings, request.headers.get("authorization")
        ):
            response = _error(401, "unauthorized", "HTTP basic auth is required")
            response.headers["WWW-Authenticate"] = 'Basic realm="ls-cleanlab"'
            return response
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return _error(400, "malformed JSON", "the request body is not valid JSON")
        detail = [{"field": ".".join(str(p) for p in e.get("loc", ())),
                   "message": str(e.get("msg", ""))} for e in errors[:20]]  # fmt: skip
        return _error(422, "invalid request", detail)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(LsCleanlabError)
    async def domain_error(request: Request, exc: LsCleanlabError) -> JSONResponse:
        return _error(422, type(exc).__name__, str(exc))

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {
            "status": "UP",
            "model_class": "ls-cleanlab",
            "model_version": settings.model_version,
        }

    @app.post("/setup")
    def setup(body: SetupRequest) -> dict[str, Any]:
        project = _project_id(body.project)
        try:
            backend.predictor.schema(body.schema_)
        except LabelConfigError as error:
            return _error(422, "unsupported label config", str(error))  # type: ignore[return-value]
        backend.store.set_up(project, body.project, body.hostname, settings.model_version)
        backend.remember(project, body.hostname, body.access_token)
        backend.register_soon(project)
        return {"model_version": settings.model_version}

    @app.post("/predict")
    def predict(body: PredictRequest) -> dict[str, Any]:
        if len(body.tasks) > settings.max_predict_tasks:
            raise HTTPException(413, f"at most {settings.max_predict_tasks} tasks per request")
        for i, task in enumerate(body.tasks):
            if isinstance(task.get("id"), bool) or not isinstance(task.get("id"), int):
                raise HTTPException(422, f"tasks[{i}] needs an integer 'id'")
            if not isinstance(task.get("data", {}), dict):
                raise HTTPException(422, f"tasks[{i}].data must be an object")
        schema = backend.predictor.schema(body.label_config)
        if body.project is None:
            version = settings.model_version
            empty = {"result": [], "score": 0.0, "model_version": version}
            return {"results": [dict(empty) for _ in body.tasks], "model_version": version}
        project = _project_id(body.project)
        fetcher = backend.fetcher(project)
        try:
            results = backend.predictor.predict(
                project, body.tasks, schema, settings.model_version, fetcher
            )
        finally:
            if fetcher is not None:
                fetcher.close()
        return {"results": results, "model_version": settings.model_version}

    @app.post("/webhook")
    def webhook(body: WebhookRequest, request: Request) -> Any:
        signed = webhook_signed(backend.secret, request.headers.get(SECRET_HEADER))
        auth = request.headers.get("authorization")
        has_auth = settings.basic_auth_user is not None and basic_auth_ok(settings, auth)
        training = body.action == "START_TRAINING"
        if not (signed or has_auth or (training and settings.basic_auth_user is None)):
            detail = f"webhooks must carry the {SECRET_HEADER} header the backend registers"
            return _error(401, "unsigned webhook", detail)
        project_id = (body.project or {}).get("id")
        if (
            isinstance(project_id, bool)
            or not isinstance(project_id, int)
            or not (1 <= project_id <= MAX_ID)
        ):
            return _error(422, "invalid request", "project.id must be a positive integer")
        if training:
            job = backend.jobs.submit(project_id, "audit")
            return {"job": str(job.id), "status": job.state}
        if body.action not in WEBHOOK_ACTIONS:
            return {"status": "ignored", "action": body.action}
        if backend.store.project(project_id) is None:
            return _error(404, "unknown project",
                          f"project {project_id} was never set up with this backend")  # fmt: skip
        backend.jobs.changed(project_id)
        return {"status": "queued", "action": body.action}

    @app.get("/versions")
    def versions() -> dict[str, Any]:
        return {"versions": [settings.model_version]}

    @app.post("/jobs", status_code=202)
    def start_job(body: JobRequest) -> dict[str, Any]:
        return backend.jobs.submit(body.project, body.kind).as_json()

    @app.get("/jobs")
    def list_jobs(project: int | None = Query(None, ge=1, le=MAX_ID)) -> dict[str, Any]:
        return {"jobs": [j.as_json() for j in backend.store.jobs(project=project)][-100:]}

    @app.get("/jobs/{job_id}")
    def job(job_id: int = Path(ge=1, le=MAX_ID)) -> dict[str, Any]:
        found = backend.store.job(job_id)
        if found is None:
            raise HTTPException(404, f"no job {job_id}")
        return found.as_json()

    @app.get("/metrics", response_class=PlainTextResponse)
    def metrics() -> str:
        return metrics_text(backend.store, backend.jobs.pending())

    return app


def serve(host: str = "0.0.0.0", port: int = 9090, settings: Settings | None = None) -> None:
    """Run the backend with uvicorn until interrupted."""
    import uvicorn

    settings = settings or Settings()
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")  # fmt: skip
    uvicorn.run(create_app(settings), host=host, port=port, log_level=settings.log_level.lower(),
                access_log=settings.log_level == "DEBUG")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ls_cleanlab.server.app",
                                     description="Run the ls-cleanlab ML backend.")  # fmt: skip
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=9090)
    args = parser.parse_args(argv)
    serve(host=args.host, port=args.port)


if __name__ == "__main__":
    main()
