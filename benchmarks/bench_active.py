"""Which task to label next: simulated labeling rounds, consensus accuracy per annotation spent.

A project starts with a share of its tasks labelled once; each round buys a batch of annotations,
one more for each chosen task from an annotator of its pool who has not labelled it yet. After
each round the model is refitted as the pipeline does (5-fold out-of-sample probabilities on the
labelled tasks' majority vote, ties counted as present, a final model for the rest). The
project's labels are the annotators' majority vote per class (ties decided by the model's
out-of-sample probability) for labelled tasks and the final model's pre-annotations for the
others; *consensus accuracy* is the share of all tasks whose whole label set equals the truth.
(The vote rather than ``audit_labels``' consensus, so that the measure stays the same whether a
project has one annotation per task or several.)

Orderings compared, all choosing among tasks that still have an annotator left:

* ``random``: tasks in random order;
* ``uncertainty``: the model's uncertainty only (mean binary entropy of its probabilities per
  class, out-of-sample for labelled tasks), blind to the annotations;
* ``value``: :func:`ls_cleanlab.annotators.active.annotation_value` on the model's probabilities
  and the annotations, the expected rise in the probability that the task's labels are right
  after one more annotation (labelled and unlabelled tasks on one scale).

Sets:

* ``mosaics``: the CIFAR-10N mosaics (EfficientNet-Lite0 features) with their three real human
  labelings ``Y_random1..3`` as the annotator pool, scored against ``Y_clean``;
* ``scene``, ``yeast``: MULAN sets with three simulated annotators of different habits
  (``_datasets.ANNOTATOR_HABITS``: a satisficer, a careless and a careful one).

Target: ``value`` reaches ``random``'s final consensus accuracy with at least 25% fewer
annotations (counted from the start, beyond the initial labels). Figures are printed, never
asserted; run with one BLAS thread on a shared machine:

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_active.py              # about 20 minutes
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_active.py --sets scene --rounds 6
"""

from __future__ import annotations

import argparse
import itertools
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _datasets as data
import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
TARGET_SAVING = 0.25
ORDERINGS = ("random", "uncertainty", "value")


@dataclass(frozen=True)
class Pool:
    """A labeling simulation: features, the truth, and every annotator's labels of every task."""

    name: str
    x: np.ndarray  # (n, d) standardized
    truth: np.ndarray  # (n, K) bool
    answers: np.ndarray  # (M, n, K) bool: what annotator m would answer for task i


@dataclass
class State:
    """Who labelled what so far."""

    done: np.ndarray  # (n, M) bool

    @property
    def spent(self) -> int:
        return int(self.done.sum())


def entropy(probs: np.ndarray) -> np.ndarray:
    p = np.clip(probs, 1e-12, 1 - 1e-12)
    return -(p * np.log2(p) + (1 - p) * np.log2(1 - p)).mean(axis=1)


@dataclass(frozen=True)
class Round:
    """A project's state after a round: the labels it shows, the model, the annotations."""

    labels: np.ndarray  # (n, K) bool: the consensus (labelled) or pre-annotations (unlabelled)
    probs: np.ndarray  # (n, K) out-of-sample (labelled) or the final model's (unlabelled)
    annotations: Any


def refit(pool: Pool, state: State, seed: int) -> Round:
    """The pipeline's model after a round, and the project's labels."""
    from ls_cleanlab import Annotations
    from ls_cleanlab.model import out_of_sample_probs, train_model

    n, k = pool.truth.shape
    task, who = np.nonzero(state.done)
    given = pool.answers[who, task].astype(np.int8)
    counts = np.bincount(task, minlength=n)
    sums = np.zeros((n, k))
    np.add.at(sums, task, given)
    labelled = np.flatnonzero(counts > 0)
    vote = (2 * sums[labelled] >= counts[labelled, None]).astype(np.int8)  # ties present
    probs = np.zeros((n, k))
    labels = np.zeros((n, k), dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # rare classes early on
        probs[labelled] = out_of_sample_probs(pool.x[labelled], vote, seed=seed)
        model = train_model(pool.x[labelled], vote, class_names=[str(c) for c in range(k)],
                            oos_probs=probs[labelled])  # fmt: skip
        rest = np.flatnonzero(counts == 0)
        if len(rest):
            made = model.predict(pool.x[rest])
            probs[rest], labels[rest] = made.probs, made.chosen.astype(bool)
    share = sums[labelled] / counts[labelled, None]
    labels[labelled] = np.where(share == 0.5, probs[labelled] >= 0.5, share > 0.5)
    return Round(labels, probs, Annotations(task=task, annotator=who, labels=given))


def choose(
    ordering: str, now: Round, eligible: np.ndarray, batch: int, rng: np.random.Generator
) -> np.ndarray:
    """The ``batch`` eligible tasks to annotate next, by ``ordering``."""
    from ls_cleanlab.annotators.active import annotation_value

    candidates = np.flatnonzero(eligible)
    if ordering == "random":
        return rng.permutation(candidates)[:batch]
    ties = rng.random(len(candidates))  # random among equal scores
    if ordering == "uncertainty":
        return candidates[np.lexsort((ties, -entropy(now.probs[candidates])))[:batch]]
    found = annotation_value(now.probs, now.annotations)
    keys = (ties, -found.soft_value[candidates], -found.value[candidates])
    return candidates[np.lexsort(keys)[:batch]]


def accuracy(labels: np.ndarray, truth: np.ndarray) -> float:
    return float((labels == truth).all(axis=1).mean())


def simulate(
    pool: Pool, ordering: str, *, start: float, batch: int, rounds: int, seed: int
) -> list[tuple[int, float]]:
    """(annotations spent beyond the start, consensus accuracy) after the start and each round."""
    rng = np.random.default_rng(seed)
    n, m = len(pool.truth), len(pool.answers)
    done = np.zeros((n, m), dtype=bool)
    first = np.random.default_rng(seed).permutation(n)[: round(start * n)]
    done[first, np.random.default_rng(seed + 1).integers(0, m, len(first))] = True
    state = State(done)
    initial = state.spent
    curve = []
    for step in range(rounds + 1):
        now = refit(pool, state, seed)
        curve.append((state.spent - initial, accuracy(now.labels, pool.truth)))
        if step == rounds:
            break
        eligible = ~state.done.all(axis=1)
        for i in choose(ordering, now, eligible, batch, rng):
            free = np.flatnonzero(~state.done[i])
            state.done[i, rng.choice(free)] = True
    return curve


def needed(curve: list[tuple[int, float]], level: float) -> float:
    """Annotations spent when ``curve`` first reaches ``level`` (linear between rounds)."""
    for (s0, a0), (s1, a1) in itertools.pairwise(curve):
        if a0 >= level:
            return float(s0)
        if a1 >= level:
            return s0 + (s1 - s0) * (level - a0) / max(a1 - a0, 1e-12)
    return float("inf") if curve[-1][1] < level else float(curve[-1][0])


# -- sets ---------------------------------------------------------------------------------------


def mosaics(root: Path, limit: int) -> Pool:
    from PIL import Image

    from ls_cleanlab.features import EfficientNetLite0Embedder, standardize

    with np.load(root / "cifar10n_mosaic" / "cifar10n_mosaic_5000.npz") as archive:
        images = archive["X"][:limit]
        truth = archive["Y_clean"][:limit].astype(bool)
        answers = np.stack([archive[f"Y_random{i}"][:limit].astype(bool) for i in (1, 2, 3)])
    embedder = EfficientNetLite0Embedder(threads=1)
    parts = [
        embedder.embed(np.stack([embedder.prepare(Image.fromarray(p)) for p in chunk]))
        for chunk in np.array_split(images, max(1, len(images) // 256))
    ]
    x = np.concatenate(parts)
    return Pool("mosaics", standardize(x, np.ones(len(x), dtype=bool)), truth, answers)


def mulan(root: Path, name: str, limit: int, seed: int) -> Pool:
    from ls_cleanlab.features import standardize

    found = data.load_mulan(root, name)
    keep = np.random.default_rng(seed).permutation(len(found.truth))[:limit]
    truth = found.truth[keep]
    rng = np.random.default_rng(seed)
    answers = np.stack([data.corrupt(truth, habit, rng) for habit in data.ANNOTATOR_HABITS])
    x = found.x[keep].astype(np.float32)
    return Pool(name, standardize(x, np.ones(len(x), dtype=bool)), truth, answers)


def report(pool: Pool, args: argparse.Namespace) -> dict[str, float]:
    n = len(pool.truth)
    batch = max(1, round(args.batch * n))
    print(f"\n## {pool.name}: {n} tasks, {pool.truth.shape[1]} classes, {len(pool.answers)} "
          f"annotators; {args.start:.0%} labelled once at the start, {batch} annotations "
          "a round")  # fmt: skip
    wrong = [(a != pool.truth).any(axis=1).mean() for a in pool.answers]
    print("annotators' tasks with any wrong label: " + ", ".join(f"{w:.1%}" for w in wrong))
    curves: dict[str, list[tuple[int, float]]] = {}
    for ordering in ORDERINGS:
        start = time.perf_counter()
        curves[ordering] = simulate(
            pool, ordering, start=args.start, batch=batch, rounds=args.rounds, seed=args.seed
        )
        print(f"  {ordering}: {time.perf_counter() - start:.0f} s", flush=True)
    print(f"\n{'annotations':>12s} " + " ".join(f"{o:>12s}" for o in ORDERINGS))
    for row in range(args.rounds + 1):
        spent = curves["random"][row][0]
        print(f"{spent:12d} " + " ".join(f"{curves[o][row][1]:12.4f}" for o in ORDERINGS))
    final = curves["random"][-1]
    print(f"\nrandom's final consensus accuracy {final[1]:.4f} after {final[0]} annotations")
    savings = {}
    for ordering in ORDERINGS[1:]:
        spent = needed(curves[ordering], final[1])
        savings[ordering] = 1 - spent / final[0]
        if np.isfinite(spent):
            print(f"{ordering:12s} reaches it after {spent:7.0f} annotations: "
                  f"{savings[ordering]:+.0%} fewer")  # fmt: skip
        else:
            print(f"{ordering:12s} does not reach it within the budget")
    verdict = "PASS" if savings["value"] >= TARGET_SAVING else "FAIL"
    print(f"value ordering saves >= {TARGET_SAVING:.0%}: {verdict}")
    return savings


SETS: dict[str, Callable[[argparse.Namespace], Pool]] = {
    "mosaics": lambda a: mosaics(a.data, a.limit),
    "scene": lambda a: mulan(a.data, "scene", a.limit, a.seed),
    "yeast": lambda a: mulan(a.data, "yeast", a.limit, a.seed),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--limit", type=int, default=2000, help="tasks per set")
    parser.add_argument("--start", type=float, default=0.2, help="share labelled once at start")
    parser.add_argument("--batch", type=float, default=0.05, help="annotations a round / tasks")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    results = {name: report(SETS[name](args), args) for name in args.sets}
    print("\n## Summary: annotations saved against random ordering, at its final accuracy")
    for name, savings in results.items():
        shown = "  ".join(
            f"{o} {s:+.0%}" if np.isfinite(s) else f"{o} never" for o, s in savings.items()
        )
        print(f"{name:10s} {shown}")


if __name__ == "__main__":
    main()
