"""``GET /health`` and ``GET /versions``: what Label Studio asks before anything else."""

from __future__ import annotations

from fastapi import APIRouter

from ls_cleanlab.server.deps import SettingsDep
from ls_cleanlab.server.errors import responses
from ls_cleanlab.server.schemas import Health, Versions

__all__ = ["router"]

router = APIRouter(tags=["Label Studio"], responses=responses(401))


@router.get("/health")
def health(settings: SettingsDep) -> Health:
    """The backend is up; its model class and version."""
    return Health(status="UP", model_class="ls-cleanlab", model_version=settings.model_version)


@router.get("/versions")
def versions(settings: SettingsDep) -> Versions:
    """The model versions this backend serves (Label Studio sends no project here)."""
    return Versions(versions=[settings.model_version])
