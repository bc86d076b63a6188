"""Which Label Studio, with which key, the backend talks to about a project.

``LABEL_STUDIO_URL`` and ``LABEL_STUDIO_API_KEY`` win when set. Otherwise the backend uses what
Label Studio sent on ``/setup`` for the project (``hostname`` and ``access_token``), which
:class:`CredentialStore` keeps in the workspace (``projects/<id>/credentials.json``, mode 0600
from birth), so the webhook refreshes of a project connected that way still work after a restart
of the backend. The token is never logged, never put in a job row or a response, and hidden from
``repr``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from pydantic import SecretStr

from ls_cleanlab.pipeline.workspace import Workspace
from ls_cleanlab.server.errors import StudioNotConfiguredError
from ls_cleanlab.server.settings import Settings

__all__ = ["CredentialStore", "Credentials", "StudioAccess"]

logger = logging.getLogger("ls_cleanlab")


@dataclass(frozen=True)
class Credentials:
    """What ``/setup`` brought for a project: Label Studio's URL and the key it sent."""

    hostname: str | None
    access_token: SecretStr | None = None

    @property
    def empty(self) -> bool:
        return not self.hostname and not self.access_token


@dataclass(frozen=True)
class StudioAccess:
    """The URL and key to use for a project, and whether the key came from ``/setup``."""

    url: str
    key: SecretStr
    from_setup: bool


class CredentialStore:
    """Per-project :class:`Credentials`, written through to the workspace and read back lazily
    (the first time a project needs them after a restart)."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._known: dict[int, Credentials] = {}
        self._lock = threading.Lock()

    def save(self, project: int, credentials: Credentials) -> None:
        """Keep ``credentials`` for ``project`` (no write when they did not change; empty ones
        remove the file)."""
        if self.load(project) == credentials:
            return
        path = self.workspace.credentials(project)
        with self._lock:
            if credentials.empty:
                path.unlink(missing_ok=True)
                self._known.pop(project, None)
                return
            token = credentials.access_token
            plain = token.get_secret_value() if token is not None else None
            value = {"hostname": credentials.hostname, "access_token": plain}
            self.workspace.write_json(path, value, private=True)
            self._known[project] = credentials
        logger.info("kept the Label Studio credentials /setup sent for project %d", project)

    def load(self, project: int) -> Credentials | None:
        """The project's credentials, or None when ``/setup`` never brought any."""
        with self._lock:
            known = self._known.get(project)
        if known is not None:
            return known
        path = self.workspace.credentials(project)
        if not path.is_file():
            return None
        value = self.workspace.read_json(path)
        if not isinstance(value, dict) or not all(
            isinstance(value.get(k), (str, type(None))) for k in ("hostname", "access_token")
        ):
            logger.warning("ignoring %s: not a credentials file this backend wrote", path)
            return None
        token = value.get("access_token")
        found = Credentials(value.get("hostname"), SecretStr(token) if token else None)
        with self._lock:
            self._known[project] = found
        return found

    def access(self, project: int, settings: Settings) -> StudioAccess:
        """The Label Studio URL and key for ``project``: the environment's, else ``/setup``'s.

        Raises
        ------
        StudioNotConfiguredError
            When neither gives both a URL and a key.
        """
        given = self.load(project) or Credentials(None, None)
        url = settings.label_studio_url or given.hostname
        env_key = settings.label_studio_api_key
        key = env_key if env_key is not None else given.access_token
        if not url or key is None or not key.get_secret_value():
            raise StudioNotConfiguredError(
                f"no Label Studio to talk to for project {project}: set LABEL_STUDIO_URL and "
                "LABEL_STUDIO_API_KEY (or connect the backend in Label Studio so /setup brings "
                "them)."
            )
        return StudioAccess(url, key, from_setup=env_key is None)
