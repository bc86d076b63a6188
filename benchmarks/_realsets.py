"""The real sets of the robustness benchmark, read from ``../shared/datasets`` (never copied).

* MULAN (all six): one ARFF reader for dense and sparse (``{index value, ...}``) rows, label
  names from the XML (quotes and escaped apostrophes normalized, which ``birds`` needs);
  ``-train`` and ``-test`` concatenated. Sparse sets stay ``scipy.sparse`` CSR.
* CIFAR-10N mosaics: :func:`_datasets.load_cifar10n`'s hand-made image features, computed once
  for all 5,000 mosaics and cached under the system's temporary folder (not in the repository).
* CrowdTruth: :func:`_datasets.load_crowdtruth` plus each item's text (sentence and the two
  terms) for a TF-IDF model.
* Single-label crowd sets (``crowd_singlelabel``): ``answer.csv`` and ``truth.csv``; the Emotion
  set's scores in [-100, 100] are binned into negative (< -10), neutral and positive (> 10).
"""

from __future__ import annotations

import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _datasets as data
import numpy as np
import pandas as pd
from scipy import sparse

__all__ = [
    "MULAN_SETS",
    "SINGLE_LABEL_SETS",
    "CrowdTruth",
    "SingleLabel",
    "cifar_features",
    "load_crowdtruth_text",
    "load_mulan",
    "load_single_label",
]

MULAN_SETS = ("yeast", "scene", "emotions", "enron", "medical", "birds")
SINGLE_LABEL_SETS = {
    "duck": "d_Duck Identification",
    "dog": "s4_Dog data",
    "face": "s4_Face Sentiment Identification",
    "product": "d_jn-product",
    "emotion": "f201_Emotion_FULL",
}
EMOTION_CUTS = (-10, 10)
CACHE = Path(tempfile.gettempdir()) / "ls_cleanlab_bench"


# -- MULAN ----------------------------------------------------------------------------------------


def _attribute_name(line: str) -> str:
    rest = line.split(None, 1)[1].strip()
    if rest[0] in "'\"":
        quote, out, i = rest[0], [], 1
        while rest[i] != quote:
            if rest[i] == "\\":
                i += 1
            out.append(rest[i])
            i += 1
        return "".join(out)
    return rest.split()[0]


def _read_arff(path: Path) -> tuple[list[str], sparse.csr_matrix]:
    names: list[str] = []
    rows, cols, vals = [], [], []
    n = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("%"):
                continue
            low = line.lower()
            if low.startswith("@attribute"):
                names.append(_attribute_name(line))
            elif low.startswith(("@relation", "@data")):
                continue
            elif line.startswith("{"):
                body = line.strip("{}").strip()
                for item in body.split(",") if body else []:
                    j, v = item.split()
                    rows.append(n)
                    cols.append(int(j))
                    vals.append(0.0 if v == "?" else float(v.strip("'")))
                n += 1
            else:
                values = [0.0 if v == "?" else float(v.strip("'")) for v in line.split(",")]
                rows.extend([n] * len(values))
                cols.extend(range(len(values)))
                vals.extend(values)
                n += 1
    matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(n, len(names)))
    matrix.eliminate_zeros()
    return names, matrix


def load_mulan(root: Path, name: str) -> data.Multilabel:
    """A MULAN set (train + test). ``x`` is dense for dense files, CSR for sparse ones."""
    folder = root / "mulan" / name
    tags = ET.parse(folder / f"{name}.xml").getroot().iter()
    label_names = [e.attrib["name"] for e in tags if e.tag.endswith("label")]
    parts = [_read_arff(folder / f"{name}-{split}.arff") for split in ("train", "test")]
    names = parts[0][0]
    matrix = sparse.vstack([p[1] for p in parts]).tocsr()
    position = {c: j for j, c in enumerate(names)}
    label_cols = [position[c] for c in label_names]
    feature_cols = [j for j in range(len(names)) if j not in set(label_cols)]
    truth = matrix[:, label_cols].toarray() > 0.5
    x = matrix[:, feature_cols]
    dense = x.nnz > 0.3 * x.shape[0] * x.shape[1]
    return data.Multilabel(x=x.toarray() if dense else x, truth=truth, class_names=label_names)


# -- CIFAR-10N ------------------------------------------------------------------------------------


def cifar_features(root: Path) -> np.ndarray:
    """Image features of all 5,000 mosaics, cached on disk after the first call."""
    path = CACHE / "cifar10n_mosaic_features.npy"
    if path.exists():
        return np.load(path)
    with np.load(root / "cifar10n_mosaic" / "cifar10n_mosaic_5000.npz") as npz:
        x = data.image_features(npz["X"])
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, x)
    return x


# -- CrowdTruth -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CrowdTruth:
    crowd: data.Crowd
    text: list[str]  # per task (in the crowd's task order): sentence, term1, term2


def load_crowdtruth_text(root: Path, max_items: int | None) -> CrowdTruth:
    folder = root / "crowdtruth_opendomain"
    crowd = data.load_crowdtruth(root, max_items)
    frame = pd.read_csv(folder / "annotations.csv.gz", usecols=["item"])
    order = frame["item"].drop_duplicates()
    if max_items is not None:
        order = order.iloc[:max_items]
    items = pd.read_csv(folder / "items.csv.gz").set_index("item")
    rows = items.loc[order.to_numpy()]
    text = (rows["sentence"] + " [" + rows["term1"] + "] [" + rows["term2"] + "]").tolist()
    return CrowdTruth(crowd=crowd, text=text)


# -- single-label crowd sets ----------------------------------------------------------------------


@dataclass(frozen=True)
class SingleLabel:
    """Long-form answers ``task`` (A,), ``worker`` (A,) str, ``answer`` (A,) class index, the
    truth (n,) class index and the class names."""

    task: np.ndarray
    worker: np.ndarray
    answer: np.ndarray
    truth: np.ndarray
    class_names: list[str]


def _emotion_class(values: Any) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    return np.digitize(v, [EMOTION_CUTS[0], EMOTION_CUTS[1] + 1e-9])  # 0 neg, 1 neutral, 2 pos


def load_single_label(root: Path, key: str, limit: int | None, seed: int) -> SingleLabel:
    """One crowd set; ``limit`` keeps a fixed random sample of questions."""
    folder = root / "crowd_singlelabel" / SINGLE_LABEL_SETS[key]
    answers = pd.read_csv(folder / "answer.csv")
    truth = pd.read_csv(folder / "truth.csv").drop_duplicates("question").set_index("question")
    questions = np.array(sorted(set(answers["question"]) & set(truth.index), key=str), dtype=object)
    if limit is not None and limit < len(questions):
        keep = np.random.default_rng(seed).choice(len(questions), limit, replace=False)
        questions = questions[np.sort(keep)]
    index = {q: i for i, q in enumerate(questions.tolist())}
    answers = answers[answers["question"].isin(index)]
    if key == "emotion":
        given, true = _emotion_class(answers["answer"]), _emotion_class(truth["truth"])
        names = ["negative", "neutral", "positive"]
        true_by_q = pd.Series(true, index=truth.index)
    else:
        classes = sorted(set(answers["answer"]) | set(truth["truth"]))
        code = {c: j for j, c in enumerate(classes)}
        given = answers["answer"].map(code).to_numpy()
        true_by_q = truth["truth"].map(code)
        names = [str(c) for c in classes]
    return SingleLabel(
        task=answers["question"].map(index).to_numpy(dtype=np.int64),
        worker=answers["worker"].astype(str).to_numpy(dtype=object),
        answer=np.asarray(given, dtype=np.int64),
        truth=true_by_q.loc[questions].to_numpy(dtype=np.int64),
        class_names=names,
    )


def tfidf(texts: list[str]) -> sparse.csr_matrix:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(min_df=2, ngram_range=(1, 2), sublinear_tf=True, max_features=20000)
    return vec.fit_transform(texts).tocsr()
