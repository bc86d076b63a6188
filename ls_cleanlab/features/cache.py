"""An on-disk cache of media feature vectors, keyed by content hash, in one SQLite file.

Two tables:

* ``media``: media reference (URL, upload path, ``data:`` digest) -> SHA-256 of its bytes. A
  re-audit looks the reference up first, so unchanged media are neither downloaded nor described
  again. Label Studio uploads never change under one path; for other URLs pass ``refresh=True``
  to the feature functions to download again and compare hashes.
* ``vectors``: (content SHA-256, extractor name) -> float32 vector (of media bytes, or of a text's
  UTF-8 bytes for sentence embeddings). The extractor name carries a
  version, so a changed extractor never reads an old vector; identical files under different
  references share one vector.

SQLite in WAL mode copes with millions of rows and with a reader (the server) and a writer (an
audit job) at once.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

__all__ = ["FeatureCache"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS media (ref TEXT PRIMARY KEY, digest TEXT NOT NULL, seen REAL NOT NULL);
CREATE TABLE IF NOT EXISTS vectors (
    digest TEXT NOT NULL, extractor TEXT NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (digest, extractor)
);
"""
_CHUNK = 500  # SQLite variables per IN (...) query


class FeatureCache:
    """Feature vectors of media, cached by content hash.

    Parameters
    ----------
    path : str or Path
        The SQLite file; its folder is created. Use one file per data directory: vectors are
        shared by every project that shows the same media.
    embedders_dir : str or Path, optional
        Where embedders keep the files they build once (the EfficientNet-Lite0 ONNX graph,
        checked by its SHA-256 when read); the data dir's ``Workspace.embedders_dir``. Without
        it, such files are rebuilt in memory by each process.
    """

    def __init__(self, path: str | Path, *, embedders_dir: str | Path | None = None) -> None:
        self.path = Path(path)
        self.embedders_dir = Path(embedders_dir) if embedders_dir is not None else None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def __repr__(self) -> str:
        return f"FeatureCache({str(self.path)!r})"

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> FeatureCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def digests(self, refs: Sequence[str]) -> dict[str, str]:
        """Known content hashes of ``refs`` (references never seen are absent)."""
        found: dict[str, str] = {}
        with self._lock:
            for start in range(0, len(refs), _CHUNK):
                chunk = list(refs[start : start + _CHUNK])
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT ref, digest FROM media WHERE ref IN ({marks})", chunk
                )
                found.update(rows)
        return found

    def vectors(self, digests: Iterable[str], extractor: str) -> dict[str, np.ndarray]:
        """Cached vectors of ``extractor`` for the given content hashes."""
        wanted = sorted(set(digests))
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    "SELECT digest, vector FROM vectors "
                    f"WHERE extractor = ? AND digest IN ({marks})",
                    [extractor, *chunk],
                )
                for digest, blob in rows:
                    found[digest] = np.frombuffer(blob, dtype=np.float32)
        return found

    def store(
        self, refs: Mapping[str, str], vectors: Mapping[str, np.ndarray], extractor: str
    ) -> None:
        """Remember reference -> content hash and content hash -> vector, in one transaction."""
        now = time.time()
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO media (ref, digest, seen) VALUES (?, ?, ?)",
                [(ref, digest, now) for ref, digest in refs.items()],
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors (digest, extractor, vector) VALUES (?, ?, ?)",
                [
                    (digest, extractor, np.ascontiguousarray(v, dtype=np.float32).tobytes())
                    for digest, v in vectors.items()
                ],
            )

    def counts(self) -> tuple[int, int]:
        """(media references, vectors) stored."""
        with self._lock:
            media = self._db.execute("SELECT COUNT(*) FROM media").fetchone()[0]
            vectors = self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
        return int(media), int(vectors)
