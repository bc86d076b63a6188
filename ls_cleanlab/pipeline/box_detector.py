"""The detector a box audit fits inside the project, on the project's own images and boxes.

The project's images are fetched once (through the :class:`~ls_cleanlab.media.MediaFetcher`: Label
Studio host or allowlist, size and pixel limits) and kept compressed; each is decoded on demand,
scaled so its longer side is at most :data:`MAX_SIDE` pixels. The detector
(:mod:`ls_cleanlab.model.detector`) learns from the annotators' consensus boxes (the object model
of :func:`~ls_cleanlab.detection.audit_boxes` without a detector: boxes two annotators agree on,
or one annotator's where nobody else looked), never treating a box anybody drew as background,
and is cross-validated by image: each image's boxes come from a detector that never saw it. The
final detector, fitted on every labelled image, pre-annotates the images nobody labelled and, saved
with the model version, new tasks (:func:`box_preannotations`; :func:`predict_boxes` is the ML
backend's ``/predict`` for box projects).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

import numpy as np

from ls_cleanlab.detection import audit_boxes
from ls_cleanlab.errors import InvalidOptionError, MediaError
from ls_cleanlab.features.windows import ChannelImage, channel_image
from ls_cleanlab.media import MediaFetcher, decode_image
from ls_cleanlab.model.detector import BoxDetector, Detections
from ls_cleanlab.model.detector_fit import out_of_sample_detections
from ls_cleanlab.pipeline.box_sources import BoxEvidence, empty_predictions
from ls_cleanlab.pipeline.checkpoint import FoldCheckpoints
from ls_cleanlab.pipeline.workspace import Workspace
from ls_cleanlab.studio import Box, BoxTable, LabelSchema, box_prediction_json

__all__ = [
    "DETECTOR_NAME",
    "MAX_SIDE",
    "MIN_IMAGES",
    "box_preannotations",
    "detect_images",
    "detector_evidence",
    "predict_boxes",
]

logger = logging.getLogger("ls_cleanlab")

#: Images are scaled down so their longer side is at most this many pixels.
MAX_SIDE = 640
#: The detector needs at least this many labelled images with boxes.
MIN_IMAGES = 12
#: Name of the detector in ``source`` strings.
DETECTOR_NAME = "windows-acf-v1"
#: Folds of the detector's cross-validation (each fold fits a detector).
MAX_FOLDS = 3

Progress = Callable[[str, int, int], None]


def _pixels(data: bytes, max_pixels: int) -> np.ndarray:
    image = decode_image(data, max_pixels=max_pixels).convert("RGB")
    scale = MAX_SIDE / max(image.size)
    if scale < 1:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size)
    return np.asarray(image, dtype=np.uint8)


class _Images:
    """The project's images, compressed in memory, decoded to channels on demand."""

    def __init__(self, media: Mapping[int, bytes], max_pixels: int) -> None:
        self.media = media
        self.max_pixels = max_pixels

    def pixels(self, row: int) -> np.ndarray:
        return _pixels(self.media[row], self.max_pixels)

    def __call__(self, row: int) -> ChannelImage:
        return channel_image(self.pixels(row))


def _fetch_all(
    refs: Sequence[Any], fetcher: MediaFetcher, executor: Executor | None, progress: Progress | None
) -> tuple[dict[int, bytes], dict[int, tuple[str, str | None]], np.ndarray]:
    """(bytes by row, (failure, its ``MediaError.kind`` or None) by row, working sizes (n, 2)
    NaN where failed); the kind travels back from a worker, whose fetcher the driver's is not."""
    sizes = np.full((len(refs), 2), np.nan)
    media: dict[int, bytes] = {}
    failed: dict[int, tuple[str, str | None]] = {}

    def get(row: int) -> tuple[int, bytes | str, tuple[int, int] | None, str | None]:
        ref = refs[row]
        if not isinstance(ref, str) or not ref.strip():
            return row, f"no image reference in the task data (got {ref!r:.40})", None, None
        try:
            data = fetcher.fetch(ref)
            image = decode_image(data, max_pixels=fetcher.max_pixels)
        except MediaError as error:
            return row, str(error), None, error.kind
        scale = min(1.0, MAX_SIDE / max(image.size))
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        return row, data, size, None

    pool = executor if executor is not None else ThreadPoolExecutor(max_workers=8)
    try:
        for done, (row, got, size, kind) in enumerate(pool.map(get, range(len(refs))), start=1):
            if isinstance(got, bytes) and size is not None:
                media[row] = got
                sizes[row] = size
            else:
                failed[row] = (str(got), kind)
            if progress is not None and (done % 50 == 0 or done == len(refs)):
                progress("features", done, len(refs))
    finally:
        if executor is None:
            pool.shutdown()
    return media, failed, sizes


def _as_predictions(found: Detections, size: np.ndarray, k: int) -> list[np.ndarray]:
    """Detections in pixels -> cleanlab's format in percent."""
    scale = np.array([size[0], size[1], size[0], size[1]]) / 100
    boxes = found.boxes / scale
    rows = np.hstack([np.clip(boxes, 0, 100), found.scores[:, None]])
    return [rows[found.labels == c] for c in range(k)]


class _KeptFolds:
    """The detector's finished folds kept by a :class:`FoldCheckpoints` (a
    :class:`~ls_cleanlab.model.detector_fit.FoldStore`). A fold is named by what its images hold,
    not by their positions: each image's bytes, size, consensus boxes and classes and drawn
    boxes, with the detector's name, classes, seed and pixel limit."""

    def __init__(
        self,
        checkpoints: FoldCheckpoints,
        images: Sequence[bytes],
        fit_data: Sequence[Sequence[np.ndarray]],
        setup: Sequence[Any],
    ) -> None:
        self.checkpoints = checkpoints
        self.setup = list(setup)
        self.images = [
            _image_digest(data, parts) for data, parts in zip(images, fit_data, strict=True)
        ]

    def _parts(self, target: np.ndarray, fit_on: np.ndarray) -> list[Any]:
        return [*self.setup, "held out", *(self.images[i] for i in target),
                "fitted on", *(self.images[i] for i in fit_on)]  # fmt: skip

    def load(self, target: np.ndarray, fit_on: np.ndarray) -> list[Detections] | None:
        arrays = self.checkpoints.load_arrays(self._parts(target, fit_on))
        if arrays is None or len(arrays.get("counts", ())) != len(target):
            return None
        ends = np.cumsum(arrays["counts"])
        starts = ends - arrays["counts"]
        return [
            Detections(arrays["boxes"][a:b], arrays["labels"][a:b], arrays["scores"][a:b])
            for a, b in zip(starts.tolist(), ends.tolist(), strict=True)
        ]

    def save(self, target: np.ndarray, fit_on: np.ndarray, found: list[Detections]) -> None:
        arrays = {
            "counts": np.array([len(d.labels) for d in found], dtype=np.int64),
            "boxes": np.vstack([d.boxes.reshape(-1, 4) for d in found]),
            "labels": np.concatenate([d.labels for d in found]).astype(np.int64),
            "scores": np.concatenate([d.scores for d in found]).astype(np.float64),
        }
        self.checkpoints.save_arrays(self._parts(target, fit_on), arrays)


def _image_digest(data: bytes, arrays: Sequence[np.ndarray]) -> str:
    """One image's bytes and its arrays, each with its shape so no two splits of the same bytes
    digest alike."""
    hasher = hashlib.blake2b(data)
    for a in arrays:
        a = np.ascontiguousarray(a)
        hasher.update(f"|{a.dtype.str}{a.shape}|".encode())
        hasher.update(a.tobytes())
    return hasher.hexdigest()


def detector_evidence(
    table: BoxTable,
    schema: LabelSchema,
    *,
    fetcher: MediaFetcher,
    n_folds: int = MAX_FOLDS,
    seed: int = 0,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> BoxEvidence | None:
    """Out-of-sample detector boxes on every task whose image loads, or None when there are too
    few labelled images with boxes (fewer than :data:`MIN_IMAGES`) to train a detector."""
    ann = table.annotations
    labelled = np.asarray(ann.seen.any(axis=1)) if ann.n_annotators else np.zeros(0, bool)
    n = len(table.task_ids)
    if len(labelled) < n:
        labelled = np.zeros(n, dtype=bool)
    with_boxes = np.bincount(ann.image, minlength=n) > 0
    if (labelled & with_boxes).sum() < MIN_IMAGES:
        return None
    refs = [d.get(schema.data_key) for d in table.data]
    media, failed, sizes = _fetch_all(refs, fetcher, executor, progress)
    loaded = np.zeros(n, dtype=bool)
    loaded[list(media)] = True
    if (loaded & labelled & with_boxes).sum() < MIN_IMAGES:
        logger.warning("only %d labelled images loaded; auditing without a detector", loaded.sum())
        return None
    consensus = audit_boxes(ann).consensus
    train_boxes, train_labels, known = [], [], []
    for row in range(n):
        scale = np.tile(np.nan_to_num(sizes[row], nan=0.0), 2) / 100
        kept = (consensus.image == row) & consensus.keep
        train_boxes.append(consensus.boxes[kept] * scale)
        train_labels.append(consensus.labels[kept])
        drawn = np.vstack([ann.boxes[ann.image == row], consensus.boxes[consensus.image == row]])
        known.append(drawn * scale)
    rows = np.flatnonzero(loaded)
    local = {int(r): i for i, r in enumerate(rows)}
    images = _Images({i: media[int(r)] for i, r in enumerate(rows)}, fetcher.max_pixels)

    def fold_progress(done: int, total: int) -> None:
        if progress is not None:
            progress("model", done, total)

    fit_data = [(train_boxes[r], train_labels[r], known[r], sizes[r]) for r in rows]
    store = None
    if isinstance(executor, FoldCheckpoints):
        setup = [DETECTOR_NAME, seed, "\n".join(schema.classes), fetcher.max_pixels, MAX_SIDE]
        store = _KeptFolds(executor, [media[int(r)] for r in rows], fit_data, setup)
    found, detector = out_of_sample_detections(
        images, len(rows), [d[0] for d in fit_data], [d[1] for d in fit_data],
        [d[2] for d in fit_data], sizes[rows], labelled[rows], class_names=schema.classes,
        n_folds=n_folds, seed=seed, executor=executor, progress=fold_progress, store=store,
    )  # fmt: skip
    k = schema.n_classes
    predictions = [empty_predictions(k) for _ in range(n)]
    for r in rows:
        detected = found[local[int(r)]]
        if detected is not None:
            predictions[int(r)] = _as_predictions(detected, sizes[r], k)
    skipped = {r: f"image not loaded: {why}" for r, (why, _) in failed.items()}
    kinds = {r: kind for r, (_, kind) in failed.items() if kind is not None}
    return BoxEvidence(predictions, loaded, skipped, f"detector:{DETECTOR_NAME}", detector,
                       media_kinds=kinds)  # fmt: skip


def detect_images(
    detector: BoxDetector,
    refs: Sequence[Any],
    fetcher: MediaFetcher,
    failures: dict[int, tuple[str, str]] | None = None,
) -> list[list[np.ndarray] | None]:
    """The detector's boxes on each image reference (cleanlab's format, percent); None where the
    image could not be loaded (and, given ``failures``, index -> (why, ``MediaError.kind``))."""
    out: list[list[np.ndarray] | None] = []
    for i, ref in enumerate(refs):
        try:
            pixels = _pixels(fetcher.fetch(str(ref)), fetcher.max_pixels)
        except MediaError as error:
            logger.info("no detector boxes for %s: %s", str(ref)[:80], error)
            if failures is not None:
                failures[i] = (f"image not loaded: {error}", error.kind)
            out.append(None)
            continue
        found = detector.detect(channel_image(pixels))
        size = np.array([pixels.shape[1], pixels.shape[0]], dtype=np.float64)
        out.append(_as_predictions(found, size, detector.n_classes))
    return out


def box_preannotations(
    detector: BoxDetector,
    tasks: Sequence[Mapping[str, Any]],
    schema: LabelSchema,
    model_version: str,
    *,
    fetcher: MediaFetcher,
    min_score: float = 0.5,
) -> list[dict[str, Any]]:
    """One prediction per task (``{"result", "score", "model_version"}``), in order: the
    detector's boxes of at least ``min_score``; a task whose image fails gets an empty result."""
    if tuple(detector.class_names) != tuple(schema.classes):
        raise InvalidOptionError(
            "the saved detector's classes differ from the label config's; retrain (Start "
            "training, or ls-cleanlab audit)."
        )
    refs = [t.get("data", {}).get(schema.data_key) if isinstance(t, Mapping) else None
            for t in tasks]  # fmt: skip
    out = []
    for task, found in zip(tasks, detect_images(detector, refs, fetcher), strict=True):
        boxes = [
            Box.of(row[:4], schema.classes[k], float(row[4]))
            for k, per_class in enumerate(found or [])
            for row in per_class
            if row[4] >= min_score
        ]
        boxes.sort(key=lambda b: -b.score)
        score = float(np.mean([b.score for b in boxes])) if boxes else 0.0
        made = box_prediction_json(
            schema, int(task.get("id") or 0), boxes, score=score, model_version=model_version
        )
        made.pop("task", None)
        out.append(made)
    return out


def predict_boxes(
    workspace: Workspace,
    project: int,
    tasks: Sequence[Mapping[str, Any]],
    schema: LabelSchema,
    model_version: str,
    *,
    fetcher: MediaFetcher,
) -> list[dict[str, Any]]:
    """``/predict`` for a box project: the saved detector's boxes on each task (empty results
    before the project's first audit with a detector)."""
    path = workspace.box_detector(project, model_version)
    if not path.is_file():
        return [{"result": [], "score": 0.0, "model_version": model_version} for _ in tasks]
    return box_preannotations(BoxDetector.load(path), tasks, schema, model_version, fetcher=fetcher)
