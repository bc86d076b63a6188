"""The data dir: where every piece of state an audit keeps between runs lives, in one place.

::

    <root>/
      features.sqlite              feature cache (reference -> content hash -> vector)
      embedders/                   files embedders build once (the EfficientNet-Lite0 graph)
      models/project-<id>/<v>.joblib   trained models (ModelStore)
      models/project-<id>/<v>.detector  box detectors (bounding-box projects)
      backend.sqlite               the ML backend's jobs and projects
      scratch/run-<id>/            one audit's arrays on disk while it runs (features, inputs)
      webhook-secret               the secret our webhooks carry (mode 0600)
      projects/<id>/
        tasks.json.gz              task snapshot for incremental fetches
        audit.npz                  task ids and out-of-sample probabilities of the last audit
        boxes.npz                  box projects: task ids and detector boxes of the last audit
        pushed.json                signature of each prediction pushed (partial refreshes)
        run.json                   the run whose predictions the tabs show (its model version)
        credentials.json           Label Studio URL and key from /setup (mode 0600)
        folds/<digest>.npy         finished cross-validation folds of an audit under way
                                   (FoldCheckpoints), removed when it finishes

Nothing else in the package spells out these paths. Files are replaced atomically (written to a
temporary name, then renamed), so a crash never leaves half a file behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ls_cleanlab.features import FeatureCache
from ls_cleanlab.model.persist import check_version_name
from ls_cleanlab.validation import check_int

__all__ = ["Workspace", "write_atomic"]


def write_atomic(path: Path, data: bytes, *, private: bool = False) -> None:
    """Replace ``path`` with ``data`` in one step; ``private`` files get mode 0600 from birth."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if not private:
            os.fchmod(handle, 0o644)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Workspace:
    """Paths of the data dir rooted at ``root`` (created on first write, never on read)."""

    root: Path

    def __init__(self, root: str | os.PathLike[str]) -> None:
        object.__setattr__(self, "root", Path(root))

    @property
    def features_db(self) -> Path:
        return self.root / "features.sqlite"

    @property
    def embedders_dir(self) -> Path:
        return self.root / "embedders"

    def feature_cache(self) -> FeatureCache:
        """The data dir's feature cache, with its embedders' folder (close it when done)."""
        return FeatureCache(self.features_db, embedders_dir=self.embedders_dir)

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    def box_detector(self, project: int, model_version: str) -> Path:
        """Where a box project's detector of ``model_version`` is kept."""
        project = check_int(project, "project", low=0)
        return (
            self.models_dir / f"project-{project}" / f"{check_version_name(model_version)}.detector"
        )

    @property
    def scratch(self) -> Path:
        return self.root / "scratch"

    @property
    def backend_db(self) -> Path:
        return self.root / "backend.sqlite"

    @property
    def webhook_secret(self) -> Path:
        return self.root / "webhook-secret"

    def project_dir(self, project: int) -> Path:
        return self.root / "projects" / str(check_int(project, "project", low=0))

    def snapshot(self, project: int) -> Path:
        return self.project_dir(project) / "tasks.json.gz"

    def audit_state(self, project: int) -> Path:
        return self.project_dir(project) / "audit.npz"

    def box_state(self, project: int) -> Path:
        return self.project_dir(project) / "boxes.npz"

    def report(self, project: int) -> Path:
        """The HTML report of the project's last full audit (served by the backend)."""
        return self.project_dir(project) / "report.html"

    def pushed(self, project: int) -> Path:
        return self.project_dir(project) / "pushed.json"

    def current_run(self, project: int) -> Path:
        return self.project_dir(project) / "run.json"

    def credentials(self, project: int) -> Path:
        return self.project_dir(project) / "credentials.json"

    def folds(self, project: int) -> Path:
        return self.project_dir(project) / "folds"

    # -- small JSON files -----------------------------------------------------------------------

    def read_json(self, path: Path) -> Any:
        """The JSON in ``path``, or None when it is missing or unreadable."""
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def write_json(self, path: Path, value: Any, *, private: bool = False) -> None:
        write_atomic(path, json.dumps(value).encode("utf-8"), private=private)
