"""Image features of tasks: media fetched safely, embedded in batches, cached by content hash.

Media come through a :class:`~ls_cleanlab.media.MediaFetcher` (Label Studio host and allowlist
only, size and pixel limits), are described by an embedder (the pretrained EfficientNet-Lite0
when installed, else the built-in colour/gradient descriptors; see :mod:`.embedders`), cached on
disk by content hash (:class:`~ls_cleanlab.features.cache.FeatureCache`), then standardized. A
task whose image fails is skipped with its reason; the run goes on.

Each batch of 256 media not in the cache is one call of :func:`describe_media` (download, hash,
decode, embed), run here or as a task of an executor (a Dask worker): it takes the fetcher, which
pickles as its settings, and returns vectors, never the media. References are handled in blocks
(cache lookup, then their batches), so neither the media nor the vectors of a whole project are
ever held at once; with ``store_dir`` the features themselves go to disk.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ls_cleanlab.errors import InvalidOptionError, MediaError
from ls_cleanlab.features.cache import FeatureCache
from ls_cleanlab.features.embedders import ImageEmbedder, content_digest, find_embedder
from ls_cleanlab.features.feature_set import FeatureSet, Scaling, scaled
from ls_cleanlab.features.rows import RowSink
from ls_cleanlab.media import MediaFetcher, decode_image
from ls_cleanlab.validation import check_int

__all__ = ["DescribedMedia", "describe_media", "image_features"]

logger = logging.getLogger("ls_cleanlab")

Progress = Callable[[int, int], None]

_BATCH = 256  # media per describe_media call
_BLOCK = 32 * _BATCH  # references per cache lookup
_IN_FLIGHT = 16  # describe_media calls submitted to an executor at once


@dataclass(frozen=True)
class DescribedMedia:
    """What :func:`describe_media` made of a batch: each fetched reference's content hash, a
    vector per distinct content that could be embedded, why the others failed, and the
    ``MediaError.kind`` of each failed fetch (the fetcher that saw it may be a worker's copy)."""

    digests: dict[str, str] = field(default_factory=dict)
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    computed: int = 0
    kinds: dict[str, str] = field(default_factory=dict)


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
    store_dir: str | Path | None = None,
) -> FeatureSet:
    """Image features of tasks: dense float32, standardized over the tasks that succeeded.

    Parameters
    ----------
    refs : sequence, length n
        Each task's image reference as Label Studio stores it in task data (``/data/upload/...``,
        ``/data/local-files/?d=...``, an ``http(s)`` URL or a ``data:`` URI).
    fetcher : MediaFetcher
        Fetches the media under its host allowlist and limits.
    cache : FeatureCache, optional
        A reference seen before is neither downloaded nor described again (unless ``refresh``);
        identical files share one vector.
    embedder : ImageEmbedder or str
        An embedder, or a name for :func:`find_embedder` (``"auto"``: EfficientNet-Lite0 with
        the ``embed`` extra, else ``"descriptors"``; ``"torchvision"``, ``"open_clip"``).
    refresh : bool
        Download every reference again (a vector is reused when the bytes are unchanged).
    workers : int
    max_pixels : int, optional
        Larger images are refused as decompression bombs; default ``fetcher.max_pixels``.
    encoder : Scaling, optional
        Standardize with this (a trained model's ``encoder``) instead of a scaling fitted here.
    executor : concurrent.futures.Executor, optional
        Where the batches run (:func:`describe_media`); default in this process. Workers need
        the media's host (or the local files root) and the embedder's weights.
    progress : callable(done, total), optional
        Called after each batch with the number of tasks done.
    store_dir : str or Path, optional
        Keep the features on disk there (same values). ``workers``: threads per batch.
    """
    if isinstance(embedder, str):
        embedder = find_embedder(embedder, cache_dir=cache.embedders_dir if cache else None)
    workers = check_int(workers, "workers", low=1)
    pixels = fetcher.max_pixels if max_pixels is None else max_pixels
    n = len(refs)
    positions, skipped = _positions(refs)
    sink = RowSink(n, store_dir, name=f"images-{embedder.name}")
    pending = _from_cache(None if refresh else cache, positions, sink, embedder.name)
    counts = {"cached": len(positions) - len(pending), "downloaded": 0, "computed": 0}
    done = n - sum(len(positions[ref]) for ref in pending)
    if progress is not None:
        progress(done, n)
    batches = [pending[i : i + _BATCH] for i in range(0, len(pending), _BATCH)]
    # in this process the batch can ask the cache for contents it knows under other references;
    # a worker cannot (the cache is this machine's SQLite file), so it embeds them again
    known = cache if executor is None else None
    jobs = ((fetcher, embedder, batch, pixels, workers, known) for batch in batches)
    for batch, described in zip(batches, _in_order(executor, describe_media, jobs), strict=True):
        counts["downloaded"] += len(described.digests)
        counts["computed"] += described.computed
        _place(described, batch, positions, sink, skipped)
        for ref, kind in described.kinds.items():  # a worker's copy saw it: remember here too
            fetcher.remember_failure(ref, kind)
        if cache is not None:
            kept = {r: d for r, d in described.digests.items() if d in described.vectors}
            cache.store(kept, described.vectors, embedder.name)
        done += sum(len(positions[ref]) for ref in batch)
        if progress is not None:
            progress(done, n)
    matrix, ok = sink.finish()
    features, fitted = scaled(matrix, ok, encoder)
    return FeatureSet(
        features, ok, dict(sorted(skipped.items())), embedder.name,
        downloaded=counts["downloaded"], computed=counts["computed"], cached=counts["cached"],
        encoder=fitted,
    )  # fmt: skip


def _from_cache(
    cache: FeatureCache | None, positions: dict[str, list[int]], sink: RowSink, embedder: str
) -> list[str]:
    """Put the vectors the cache holds into ``sink``, a block of references at a time; the
    references still to describe."""
    pending: list[str] = []
    unique = list(positions)
    for start in range(0, len(unique), _BLOCK):
        block = unique[start : start + _BLOCK]
        cached = _cached(cache, block, embedder)
        for ref, vector in cached.items():
            sink.put(positions[ref], vector)
        pending.extend(ref for ref in block if ref not in cached)
    return pending


def _place(
    described: DescribedMedia,
    batch: list[str],
    positions: dict[str, list[int]],
    sink: RowSink,
    skipped: dict[int, str],
) -> None:
    """Each reference of ``batch`` into ``sink``, or its rows into ``skipped`` with why."""
    for ref in batch:
        digest = described.digests.get(ref)
        if digest is not None and digest in described.vectors:
            sink.put(positions[ref], described.vectors[digest])
        else:
            for row in positions[ref]:
                skipped[row] = described.failures.get(ref, f"{_short(ref)}: not described")


def _in_order(
    executor: Executor | None, fn: Callable[..., Any], jobs: Iterable[tuple[Any, ...]]
) -> Iterator[Any]:
    """``fn(*job)`` for each job, in order: here, or on ``executor`` with at most
    :data:`_IN_FLIGHT` calls submitted at once."""
    if executor is None:
        for job in jobs:
            yield fn(*job)
        return
    window: list[Future[Any]] = []
    for job in jobs:
        window.append(executor.submit(fn, *job))
        if len(window) >= _IN_FLIGHT:
            yield window.pop(0).result()
    while window:
        yield window.pop(0).result()


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


def describe_media(
    fetcher: MediaFetcher,
    embedder: ImageEmbedder,
    refs: Sequence[str],
    max_pixels: int,
    threads: int = 8,
    cache: FeatureCache | None = None,
) -> DescribedMedia:
    """Fetch, hash, decode and embed one batch of media references (one executor task).

    Downloads and decoding run in ``threads`` threads; identical files are embedded once, and
    contents the ``cache`` already holds a vector for are not embedded again. A reference that
    cannot be fetched or decoded gets its reason in ``failures``.
    """
    failures: dict[str, str] = {}
    digests: dict[str, str] = {}
    media: dict[str, bytes] = {}  # digest -> bytes
    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(refs)))) as pool:
        fetched = list(pool.map(_fetch, [fetcher] * len(refs), refs))
        for ref, got in zip(refs, fetched, strict=True):
            if isinstance(got, str):
                failures[ref] = got
            else:
                digests[ref] = content_digest(got)
                media[digests[ref]] = got
        del fetched
        vectors = cache.vectors(media, embedder.name) if cache is not None else {}
        todo = [d for d in media if d not in vectors]
        prepared = dict(zip(todo, pool.map(_prepare, [embedder] * len(todo),
                                           [media[d] for d in todo], [max_pixels] * len(todo)),
                            strict=True))  # fmt: skip
    media.clear()
    good = [d for d in todo if not isinstance(prepared[d], str)]
    if good:
        batch = np.asarray(embedder.embed(np.stack([prepared[d] for d in good])), np.float32)
        if batch.ndim != 2 or len(batch) != len(good):
            raise InvalidOptionError(
                f"embedder {embedder.name!r} returned shape {batch.shape} for {len(good)} images; "
                "it must return one vector per image."
            )
        vectors.update(zip(good, batch, strict=True))
    for ref, digest in digests.items():
        if digest not in vectors:
            failures[ref] = f"{_short(ref)}: {prepared[digest]}"
    kinds = {ref: kind for ref in failures if (kind := fetcher.failure_kind(ref)) is not None}
    return DescribedMedia(digests, vectors, failures, computed=len(good), kinds=kinds)


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
