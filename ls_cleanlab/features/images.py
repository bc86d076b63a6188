"""Image features of tasks: media fetched safely, embedded in batches, cached by content hash.

Media come through a :class:`~ls_cleanlab.media.MediaFetcher` (Label Studio host and allowlist
only, size and pixel limits), are described by an embedder (the pretrained EfficientNet-Lite0
when installed, else the built-in colour/gradient descriptors; see :mod:`.embedders`), cached on
disk by content hash (:class:`~ls_cleanlab.features.cache.FeatureCache`), then standardized. A
task whose image fails is skipped with its reason; the run goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

import numpy as np

from ls_cleanlab.errors import InvalidOptionError, MediaError
from ls_cleanlab.features.cache import FeatureCache
from ls_cleanlab.features.embedders import (
    ImageEmbedder,
    content_digest,
    find_embedder,
)
from ls_cleanlab.features.feature_set import FeatureSet, Scaling, scaled
from ls_cleanlab.media import MediaFetcher, decode_image
from ls_cleanlab.validation import check_int

__all__ = ["image_features"]

logger = logging.getLogger("ls_cleanlab")

Progress = Callable[[int, int], None]

_BATCH = 256


def image_features(
    refs: Sequence[Any],
    fetcher: MediaFetcher,
    *,
    cache: FeatureCache | None = None,
    embedder: ImageEmbedder | str = "auto",
    refresh: bool = False,
    workers: int = 8,
    max_pixels: int | None = None,
    encoder: Scaling | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> FeatureSet:
    """Standardized image features of tasks.

    Parameters
    ----------
    refs : sequence, length n
        Each task's image reference as Label Studio stores it in task data (``/data/upload/...``,
        ``/data/local-files/?d=...``, an ``http(s)`` URL or a ``data:`` URI).
    fetcher : MediaFetcher
        Fetches the media under its host allowlist and limits.
    cache : FeatureCache, optional
        With a cache, a reference seen before is neither downloaded nor described again (unless
        ``refresh``), and identical files share one vector.
    embedder : ImageEmbedder or str
        An embedder, or a name for :func:`find_embedder` (``"auto"``: the pretrained
        EfficientNet-Lite0 when the ``embed`` extra is installed, else ``"descriptors"``;
        ``"efficientnet_lite0"``, ``"torchvision"``, ``"open_clip"``).
    refresh : bool
        Download every reference again (its vector is still reused when the bytes are unchanged).
    workers : int
        Download and decode threads (when no ``executor`` is given).
    max_pixels : int, optional
        Larger images are refused as decompression bombs; default ``fetcher.max_pixels``.
    encoder : Scaling, optional
        Standardize with this (e.g. a trained model's ``encoder``) instead of fitting a scaling
        on these tasks.
    executor : concurrent.futures.Executor, optional
        Where downloads and decoding run; default a thread pool of ``workers`` threads, shut
        down at the end (a given executor is left running).
    progress : callable(done, total), optional
        Called after each batch of 256 media with the number of tasks done.

    Returns
    -------
    FeatureSet
        Dense float32 features, standardized over the tasks that succeeded.
    """
    if isinstance(embedder, str):
        embedder = find_embedder(embedder, cache_dir=cache.embedders_dir if cache else None)
    workers = check_int(workers, "workers", low=1)
    pixels = fetcher.max_pixels if max_pixels is None else max_pixels
    n = len(refs)
    positions, skipped = _positions(refs)
    vectors = _cached(cache, list(positions), embedder.name) if not refresh else {}
    counts = {"cached": len(vectors), "downloaded": 0, "computed": 0}
    pending = [ref for ref in positions if ref not in vectors]
    done = len(skipped) + sum(len(positions[ref]) for ref in vectors)
    if progress is not None:
        progress(done, n)
    pool = executor if executor is not None else ThreadPoolExecutor(max_workers=workers)
    try:
        for start in range(0, len(pending), _BATCH):
            chunk = pending[start : start + _BATCH]
            failures = _describe_batch(
                chunk, fetcher, cache, embedder, pool, pixels, vectors, counts
            )
            for ref, reason in failures.items():
                for row in positions[ref]:
                    skipped[row] = reason
            done += sum(len(positions[ref]) for ref in chunk)
            if progress is not None:
                progress(done, n)
    finally:
        if executor is None:
            pool.shutdown()
    return _assemble(n, positions, vectors, skipped, embedder.name, counts, encoder)


def _positions(refs: Sequence[Any]) -> tuple[dict[str, list[int]], dict[int, str]]:
    """Rows of each distinct reference, and the rows without a usable one (with why)."""
    skipped: dict[int, str] = {}
    positions: dict[str, list[int]] = {}
    for row, ref in enumerate(refs):
        if not isinstance(ref, str) or not ref.strip():
            skipped[row] = f"no image reference in the task data (got {ref!r:.40})"
        else:
            positions.setdefault(ref, []).append(row)
    return positions, skipped


def _cached(cache: FeatureCache | None, refs: list[str], embedder: str) -> dict[str, np.ndarray]:
    """Vectors the cache already holds for ``refs`` (by their known content hash)."""
    if cache is None:
        return {}
    known = cache.digests(refs)
    by_digest = cache.vectors(known.values(), embedder)
    return {ref: by_digest[d] for ref, d in known.items() if d in by_digest}


def _describe_batch(
    refs: list[str],
    fetcher: MediaFetcher,
    cache: FeatureCache | None,
    embedder: ImageEmbedder,
    pool: Executor,
    max_pixels: int,
    vectors: dict[str, np.ndarray],
    counts: dict[str, int],
) -> dict[str, str]:
    """Fetch, hash, decode and embed one batch into ``vectors``; returns ref -> failure reason."""
    failures: dict[str, str] = {}
    media: dict[str, bytes] = {}  # digest -> bytes
    digests: dict[str, str] = {}  # ref -> digest
    for ref, fetched in zip(refs, pool.map(lambda r: _fetch(fetcher, r), refs), strict=True):
        if isinstance(fetched, str):
            failures[ref] = fetched
        else:
            digests[ref] = content_digest(fetched)
            media[digests[ref]] = fetched
    counts["downloaded"] += len(digests)
    known = cache.vectors(media, embedder.name) if cache is not None else {}
    todo = [d for d in media if d not in known]
    prepared = dict(
        zip(todo, pool.map(lambda d: _prepare(embedder, media[d], max_pixels), todo), strict=True)
    )
    good = [d for d in todo if not isinstance(prepared[d], str)]
    fresh: dict[str, np.ndarray] = {}
    if good:
        batch = np.asarray(embedder.embed(np.stack([prepared[d] for d in good])), np.float32)
        if batch.ndim != 2 or len(batch) != len(good):
            raise InvalidOptionError(
                f"embedder {embedder.name!r} returned shape {batch.shape} for {len(good)} images; "
                "it must return one vector per image."
            )
        fresh = dict(zip(good, batch, strict=True))
        counts["computed"] += len(good)
    for ref, digest in digests.items():
        if digest in known or digest in fresh:
            vectors[ref] = known[digest] if digest in known else fresh[digest]
        else:
            failures[ref] = f"{_short(ref)}: {prepared[digest]}"
    if cache is not None:
        cache.store({r: d for r, d in digests.items() if r in vectors}, fresh, embedder.name)
    return failures


def _fetch(fetcher: MediaFetcher, ref: str) -> bytes | str:
    try:
        return fetcher.fetch(ref)
    except MediaError as error:
        logger.info("skipping image %s: %s", _short(ref), error)
        return f"{_short(ref)}: {error}"


def _prepare(embedder: ImageEmbedder, data: bytes, max_pixels: int) -> np.ndarray | str:
    try:
        return embedder.prepare(decode_image(data, max_pixels=max_pixels))
    except MediaError as error:
        return str(error)


def _short(ref: str) -> str:
    return ref if len(ref) <= 80 else ref[:60] + "..." + ref[-12:]


def _assemble(
    n: int,
    positions: Mapping[str, list[int]],
    vectors: Mapping[str, np.ndarray],
    skipped: dict[int, str],
    source: str,
    counts: Mapping[str, int],
    encoder: Scaling | None,
) -> FeatureSet:
    sizes = {v.shape[0] for v in vectors.values()}
    if len(sizes) > 1:
        raise InvalidOptionError(
            f"the embedder {source!r} returned vectors of sizes {sorted(sizes)}"
        )
    width = sizes.pop() if sizes else 0
    matrix = np.zeros((n, width), dtype=np.float32)
    ok = np.zeros(n, dtype=bool)
    for ref, vector in vectors.items():
        matrix[positions[ref]] = vector
        ok[positions[ref]] = True
    features, fitted = scaled(matrix, ok, encoder)
    return FeatureSet(
        features,
        ok,
        dict(sorted(skipped.items())),
        source,
        downloaded=counts["downloaded"],
        computed=counts["computed"],
        cached=counts["cached"],
        encoder=fitted,
    )
