"""The default model on real images: feature speed, probability quality, and what the audit finds.

Data: the CIFAR-10N mosaics (``../shared/datasets/cifar10n_mosaic``, never copied into the
repository): 5,000 RGB images of 64x64 pixels, multi-label over the 10 CIFAR classes, with real
human label sets (``Y_aggre``, ``Y_random1..3``) and the truth ``Y_clean``.

1. **Feature extraction speed.** The mosaics are written as PNG files (not timed), then
   :func:`ls_cleanlab.features.image_features` reads them through a ``MediaFetcher`` on a local
   files root: read, hash, decode, describe, standardize; with a cold cache, with a warm cache
   (nothing read or described), and the descriptor alone on decoded arrays. Target: >= 200
   images per second on 2 cores for 64x64 images.
2. **Probability quality.** Out-of-sample probabilities (:func:`ls_cleanlab.model.
   out_of_sample_probs`, 5 stratified folds, default logistic regression) trained on the noisy
   human labels ``Y_aggre``, scored by macro AUROC against ``Y_clean``: our default features
   against logistic regression on the raw pixels (standardized). Target: ours higher.
3. **Detection.** ``audit_labels`` with our probabilities next to cleanlab 2.9.0's multi-label
   label quality on the same probabilities (scored as in ``bench_detection.py``), for
   ``Y_random1`` alone and for ``Y_random1..3`` as three annotators (probabilities trained on
   their majority vote). Target: ours at least as good on task AUROC.

Figures are printed, never asserted; run with one BLAS thread on a shared machine:

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_model.py            # about 5 minutes
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_model.py --limit 1000 --skip-raw
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
TARGET_IMAGES_PER_SECOND = 200


def load(root: Path, limit: int | None) -> dict[str, np.ndarray]:
    with np.load(root / "cifar10n_mosaic" / "cifar10n_mosaic_5000.npz") as archive:
        arrays = {key: archive[key] for key in archive.files}
    if limit is not None:
        arrays = {
            k: v[:limit] if v.ndim and len(v) == len(arrays["X"]) else v for k, v in arrays.items()
        }
    return arrays


def write_pngs(images: np.ndarray, folder: Path) -> list[str]:
    refs = []
    for i, pixels in enumerate(images):
        out = io.BytesIO()
        Image.fromarray(pixels).save(out, format="PNG")
        (folder / f"m{i:05d}.png").write_bytes(out.getvalue())
        refs.append(f"/data/local-files/?d=m{i:05d}.png")
    return refs


def speed(images: np.ndarray) -> np.ndarray:
    """Time feature extraction three ways; returns the features."""
    from ls_cleanlab.features import FeatureCache, image_features
    from ls_cleanlab.features.descriptors import describe
    from ls_cleanlab.media import MediaFetcher

    n = len(images)
    print(f"\n## Feature extraction, {n} images of {images.shape[1]}x{images.shape[2]}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "media"
        folder.mkdir()
        refs = write_pngs(images, folder)
        fetcher = MediaFetcher(local_files_root=folder)
        with FeatureCache(Path(tmp) / "features.sqlite") as cache:
            start = time.perf_counter()
            cold = image_features(refs, fetcher, cache=cache)
            cold_s = time.perf_counter() - start
            start = time.perf_counter()
            warm = image_features(refs, fetcher, cache=cache)
            warm_s = time.perf_counter() - start
        start = time.perf_counter()
        for i in range(0, n, 256):
            describe(images[i : i + 256])
        arrays_s = time.perf_counter() - start
    assert cold.ok.all() and np.array_equal(cold.features, warm.features)
    verdict = "PASS" if n / cold_s >= TARGET_IMAGES_PER_SECOND else "FAIL"
    print(
        f"{'files -> features (cold cache)':34s} {n / cold_s:8.0f} img/s  "
        f"target >= {TARGET_IMAGES_PER_SECOND}: {verdict}"
    )
    print(
        f"{'files -> features (warm cache)':34s} {n / warm_s:8.0f} img/s  "
        f"(downloaded {warm.downloaded}, computed {warm.computed})"
    )
    print(f"{'descriptor only (decoded arrays)':34s} {n / arrays_s:8.0f} img/s")
    print(f"{'features per image':34s} {cold.features.shape[1]:8d}")
    return np.asarray(cold.features)


def macro_auroc(truth: np.ndarray, probs: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(np.mean([roc_auc_score(truth[:, k], probs[:, k]) for k in range(truth.shape[1])]))


def quality(
    features: np.ndarray, arrays: dict[str, np.ndarray], skip_raw: bool
) -> dict[str, np.ndarray]:
    """Out-of-sample probabilities from our features (and raw pixels); macro AUROC vs Y_clean."""
    from ls_cleanlab.features import standardize
    from ls_cleanlab.model import out_of_sample_probs

    truth, noisy = arrays["Y_clean"], arrays["Y_aggre"]
    print("\n## Out-of-sample probabilities trained on Y_aggre, macro AUROC against Y_clean")
    start = time.perf_counter()
    ours = out_of_sample_probs(features, noisy)
    ours_s = time.perf_counter() - start
    ours_auc = macro_auroc(truth, ours)
    print(f"{'our default features':34s} AUROC {ours_auc:.4f}   ({ours_s:.1f} s)")
    if not skip_raw:
        pixels = arrays["X"].reshape(len(truth), -1).astype(np.float32)
        raw = standardize(pixels, np.ones(len(truth), dtype=bool))
        start = time.perf_counter()
        raw_probs = out_of_sample_probs(raw, noisy)
        raw_s = time.perf_counter() - start
        raw_auc = macro_auroc(truth, raw_probs)
        verdict = "PASS" if ours_auc > raw_auc else "FAIL"
        print(f"{'raw pixels (12,288 numbers)':34s} AUROC {raw_auc:.4f}   ({raw_s:.1f} s)")
        print(f"ours - raw pixels: {ours_auc - raw_auc:+.4f}  target > 0: {verdict}")
    humans = [arrays[f"Y_random{i}"] for i in (1, 2, 3)]
    return {"ours": ours, "random1": out_of_sample_probs(features, humans[0])}


def detection(
    features: np.ndarray, arrays: dict[str, np.ndarray], probs: dict[str, np.ndarray]
) -> None:
    """audit_labels against cleanlab on the same probabilities (bench_detection's metrics)."""
    import bench_detection as bd

    from ls_cleanlab.model import out_of_sample_probs

    truth = arrays["Y_clean"].astype(bool)
    names = [str(c) for c in arrays["classes"]]
    humans = [arrays[f"Y_random{i}"] for i in (1, 2, 3)]
    n = len(truth)
    task = np.tile(np.arange(n), 3)
    who = np.repeat(np.array(["random1", "random2", "random3"], dtype=object), n)
    labels = np.vstack(humans).astype(bool)
    vote = bd.majority_vote(task, labels, n)
    scenarios = [
        bd.one_annotator("mosaics", "Y_random1 alone", truth, probs["random1"], names, humans[0]),
        bd.Scenario(
            "mosaics",
            "Y_random1..3",
            truth,
            out_of_sample_probs(features, vote),
            names,
            task,
            who,
            labels,
        ),
    ]
    print("\n## Detection with these probabilities: audit_labels vs cleanlab 2.9.0")
    for sc in scenarios:
        ours, _ = bd.run_ours(sc, seed=0)
        ref = bd.run_cleanlab(sc)
        mine, theirs = bd.metrics(sc.truth, ours), bd.metrics(sc.truth, ref)
        print(f"\n{sc.name}")
        print(f"{'':34s} {'ours':>9s} {'cleanlab':>9s}")
        for key in ("task AUROC", "task AUPRC", "cell AUPRC", bd.ERRORS_LEFT):
            digits = 0 if key == bd.ERRORS_LEFT else 4
            print(f"{key:34s} {mine[key]:9.{digits}f} {theirs[key]:9.{digits}f}")
        verdict = "PASS" if mine["task AUROC"] >= theirs["task AUROC"] - 1e-9 else "FAIL"
        print(f"task AUROC at least cleanlab's: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="use the first N mosaics")
    parser.add_argument("--skip-raw", action="store_true", help="skip the raw-pixel baseline")
    args = parser.parse_args()
    arrays = load(args.data, args.limit)
    features = speed(arrays["X"])
    probs = quality(features, arrays, args.skip_raw)
    detection(features, arrays, probs)


if __name__ == "__main__":
    main()
