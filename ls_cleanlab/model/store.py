"""Trained models per Label Studio project and model version, as files in a directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ls_cleanlab.model import persist as _persist
from ls_cleanlab.model.persist import ModelFileError
from ls_cleanlab.model.trained import TrainedModel
from ls_cleanlab.validation import check_int

__all__ = ["ModelStore"]


class ModelStore:
    """Trained models per Label Studio project and model version, as files under ``root``:
    ``root/project-<id>/<model_version>.joblib``, each written atomically."""

    SUFFIX = ".joblib"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _dir(self, project: Any) -> Path:
        return self.root / f"project-{check_int(project, 'project', low=0)}"

    def path(self, project: int, model_version: str) -> Path:
        """Where ``model_version`` of ``project`` is (or would be) stored."""
        return self._dir(project) / (_persist.check_version_name(model_version) + self.SUFFIX)

    def save(self, project: int, model_version: str, trained: TrainedModel) -> Path:
        """Store ``trained`` as ``model_version`` of ``project``; return the file's path."""
        path = self.path(project, model_version)
        trained.save(path)
        return path

    def load(self, project: int, model_version: str) -> TrainedModel:
        """The model stored as ``model_version`` of ``project``; the error lists what exists."""
        path = self.path(project, model_version)
        if not path.is_file():
            have = self.versions(project)
            raise ModelFileError(
                f"project {project} has no model version {model_version!r}; stored versions: "
                f"{', '.join(have) if have else 'none'}."
            )
        return TrainedModel.load(path)

    def versions(self, project: int) -> list[str]:
        """Model versions stored for ``project``, sorted by name."""
        folder = self._dir(project)
        if not folder.is_dir():
            return []
        return sorted(p.name[: -len(self.SUFFIX)] for p in folder.glob("*" + self.SUFFIX)
                      if not p.name.startswith("."))  # fmt: skip
