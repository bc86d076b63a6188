"""``/jobs``: start a background job, follow its state, stage, progress and reason."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query

from ls_cleanlab.server.deps import JobsDep, StoreDep
from ls_cleanlab.server.errors import ApiError, responses
from ls_cleanlab.server.jobstore import Job
from ls_cleanlab.server.schemas import MAX_ID, JobList, JobOut, JobRequest

__all__ = ["router"]

router = APIRouter(prefix="/jobs", tags=["jobs"], responses=responses(401, 422))


def job_out(job: Job) -> JobOut:
    return JobOut.model_validate(job.as_json())


@router.post("", status_code=202, responses=responses(400, 413))
def start_job(body: JobRequest, jobs: JobsDep) -> JobOut:
    """Queue an ``audit`` or ``refresh`` of a project (one already queued is answered)."""
    return job_out(jobs.submit(body.project, body.kind))


@router.get("")
def list_jobs(store: StoreDep, project: int | None = Query(None, ge=1, le=MAX_ID)) -> JobList:
    """The last 100 jobs, of one project when ``project`` is given."""
    return JobList(jobs=[job_out(j) for j in store.jobs(project=project)[-100:]])


@router.get("/{job_id}", responses=responses(404))
def job(store: StoreDep, job_id: int = Path(ge=1, le=MAX_ID)) -> JobOut:
    """One job."""
    found = store.job(job_id)
    if found is None:
        raise ApiError(404, "unknown job", f"no job {job_id}")
    return job_out(found)
