"""The ML backend's settings: one object, read from the environment (names Label Studio users
know, plus ``LS_CLEANLAB_*``), validated once, passed to :func:`ls_cleanlab.server.app.create_app`.

Nothing here is read at import time: ``Settings()`` reads the environment when it is called.
Every key and password is a ``SecretStr`` (:data:`SECRETS`), so it never appears in a ``repr``
or a log line; :func:`load_settings` reports invalid settings by their environment variable,
without their values (pydantic's own message shows the input), with a fix for each.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from ls_cleanlab.engine import ADDRESS_FORMS, parse_address
from ls_cleanlab.errors import InvalidOptionError
from ls_cleanlab.media.netpolicy import Allowlist
from ls_cleanlab.pipeline.options import MODEL_VERSION_RULE, is_model_version
from ls_cleanlab.pipeline.workspace import Workspace, write_atomic

__all__ = ["SECRETS", "Settings", "SettingsError", "load_settings"]

#: The settings that are keys or passwords, by environment variable: ``SecretStr``, never shown.
SECRETS = ("LABEL_STUDIO_API_KEY", "BASIC_AUTH_PASS", "LS_CLEANLAB_WEBHOOK_SECRET")
#: What each setting expects, for the ``fix:`` of an invalid one.
EXPECTED = {
    "LABEL_STUDIO_URL": "Label Studio's address as the backend reaches it, e.g. "
    "http://label-studio:8080",
    "LS_CLEANLAB_BACKEND_URL": "the backend's address as Label Studio reaches it, e.g. "
    "http://ls-cleanlab:9090",
    "LOG_LEVEL": "one of DEBUG, INFO, WARNING, ERROR",
    "LS_CLEANLAB_MODEL_VERSION": MODEL_VERSION_RULE,
    "LS_CLEANLAB_THRESHOLD": "a number between 0 and 1, e.g. 0.5",
    "LS_CLEANLAB_N_FOLDS": "a whole number from 2 to 20",
    "LS_CLEANLAB_DEBOUNCE": "seconds from 0 to 600",
    "LS_CLEANLAB_MAX_BODY_BYTES": "a whole number of bytes, at least 1024",
    "LS_CLEANLAB_MAX_PREDICT_TASKS": "a whole number, at least 1",
    "LS_CLEANLAB_REGISTER_WEBHOOKS": "true or false",
    "LS_CLEANLAB_DATA_DIR": "a directory the backend may write",
    "LS_CLEANLAB_REVIEWERS": "reviewers' emails (or user ids), comma-separated",
    "LS_CLEANLAB_DASK_SCHEDULER": ADDRESS_FORMS,
    "LS_CLEANLAB_ALLOWED_HOSTS": "host names, '*.domain' wildcards, IP addresses or CIDR "
    "networks, comma-separated, with no scheme, port or path, e.g. images.example.com",
    "BASIC_AUTH": "set both BASIC_AUTH_USER and BASIC_AUTH_PASS (at least 8 characters), or "
    "neither",
}


class SettingsError(InvalidOptionError):
    """A setting of the backend is invalid; the message names each one and why, never a value;
    ``fix`` says what each expects."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


def _env(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


class Settings(BaseSettings):
    """Settings of ``ls-cleanlab serve`` (see ``backend/.env.example``)."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    label_studio_url: str | None = Field(default=None, validation_alias=_env("LABEL_STUDIO_URL"))
    label_studio_api_key: SecretStr | None = Field(
        default=None, validation_alias=_env("LABEL_STUDIO_API_KEY")
    )
    basic_auth_user: str | None = Field(default=None, validation_alias=_env("BASIC_AUTH_USER"))
    basic_auth_pass: SecretStr | None = Field(
        default=None, validation_alias=_env("BASIC_AUTH_PASS")
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", validation_alias=_env("LOG_LEVEL")
    )
    data_dir: Path = Field(
        default=Path("./ls-cleanlab-data"), validation_alias=_env("LS_CLEANLAB_DATA_DIR")
    )
    model_version: str = Field(
        default="ls-cleanlab", validation_alias=_env("LS_CLEANLAB_MODEL_VERSION")
    )
    threshold: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        allow_inf_nan=False,
        validation_alias=_env("LS_CLEANLAB_THRESHOLD"),
    )
    n_folds: int = Field(default=5, ge=2, le=20, validation_alias=_env("LS_CLEANLAB_N_FOLDS"))
    allowed_hosts: str = Field(default="", validation_alias=_env("LS_CLEANLAB_ALLOWED_HOSTS"))
    reviewers: str = Field(default="", validation_alias=_env("LS_CLEANLAB_REVIEWERS"))
    local_files_root: str | None = Field(
        default=None, validation_alias=_env("LS_CLEANLAB_LOCAL_FILES_ROOT")
    )
    backend_url: str | None = Field(default=None, validation_alias=_env("LS_CLEANLAB_BACKEND_URL"))
    webhook_secret: SecretStr | None = Field(
        default=None, validation_alias=_env("LS_CLEANLAB_WEBHOOK_SECRET")
    )
    debounce_seconds: float = Field(
        default=2.0,
        ge=0,
        le=600,
        allow_inf_nan=False,
        validation_alias=_env("LS_CLEANLAB_DEBOUNCE"),
    )
    max_body_bytes: int = Field(
        default=32 * 2**20, ge=1024, validation_alias=_env("LS_CLEANLAB_MAX_BODY_BYTES")
    )
    max_predict_tasks: int = Field(
        default=10_000, ge=1, validation_alias=_env("LS_CLEANLAB_MAX_PREDICT_TASKS")
    )
    register_webhooks: bool = Field(
        default=True, validation_alias=_env("LS_CLEANLAB_REGISTER_WEBHOOKS")
    )
    dask_scheduler: str | None = Field(
        default=None, validation_alias=_env("LS_CLEANLAB_DASK_SCHEDULER")
    )

    @field_validator("label_studio_url", "backend_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):  # the value may hold a password
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("model_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not is_model_version(value):  # the CLI's --model-version and AuditOptions' rule
            raise ValueError(f"must be {MODEL_VERSION_RULE}")
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: str) -> str:
        """Refused at startup rather than by every job's media fetcher; by position, as an entry
        may hold a password."""
        entries = [h for h in value.split(",") if h.strip()]
        for at, entry in enumerate(entries, 1):
            try:
                Allowlist.parse([entry])
            except InvalidOptionError:
                raise ValueError(
                    f"entry {at} of {len(entries)} is not a host name, '*.domain' wildcard, IP "
                    "address or CIDR network"
                ) from None
        return value

    @field_validator("dask_scheduler")
    @classmethod
    def _dask(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parse_address(value)  # InvalidOptionError (a ValueError) names the forms accepted
        return value.strip()

    @model_validator(mode="after")
    def _auth_pair(self) -> Settings:
        if bool(self.basic_auth_user) != bool(self.basic_auth_pass):
            raise ValueError("set both BASIC_AUTH_USER and BASIC_AUTH_PASS, or neither.")
        if self.basic_auth_pass is not None and len(self.basic_auth_pass.get_secret_value()) < 8:
            raise ValueError("BASIC_AUTH_PASS must have at least 8 characters.")
        return self

    @property
    def hosts(self) -> tuple[str, ...]:
        """The allowed media hosts as a tuple."""
        return tuple(h.strip() for h in self.allowed_hosts.split(",") if h.strip())

    @property
    def reviewer_list(self) -> tuple[int | str, ...]:
        """The reviewers: emails, or user ids (digits)."""
        names = (n.strip() for n in self.reviewers.split(","))
        return tuple(int(n) if n.isdigit() else n for n in names if n)

    def secret(self) -> str:
        """The webhook secret: from the environment, else one kept in the data dir (made once)."""
        if self.webhook_secret is not None:
            return self.webhook_secret.get_secret_value()
        path = Workspace(self.data_dir).webhook_secret
        if path.is_file():
            return path.read_text().strip()
        made = secrets.token_urlsafe(32)
        write_atomic(path, made.encode(), private=True)
        return made


def load_settings(**values: Any) -> Settings:
    """``Settings(**values)`` (the rest from the environment).

    Raises
    ------
    SettingsError
        Naming each invalid setting by its environment variable, without its value.
    """
    try:
        return Settings(**values)
    except ValidationError as error:
        problems, fixes = [], {}
        for item in error.errors(include_input=False, include_url=False):
            name = str(item["loc"][0]) if item.get("loc") else ""
            field = Settings.model_fields.get(name)
            alias = field.validation_alias if field is not None else None
            shown = str(alias.choices[0]) if isinstance(alias, AliasChoices) else name
            message = str(item["msg"]).removeprefix("Value error, ")
            problems.append(f"{shown}: {message}" if shown else message)
            if (expected := EXPECTED.get(shown or "BASIC_AUTH")) is not None:
                fixes[shown] = f"{shown}: {expected}" if shown else expected
        fix = "; ".join([*fixes.values(), "every setting is described in backend/.env.example"])
        message = "invalid settings: " + "; ".join(problems)
        raise SettingsError(_scrubbed(message, values), _scrubbed(fix, values)) from None


def _scrubbed(text: str, values: dict[str, Any]) -> str:
    """``text`` without the value of any secret (and the basic auth user), from the
    environment or ``values``: a last guard, since no message above is built from a value."""
    secret_fields = ("label_studio_api_key", "basic_auth_pass", "webhook_secret", "basic_auth_user")
    found = [os.environ.get(name) for name in (*SECRETS, "BASIC_AUTH_USER")]
    found += [values.get(name) for name in secret_fields]
    for value in found:
        plain = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(plain, str) and len(plain) >= 3:
            text = text.replace(plain, "***")
    return text
