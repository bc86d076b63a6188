"""Per-project options set on Label Studio's side of the connection.

A Label Studio admin connecting the backend (Settings -> Model) can fill "Any extra params to
pass during model connection" (``extra_params`` of ``/api/ml/``); Label Studio sends them on every
``/setup``. The backend reads one key there:

* ``tag``: the name of the control tag to audit when the labeling config has several (for
  example ``{"tag": "sentiment"}`` in a config with two ``Choices`` tags, or a
  ``RectangleLabels`` tag beside a ``Choices`` one). Without it the backend takes the one
  :func:`~ls_cleanlab.studio.parse_label_config` takes by default.

The value arrives as a JSON object, or as the text of one when typed into Label Studio's form.
Anything else (text that is not a JSON object, an unknown key, a tag the config lacks) refuses
the ``/setup`` with a 422 that says what is wrong, so the mistake shows where it was made.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ls_cleanlab.errors import InvalidOptionError

__all__ = ["KNOWN_PARAMS", "ProjectParams", "read_extra_params"]

#: The keys ``extra_params`` may hold, with what each means.
KNOWN_PARAMS = {"tag": "the name of the control tag to audit, when the config has several"}
_EXAMPLE = '{"tag": "<control tag name>"}'


@dataclass(frozen=True)
class ProjectParams:
    """What ``extra_params`` set for one project (None: the default)."""

    tag: str | None = None


def read_extra_params(value: Any) -> ProjectParams:
    """The options in ``/setup``'s ``extra_params``; None, ``{}`` or blank text set none.

    Raises
    ------
    InvalidOptionError
        Not a JSON object, an unknown key, or a ``tag`` that is not a non-empty string.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return ProjectParams()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise InvalidOptionError(
                f"the ML backend's extra params are not JSON ({error.msg} at character "
                f"{error.pos}); write a JSON object such as {_EXAMPLE}."
            ) from None
    if not isinstance(value, dict):
        raise InvalidOptionError(
            f"the ML backend's extra params must be a JSON object such as {_EXAMPLE}, "
            f"got {type(value).__name__}."
        )
    unknown = sorted(str(key) for key in value if key not in KNOWN_PARAMS)
    if unknown:
        known = ", ".join(f"{key!r} ({meaning})" for key, meaning in KNOWN_PARAMS.items())
        raise InvalidOptionError(
            f"the ML backend's extra params hold unknown key(s) {', '.join(map(repr, unknown))}; "
            f"known: {known}."
        )
    tag = value.get("tag")
    if tag is None:
        return ProjectParams()
    if not isinstance(tag, str) or not tag.strip():
        raise InvalidOptionError(
            f"extra params 'tag' must be the name of a control tag of the labeling config, "
            f"got {tag!r}."
        )
    return ProjectParams(tag=tag.strip())
