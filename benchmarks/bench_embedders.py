"""Pretrained embedders against the built-in features: out-of-sample quality and speed.

Images: the CIFAR-10N mosaics (``../shared/datasets/cifar10n_mosaic``, 5,000 RGB images of 64x64
pixels, multi-label over the 10 CIFAR classes). Each feature set is standardized and given to
:func:`ls_cleanlab.model.out_of_sample_probs` (5 stratified folds, the default one-vs-rest
logistic regression) with the noisy human labels ``Y_aggre``; the probabilities are scored by
macro AUROC against the truth ``Y_clean``. Feature sets: the built-in descriptors, and
EfficientNet-Lite0 at 224, 192 and 160 px, pooling the last two stages (432 numbers) or the head
(1280). Speed in the table is images per second for ``prepare`` (resize) plus ``embed`` on
decoded arrays; the pipeline speed is :func:`ls_cleanlab.features.image_features` end to end on
PNG files (read, hash, decode and prepare in its threads, embed, standardize; no cache), with
``--threads`` onnxruntime threads. Targets: AUROC >= 0.89 and >= 100 images/s on this 2-core
machine.

Text: the CrowdTruth open-domain relation items (``../shared/datasets/crowdtruth_opendomain``:
a sentence and the two terms whose relation is asked), labelled by the majority vote of about 15
workers per item (a relation is present when more than half chose it). Same protocol, trained
and scored on the vote: TF-IDF (the project's text features), MiniLM sentence embeddings, and
both side by side. The text of an item is its two terms then its sentence. Target: the default
at least as good as TF-IDF.

Wall-clock speeds depend on what else runs on the machine; the CPU milliseconds per item (all
threads of this process) do not, and two free cores do about 2000 / (CPU ms) items per second.
Figures are printed, never asserted; run with one BLAS thread on a shared machine:

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_embedders.py               # about 10 minutes
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_embedders.py --limit 1000  # a quick look
"""

from __future__ import annotations

import argparse
import io
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from _measure import Speed, macro_auroc
from PIL import Image

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
TARGET_AUROC = 0.89
TARGET_IMAGES_PER_SECOND = 100


@dataclass(frozen=True)
class Row:
    """One line of a results table."""

    features: str
    width: int
    speed: Speed
    auroc: float


def quality(features: Any, train: np.ndarray, truth: np.ndarray) -> float:
    from ls_cleanlab.model import out_of_sample_probs

    return macro_auroc(truth, out_of_sample_probs(features, train))


def dense(vectors: np.ndarray) -> np.ndarray:
    from ls_cleanlab.features import standardize

    return standardize(vectors, np.ones(len(vectors), dtype=bool))


# -- images -------------------------------------------------------------------------------------


def load_mosaics(root: Path, limit: int | None) -> dict[str, np.ndarray]:
    with np.load(root / "cifar10n_mosaic" / "cifar10n_mosaic_5000.npz") as archive:
        arrays = {key: archive[key] for key in ("X", "Y_clean", "Y_aggre")}
    return {key: value[:limit] for key, value in arrays.items()}


def image_embedders(cache: Path, threads: int) -> dict[str, Callable[[], Any]]:
    """Builders of each image feature set, by label (built lazily, one at a time)."""
    from ls_cleanlab.features import DescriptorEmbedder
    from ls_cleanlab.features.pretrained.efficientnet_lite0 import EfficientNetLite0Embedder

    def lite(side: int, output: Any) -> Callable[[], Any]:
        return lambda: EfficientNetLite0Embedder(cache, side=side, output=output, threads=threads)

    return {
        "built-in descriptors": DescriptorEmbedder,
        "EfficientNet-Lite0 224px stages": lite(224, "stages"),
        "EfficientNet-Lite0 224px head": lite(224, "head"),
        "EfficientNet-Lite0 192px stages": lite(192, "stages"),
        "EfficientNet-Lite0 160px stages": lite(160, "stages"),
        "EfficientNet-Lite0 160px head": lite(160, "head"),
    }


def embed_images(embedder: Any, images: np.ndarray, batch: int = 256) -> np.ndarray:
    """Vectors of decoded images (prepare in this thread, then embed, per batch)."""
    parts = []
    for first in range(0, len(images), batch):
        chunk = images[first : first + batch]
        prepared = np.stack([embedder.prepare(Image.fromarray(pixels)) for pixels in chunk])
        parts.append(embedder.embed(prepared))
    return np.concatenate(parts)


def image_table(root: Path, limit: int | None, threads: int) -> list[Row]:
    arrays = load_mosaics(root, limit)
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        for label, build in image_embedders(Path(cache), threads).items():
            embedder = build()
            embed_images(embedder, arrays["X"][:8])  # warm up
            work = partial(embed_images, embedder, arrays["X"])
            vectors, speed = Speed.of(work, len(arrays["X"]))
            auroc = quality(dense(vectors), arrays["Y_aggre"], arrays["Y_clean"])
            rows.append(Row(label, vectors.shape[1], speed, auroc))
            print(f"  {label}: AUROC {auroc:.4f}, {speed.per_second:.0f} images/s", flush=True)
    return rows


def pipeline_speed(root: Path, count: int, threads: int) -> dict[str, Speed]:
    """Images per second through ``image_features`` on PNG files, cold, per embedder, and the
    CPU milliseconds per image (all threads): on a busy shared machine the wall-clock figure
    understates what two free cores do, the CPU cost does not."""
    from ls_cleanlab.features import DescriptorEmbedder, image_features
    from ls_cleanlab.features.pretrained.efficientnet_lite0 import EfficientNetLite0Embedder
    from ls_cleanlab.media import MediaFetcher

    images = load_mosaics(root, count)["X"]
    speeds = {}
    with tempfile.TemporaryDirectory() as folder:
        refs = []
        for i, pixels in enumerate(images):
            out = io.BytesIO()
            Image.fromarray(pixels).save(out, format="PNG")
            (Path(folder) / f"m{i:05d}.png").write_bytes(out.getvalue())
            refs.append(f"/data/local-files/?d=m{i:05d}.png")
        fetcher = MediaFetcher(local_files_root=folder)
        embedders: dict[str, Any] = {
            "built-in descriptors": DescriptorEmbedder(),
            "EfficientNet-Lite0 224px stages": EfficientNetLite0Embedder(folder, threads=threads),
        }
        for label, embedder in embedders.items():
            image_features(refs[:16], fetcher, embedder=embedder)  # warm up
            work = partial(image_features, refs, fetcher, embedder=embedder)
            result, speeds[label] = Speed.of(work, len(refs))
            if not result.ok.all():
                raise RuntimeError(f"{label}: images failed: {list(result.skipped.values())[:3]}")
    return speeds


# -- text ---------------------------------------------------------------------------------------


def load_crowdtruth(root: Path, limit: int | None) -> tuple[list[str], np.ndarray]:
    """Item texts (terms, then sentence) and the majority vote ``(n, K)`` of their workers."""
    folder = root / "crowdtruth_opendomain"
    items = pd.read_csv(folder / "items.csv.gz").iloc[:limit]
    judgments = pd.read_csv(folder / "annotations.csv.gz")
    judgments = judgments[judgments["item"].isin(items["item"])]
    chosen = judgments["labels"].fillna("").str.get_dummies(sep="|")
    share = chosen.groupby(judgments["item"]).mean().reindex(items["item"]).fillna(0.0)
    vote = (share.to_numpy() > 0.5).astype(np.int8)
    texts = (items["term1"] + " ; " + items["term2"] + " ; " + items["sentence"]).tolist()
    return texts, vote


def text_table(root: Path, limit: int | None, threads: int) -> list[Row]:
    from ls_cleanlab.features import text_features
    from ls_cleanlab.features.pretrained.minilm import MiniLMEmbedder

    texts, vote = load_crowdtruth(root, limit)
    per_item = vote.sum(axis=1).mean()
    print(f"  {len(texts)} items, {vote.shape[1]} relations, {per_item:.2f} per item")
    tfidf, tfidf_speed = Speed.of(lambda: text_features(texts).features, len(texts))
    embedder = MiniLMEmbedder(threads=threads)
    embedder.embed(texts[:8])  # warm up
    vectors, speed = Speed.of(lambda: embedder.embed(texts), len(texts))
    # Both: TF-IDF rows and embeddings both have norm 1; each half weighted 1/sqrt(2).
    both = sp.hstack([tfidf, sp.csr_matrix(vectors)], format="csr") / np.sqrt(2)
    sets = [
        ("TF-IDF (built in)", tfidf, tfidf_speed),
        ("MiniLM-L6 embeddings", dense(vectors), speed),
        ("TF-IDF + MiniLM-L6", both, tfidf_speed + speed),
    ]
    rows = []
    for label, features, cost in sets:
        auroc = quality(features, vote, vote)
        rows.append(Row(label, features.shape[1], cost, auroc))
        print(f"  {label}: AUROC {auroc:.4f}, {cost.per_second:.0f} texts/s", flush=True)
    return rows


# -- report -------------------------------------------------------------------------------------


def print_table(title: str, rows: list[Row], unit: str) -> None:
    print(f"\n## {title}")
    print(f"{'features':34s} {'numbers':>8s} {unit:>10s} {'CPU ms each':>12s} {'macro AUROC':>12s}")
    for row in rows:
        print(
            f"{row.features:34s} {row.width:8d} {row.speed.per_second:10.0f} "
            f"{row.speed.cpu_ms:12.2f} {row.auroc:12.4f}"
        )


def report_images(args: argparse.Namespace) -> None:
    default = "EfficientNet-Lite0 224px stages"
    if not args.skip_quality:
        print("images: CIFAR-10N mosaics, trained on Y_aggre, scored against Y_clean")
        rows = image_table(args.data, args.limit, args.threads)
        print_table(f"Images ({args.threads} onnxruntime thread(s))", rows, "images/s")
        auroc = next(row.auroc for row in rows if row.features == default)
        verdict = "PASS" if auroc >= TARGET_AUROC else "FAIL"
        print(f"default ({default}) AUROC >= {TARGET_AUROC}: {verdict}")
    speeds = pipeline_speed(args.data, args.speed_images, args.threads)
    print(f"\n## image_features end to end, {args.speed_images} PNG files, no cache")
    for label, speed in speeds.items():
        print(f"{label:34s} {speed.per_second:8.0f} images/s   {speed.cpu_ms:6.2f} CPU ms/image")
    speed = speeds[default]
    verdict = "PASS" if speed.per_second >= TARGET_IMAGES_PER_SECOND else "FAIL"
    print(f"default >= {TARGET_IMAGES_PER_SECOND} images/s: {verdict} "
          f"(two free cores at this CPU cost: {2000 / speed.cpu_ms:.0f} images/s)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="first N mosaics and items")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads")
    parser.add_argument("--skip-images", action="store_true")
    parser.add_argument("--skip-text", action="store_true")
    parser.add_argument("--skip-quality", action="store_true", help="image pipeline speed only")
    parser.add_argument("--speed-images", type=int, default=2000, help="images for the speed")
    args = parser.parse_args()
    if not args.skip_images:
        report_images(args)
    if not args.skip_text:
        print("\ntext: CrowdTruth open-domain relations, majority vote of the workers")
        rows = text_table(args.data, args.limit, args.threads)
        print_table(f"Text ({args.threads} onnxruntime thread(s))", rows, "texts/s")
        best = max(rows[1:], key=lambda row: row.auroc)
        verdict = "PASS" if best.auroc >= rows[0].auroc else "FAIL"
        print(f"best with embeddings ({best.features}) at least TF-IDF: {verdict}")


if __name__ == "__main__":
    main()
