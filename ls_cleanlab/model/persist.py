"""Versioned, atomic files for fitted models (joblib pickles) and safe names for them.

Loading a pickle runs code from the file: only load model files this package wrote into a
directory you control.
"""

from __future__ import annotations

import os
import pickle
import re
import tempfile
from pathlib import Path
from typing import Any

import joblib

from ls_cleanlab.errors import InvalidOptionError, LsCleanlabError

__all__ = ["FORMAT", "FORMAT_VERSION", "ModelFileError", "check_version_name", "dump", "load"]

#: Marks a file as a trained ls-cleanlab model.
FORMAT = "ls-cleanlab/trained-model"
#: Bumped whenever the stored fields change; files of another version are refused.
FORMAT_VERSION = 1

_VERSION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")


class ModelFileError(LsCleanlabError, ValueError):
    """A saved model file is missing, unreadable, not an ls-cleanlab model, or of another format
    version; the message says which and how to fix it (usually: retrain)."""


def check_version_name(model_version: Any) -> str:
    """Return ``model_version`` if it is safe as a file name, else raise saying what is allowed.

    Allowed: 1 to 128 characters from letters, digits, ``.``, ``_``, ``+`` and ``-``, starting
    with a letter or digit, and no ``..`` (so no path separators, no hidden files, no escape
    from the store directory).
    """
    if (
        not isinstance(model_version, str)
        or not _VERSION_NAME.fullmatch(model_version)
        or ".." in model_version
    ):
        raise InvalidOptionError(
            f"model_version={model_version!r} is not a safe file name; use 1-128 letters, "
            "digits, '.', '_', '+' or '-', starting with a letter or digit, without '..'."
        )
    return model_version


def dump(fields: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Write ``fields`` with the format header to ``path`` atomically: a temporary file in the
    same directory, then ``os.replace``, so readers never see a half-written model."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "version": FORMAT_VERSION, "fields": fields}
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            joblib.dump(payload, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a file written by :func:`dump` and return its fields, checking format and version."""
    source = Path(path)
    if not source.is_file():
        raise ModelFileError(f"no model file at {str(source)!r}.")
    try:
        payload = joblib.load(source)
    except (pickle.UnpicklingError, EOFError, ValueError, KeyError, AttributeError,
            ImportError, IndexError, TypeError) as exc:  # fmt: skip
        raise ModelFileError(
            f"{str(source)!r} is not a readable ls-cleanlab model file ({type(exc).__name__}: "
            f"{exc}); retrain and save it again."
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelFileError(f"{str(source)!r} is not an ls-cleanlab model file.")
    if payload.get("version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{str(source)!r} has model file format version {payload.get('version')!r}, but "
            f"this ls-cleanlab reads version {FORMAT_VERSION}; retrain the model."
        )
    fields = payload.get("fields")
    if not isinstance(fields, dict):
        raise ModelFileError(f"{str(source)!r} is damaged: it has no fields.")
    return fields
