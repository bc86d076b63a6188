"""The engine's address as users write it (``--dask``, ``LS_CLEANLAB_DASK_SCHEDULER``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from ls_cleanlab.errors import InvalidOptionError

__all__ = ["ADDRESS_FORMS", "EngineAddress", "parse_address"]

_SCHEMES = ("tcp://", "tls://", "inproc://", "ucx://", "ws://", "wss://")
#: The forms :func:`parse_address` accepts, as a fix line says them.
ADDRESS_FORMS = (
    "'local', 'local:N' (N workers, 1 to 512) or a scheduler address such as tcp://host:8786"
)


@dataclass(frozen=True)
class EngineAddress:
    """Where to run: ``kind="local"`` starts a ``LocalCluster`` of ``workers`` processes on this
    machine; ``kind="scheduler"`` connects to the Dask scheduler at ``address``."""

    kind: Literal["local", "scheduler"]
    workers: int = 0
    address: str = ""

    def describe(self) -> str:
        if self.kind == "local":
            return f"Dask LocalCluster of {self.workers} worker{'s' * (self.workers != 1)}"
        return f"Dask scheduler {self.address}"


def parse_address(value: str) -> EngineAddress:
    """``local`` (one worker per CPU), ``local:N`` (N workers), or a scheduler address
    (``tcp://host:8786``, ``tls://...``, or ``host:port``, read as ``tcp://``).

    Raises
    ------
    InvalidOptionError
        Naming the value and the forms accepted.
    """
    text = value.strip() if isinstance(value, str) else ""
    forms = f"use {ADDRESS_FORMS}"
    if not text:
        raise InvalidOptionError(f"the Dask address is empty; {forms}.")
    if text == "local" or text.startswith("local:"):
        count = text.partition(":")[2]
        if not count:
            return EngineAddress("local", workers=max(1, os.cpu_count() or 1))
        if not count.isdigit() or not 1 <= int(count) <= 512:
            raise InvalidOptionError(
                f"the Dask address {text!r} needs a number of workers in [1, 512] after 'local:'."
            )
        return EngineAddress("local", workers=int(count))
    if text.startswith(_SCHEMES):
        return EngineAddress("scheduler", address=text)
    host, _, port = text.rpartition(":")
    if host and port.isdigit() and "/" not in host:
        return EngineAddress("scheduler", address=f"tcp://{text}")
    raise InvalidOptionError(f"{text!r} is not a Dask address; {forms}.")
