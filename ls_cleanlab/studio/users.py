"""Label Studio's users as people: ``"First Last <email>"`` for an annotator's numeric id.

Annotations name their annotator by user id (``completed_by``); a project lead knows people.
:func:`read_user_names` reads ``/api/users/`` (the organisation's members: id, email, first and
last name) once per audit. When the token may not read users (or Label Studio is older and
answers otherwise) the ids stand, and that is logged once per Label Studio rather than at every
audit. :func:`annotator_name` is the one place an id becomes the text shown in the report, the
CLI's tables, CSVs and the backend's metrics labels.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from ls_cleanlab.errors import StudioError, StudioRequestError
from ls_cleanlab.studio.session import StudioSession

__all__ = ["annotator_name", "display_name", "read_user_names", "read_users"]

logger = logging.getLogger(__name__)

_warned: set[str] = set()
_warned_lock = threading.Lock()


def display_name(user: Mapping[str, Any]) -> str:
    """``"First Last <email>"``, or what exists of it (email, name, username, id)."""
    full = " ".join(
        str(user.get(part) or "").strip() for part in ("first_name", "last_name")
    ).strip()
    email = str(user.get("email") or "").strip()
    if full and email:
        return f"{full} <{email}>"
    return email or full or str(user.get("username") or "").strip() or str(user.get("id", ""))


def _say_once(url: str, why: str) -> None:
    with _warned_lock:
        if url in _warned:
            return
        _warned.add(url)
    logger.warning(
        "Annotators are shown by user id: the users of %s could not be read (%s).", url, why
    )


def read_users(session: StudioSession) -> list[dict[str, Any]]:
    """The users the token may list (``id``, ``email``, ``first_name``, ``last_name`` ...);
    raises :class:`~ls_cleanlab.errors.StudioError` when they cannot be read."""
    answer = session.json("GET", "/api/users/")
    if isinstance(answer, Mapping):  # a paginated answer
        answer = answer.get("results")
    if not isinstance(answer, list):
        raise StudioRequestError("/api/users/ did not answer with a list of users.")
    return [dict(user) for user in answer if isinstance(user, Mapping)]


def read_user_names(session: StudioSession) -> dict[int, str]:
    """User id -> :func:`display_name` for every user the token may list; ``{}`` (ids stand,
    said once per Label Studio in the log) when users cannot be read."""
    try:
        answer = read_users(session)
    except StudioError as exc:
        _say_once(session.url, str(exc).splitlines()[0])
        return {}
    names: dict[int, str] = {}
    for user in answer:
        if isinstance(user.get("id"), int):
            names[int(user["id"])] = display_name(user)
    return names


def annotator_name(annotator: Any, names: Mapping[int, str] | None) -> str:
    """The text that shows ``annotator`` (a user id, or any label): its name when known."""
    if hasattr(annotator, "item"):  # a numpy scalar
        annotator = annotator.item()
    if names and isinstance(annotator, int) and annotator in names:
        return names[annotator]
    return str(annotator)
