"""Read a PyTorch state dict (``.pth``) into numpy arrays, without torch and without running code.

``torch.save`` writes pickles, and unpickling runs whatever callables the file names. This reader
allows only what a state dict of plain tensors needs and refuses everything else:

* ``collections.OrderedDict`` (the dict itself, and the empty backward-hook dicts);
* ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)``, answered with a
  placeholder that is filled once the raw storages have been read;
* the storage classes (``torch.FloatStorage`` ...), mapped to numpy dtypes.

Only the legacy (pre-zip, torch < 1.6) layout is read: a magic-number pickle, the protocol
version, a system-info dict, the object pickle whose tensors name storages by key, the list of
those keys, then each storage as an int64 element count followed by its little-endian bytes.
"""

from __future__ import annotations

import io
import pickle
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ls_cleanlab.errors import WeightsError

__all__ = ["read_state_dict"]

_MAGIC = 0x1950A86A20F9469CFC6C
_PROTOCOL = 1001
_DTYPES = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


@dataclass(frozen=True)
class _Storage:
    key: str
    dtype: np.dtype
    numel: int


@dataclass(frozen=True)
class _TensorRef:
    """A tensor named in the object pickle, before its storage's bytes are read."""

    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor(
    storage: _Storage, offset: int, size: tuple[int, ...], stride: tuple[int, ...], *_: Any
) -> _TensorRef:
    return _TensorRef(storage, int(offset), tuple(size), tuple(stride))


class _StateDictUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the names a state dict of tensors uses.

    ``storages`` collects the storages the pickle names, by key.
    """

    def __init__(self, file: io.BufferedIOBase, source: Path) -> None:
        super().__init__(file)
        self._source = source
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _DTYPES:
            return _DTYPES[name]
        raise WeightsError(
            f"{self._source} is not a plain state dict: it names {module}.{name}, which this "
            "reader refuses to load. Use the weights file the package ships (reinstall it)."
        )

    def persistent_load(self, pid: Any) -> _Storage:
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"):
            raise WeightsError(f"{self._source}: unexpected persistent id {pid!r:.80}.")
        _, dtype, key, _location, numel = pid[:5]
        if not isinstance(dtype, np.dtype) or not isinstance(numel, int):
            raise WeightsError(f"{self._source}: storage {key!r} has no known element type.")
        if len(pid) == 6 and pid[5] is not None:
            raise WeightsError(f"{self._source}: storage views (torch < 0.4 files) are not read.")
        storage = self.storages.setdefault(str(key), _Storage(str(key), dtype, numel))
        return storage


_PICKLE_ERRORS = (
    pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError, IndexError,
    AttributeError, OverflowError,
)  # fmt: skip


def _load(unpickler: pickle.Unpickler, source: Path) -> Any:
    try:
        return unpickler.load()
    except WeightsError:
        raise
    except _PICKLE_ERRORS as error:
        raise WeightsError(f"{source} is not a readable PyTorch state dict: {error!r}") from None


def _materialize(ref: _TensorRef, data: bytes, source: Path) -> np.ndarray:
    flat = np.frombuffer(data, dtype=ref.storage.dtype)
    itemsize = ref.storage.dtype.itemsize
    if ref.size and any(s < 0 for s in ref.stride):
        raise WeightsError(f"{source}: negative strides in a tensor.")
    extent = ref.offset + sum((n - 1) * s for n, s in zip(ref.size, ref.stride, strict=True)) + 1
    if any(n == 0 for n in ref.size):
        return np.zeros(ref.size, dtype=ref.storage.dtype)
    if extent > flat.size:
        raise WeightsError(f"{source}: a tensor reaches past the end of its storage.")
    view = np.lib.stride_tricks.as_strided(
        flat[ref.offset :],
        shape=ref.size,
        strides=tuple(s * itemsize for s in ref.stride),
        writeable=False,
    )
    return np.array(view, copy=True)


def read_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """The tensors of a legacy-format PyTorch state dict, as numpy arrays.

    Parameters
    ----------
    path : str or Path
        A file written by ``torch.save(model.state_dict(), path)`` with torch < 1.6 (or
        ``_use_new_zipfile_serialization=False``).

    Returns
    -------
    dict of str to np.ndarray
        Parameter and buffer names to copies of their values, in the file's order.

    Raises
    ------
    WeightsError
        The file is not such a state dict, names anything but tensors, or is truncated.
    """
    source = Path(path)
    with source.open("rb") as file:
        # A fresh unpickler for each of the five pickles, as torch reads them.
        if _load(_StateDictUnpickler(file, source), source) != _MAGIC:
            raise WeightsError(f"{source} is not a legacy PyTorch file (bad magic number).")
        if _load(_StateDictUnpickler(file, source), source) != _PROTOCOL:
            raise WeightsError(f"{source} uses an unknown PyTorch file protocol.")
        _load(_StateDictUnpickler(file, source), source)  # system info: endianness, type sizes
        objects = _StateDictUnpickler(file, source)
        state = _load(objects, source)
        keys = _load(_StateDictUnpickler(file, source), source)
        if not isinstance(state, dict) or not isinstance(keys, list):
            raise WeightsError(f"{source} does not hold a state dict.")
        storages = _storage_bytes(file, objects.storages, [str(k) for k in keys], source)
    return {
        str(name): _materialize(ref, storages[ref.storage.key], source)
        for name, ref in state.items()
        if isinstance(ref, _TensorRef)
    }


def _storage_bytes(
    file: io.BufferedIOBase, storages: dict[str, _Storage], keys: list[str], source: Path
) -> dict[str, bytes]:
    """Read every storage written after the object pickle, in the order of ``keys``."""
    unknown = set(keys) - set(storages)
    missing = set(storages) - set(keys)
    if unknown or missing:
        raise WeightsError(
            f"{source}: the storages written ({len(keys)}) do not match those the tensors name "
            f"({len(storages)}); the file is damaged, reinstall it."
        )
    data: dict[str, bytes] = {}
    for key in keys:
        storage = storages[key]
        header = file.read(8)
        count = int.from_bytes(header, "little", signed=True) if len(header) == 8 else -1
        length = storage.numel * storage.dtype.itemsize
        data[key] = file.read(length) if count == storage.numel else b""
        if len(data[key]) != length:
            raise WeightsError(f"{source} is truncated (storage {key!r} is short); reinstall it.")
    return data
