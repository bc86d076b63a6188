"""Generated multi-label regimes for the robustness benchmark: truth, annotators, models.

A regime fixes the factors issue 14 varies: number of classes ``k``, mean labels per task
``cardinality``, prevalence ``skew`` (Zipf exponent of the class weights; 0 is flat), label
co-occurrence (``topics``), annotators per task ``per_task``, the annotators' error type
(``errors``) and the model (``model``). :data:`CELLS` is the covering design: one factor at a
time around two base cells, plus the hard corners.

* Truth: each task draws ``1 + Poisson(cardinality - 1)`` distinct classes with probability
  proportional to the class weight, times 1 + :data:`TOPIC_BOOST` inside the task's topic (groups
  of five classes), by the Gumbel top-c trick.
* Annotators (:class:`Annotator`), errors applied in order to the true set: ``swap`` (one label
  replaced by the class's fixed confusable partner), ``satisfice`` (of several labels only one
  is kept), ``drop`` (each label lost, one kept), ``add`` (expected spurious labels per task,
  drawn in proportion to the class weights), ``anchor`` (the label set given on the annotator's
  previous task is copied), ``spam`` (the task is not looked at: a random label set of the
  usual size, drawn in proportion to the class weights).
* Models: calibrated by construction. A score ``s ~ N(d' z, 1)`` for truth ``z`` gives
  ``P(z = 1 | s) = sigmoid(logit pi_k + d' s - d'^2 / 2)``; ``d'`` sets the quality. ``useless``
  is ``logit pi_k`` plus noise; ``overconfident`` multiplies the medium model's log-odds by 2.5;
  ``vote`` is 5-fold cross-validated logistic regression on features generated from the truth,
  trained on the majority vote (it shares the vote's errors, as a user's model does).
"""

from __future__ import annotations

import warnings
import zlib
from dataclasses import dataclass, replace

import numpy as np

__all__ = [
    "CELLS",
    "MODEL_DPRIME",
    "Annotator",
    "Labelled",
    "Regime",
    "annotate",
    "class_weights",
    "cv_logistic",
    "draw_truth",
    "generate",
    "graded_model",
    "majority_vote",
    "rng_for",
    "simulate",
    "synthetic_model",
    "vote_model",
]

TOPIC_SIZE = 5
TOPIC_BOOST = 6.0
#: Separation d' of the synthetic models (per-class AUROC about 0.998, 0.92, 0.76).
MODEL_DPRIME = {"strong": 4.0, "medium": 2.0, "weak": 1.0}
OVERCONFIDENCE = 2.5
FOLDS = 5


def rng_for(seed: int, name: str) -> np.random.Generator:
    """A generator seeded by the run's seed and a name (cells never share random streams)."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


@dataclass(frozen=True)
class Annotator:
    """How one simulated annotator errs (rates as in the module docstring)."""

    name: str
    swap: float = 0.0
    satisfice: float = 0.0
    drop: float = 0.0
    add: float = 0.0
    anchor: float = 0.0
    spam: float = 0.0


@dataclass(frozen=True)
class Regime:
    """One generated cell of the matrix; ``group`` says which base it varies or that it is a
    corner; ``cleanlab_equal`` marks single-annotator cells without missing-label evidence
    (no drops, no satisficing, no co-occurrence), where the ranking must be cleanlab's."""

    name: str
    group: str
    k: int = 20
    cardinality: float = 2.0
    skew: float = 1.0
    topics: bool = True
    per_task: int = 3
    errors: str = "mixed"
    model: str = "medium"
    cleanlab_equal: bool = False

    def describe(self) -> str:
        return (
            f"K={self.k} card={self.cardinality:g} skew={self.skew:g} "
            f"topics={'y' if self.topics else 'n'} r={self.per_task} errors={self.errors} "
            f"model={self.model}"
        )


@dataclass(frozen=True)
class Labelled:
    """A generated data set: truth (n, K) bool, probabilities (n, K), long-form annotations
    ``task`` (A,), ``annotator`` (A,) names, ``labels`` (A, K) bool, and the class names."""

    truth: np.ndarray
    pred_probs: np.ndarray | None
    task: np.ndarray
    annotator: np.ndarray
    labels: np.ndarray
    class_names: list[str]


# -- the covering design ------------------------------------------------------------------------

_A = Regime("A", "base A")
_B = Regime("B", "base B", k=50, cardinality=3.0, per_task=2, errors="sat+careless")


def _vary(base: Regime, **change: object) -> Regime:
    key, value = next(iter(change.items()))
    return replace(base, name=f"{base.name} {key}={value}", **change)  # type: ignore[arg-type]


CELLS: tuple[Regime, ...] = (
    _A,
    *(_vary(_A, k=k) for k in (5, 50, 100)),
    *(_vary(_A, cardinality=c) for c in (1.0, 3.0, 5.0)),
    _vary(_A, skew=0.0),
    _vary(_A, topics=False),
    *(_vary(_A, per_task=r) for r in (1, 2, 5, 15)),
    *(_vary(_A, errors=e) for e in ("satisficer", "add", "symmetric", "swap", "anchor")),
    *(_vary(_A, model=m) for m in ("strong", "weak", "useless", "overconfident", "vote")),
    _B,
    *(_vary(_B, model=m) for m in ("strong", "weak", "useless", "vote")),
    *(_vary(_B, k=k) for k in (5, 100)),
    _vary(_B, per_task=3),
    _vary(_B, skew=0.0),
    Regime(
        "single add-only",
        "corner",
        topics=False,
        per_task=1,
        errors="add",
        cleanlab_equal=True,
    ),
    Regime(
        "single swaps",
        "corner",
        topics=False,
        per_task=1,
        errors="swap",
        cleanlab_equal=True,
    ),
    Regime(
        "single satisficer K=50", "corner", k=50, cardinality=3.0, per_task=1, errors="satisficer"
    ),
    Regime(
        "r=2 satisficers useless model", "corner", per_task=2, errors="satisficer", model="useless"
    ),
    Regime("r=15 weak model", "corner", per_task=15, model="weak"),
    Regime("r=15 useless model", "corner", per_task=15, model="useless"),
    Regime(
        "r=5 K=100 card=5 vote model", "corner", k=100, cardinality=5.0, per_task=5, model="vote"
    ),
    Regime(
        "r=3 add-only K=50 vote model", "corner", k=50, cardinality=3.0, errors="add", model="vote"
    ),
)


# -- truth ----------------------------------------------------------------------------------------


def class_weights(k: int, skew: float, rng: np.random.Generator) -> np.ndarray:
    rank = rng.permutation(k)
    return (rank + 1.0) ** -skew


def draw_truth(n: int, r: Regime, weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    k = r.k
    size = np.minimum(1 + rng.poisson(max(r.cardinality - 1.0, 0.0), n), k)
    logw = np.log(np.broadcast_to(weights, (n, k))).copy()
    if r.topics and k > TOPIC_SIZE:
        topic = rng.integers(0, -(-k // TOPIC_SIZE), n)
        inside = (np.arange(k)[None, :] // TOPIC_SIZE) == topic[:, None]
        logw += np.log1p(TOPIC_BOOST * inside)
    keys = logw + rng.gumbel(size=(n, k))
    order = np.argsort(-keys, axis=1)
    truth = np.zeros((n, k), dtype=bool)
    rows = np.repeat(np.arange(n), size)
    cols = order[rows, np.concatenate([np.arange(s) for s in size])]
    truth[rows, cols] = True
    return truth


# -- annotators -----------------------------------------------------------------------------------


def _spread(lo: float, hi: float, m: int) -> np.ndarray:
    return np.linspace(lo, hi, m) if m > 1 else np.array([(lo + hi) / 2])


def _careless(name: str, level: float) -> Annotator:
    return Annotator(name, swap=0.5 * level, drop=level, add=1.5 * level, satisfice=0.1)


def pool(errors: str, m: int, cardinality: float) -> tuple[list[Annotator], list[list[int]]]:
    """``m`` annotators of one error type at spread-out intensities, and the groups a task's
    annotators are drawn from in turn (one group: any ``per_task`` distinct annotators)."""
    if errors == "satisficer":
        people = [Annotator(f"sat{j}", satisfice=s) for j, s in enumerate(_spread(0.2, 0.9, m))]
    elif errors == "add":
        people = [Annotator(f"add{j}", add=a) for j, a in enumerate(_spread(0.05, 0.8, m))]
    elif errors == "symmetric":
        people = [
            Annotator(f"sym{j}", drop=d, add=d * cardinality)
            for j, d in enumerate(_spread(0.03, 0.3, m))
        ]
    elif errors == "swap":
        people = [Annotator(f"swap{j}", swap=s) for j, s in enumerate(_spread(0.05, 0.45, m))]
    elif errors == "anchor":
        people = [Annotator(f"anc{j}", anchor=a) for j, a in enumerate(_spread(0.05, 0.4, m))]
    elif errors == "mixed":
        third = max(m // 3, 1)
        people = [Annotator(f"sat{j}", satisfice=s) for j, s in enumerate(_spread(0.4, 0.8, third))]
        people += [_careless(f"care{j}", c) for j, c in enumerate(_spread(0.08, 0.2, third))]
        people += [
            Annotator(f"good{j}", swap=0.01, drop=0.02, add=0.02 + 0.01 * j)
            for j in range(m - 2 * third)
        ]
    elif errors == "sat+careless":
        half = m // 2
        people = [Annotator(f"sat{j}", satisfice=s) for j, s in enumerate(_spread(0.5, 0.9, half))]
        people += [_careless(f"care{j}", c) for j, c in enumerate(_spread(0.1, 0.25, m - half))]
        return people, [list(range(half)), list(range(half, m))]
    else:
        raise ValueError(f"unknown error type {errors!r}")
    return people, [list(range(len(people)))]


def _single(errors: str, cardinality: float) -> Annotator:
    """The one annotator of a single-annotator cell: the middle of the error type's pool."""
    if errors in ("mixed", "sat+careless"):
        return Annotator("annotator", satisfice=0.3, drop=0.05, add=0.15, swap=0.05)
    people, _ = pool(errors, 5, cardinality)
    return replace(people[2], name="annotator")


def _assign(n: int, r: int, groups: list[list[int]], rng: np.random.Generator) -> np.ndarray:
    """(n, r) distinct annotator indices per task: the first from group 0, the next from group
    1, ... in turn, then any."""
    everyone = sorted({j for g in groups for j in g})
    out = np.empty((n, r), dtype=np.int64)
    for i in range(n):
        chosen: list[int] = []
        for slot in range(r):
            group = groups[slot] if slot < len(groups) else everyone
            free = [j for j in group if j not in chosen] or [j for j in everyone if j not in chosen]
            chosen.append(int(free[rng.integers(len(free))]))
        out[i] = chosen
    return out


def annotate(
    truth: np.ndarray,
    who: Annotator,
    weights: np.ndarray,
    partner: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """One annotator's label sets of ``truth`` (its tasks, in the order it labelled them)."""
    labels = truth.copy()
    n, k = labels.shape
    for i in np.flatnonzero(rng.random(n) < who.swap):
        on = np.flatnonzero(labels[i])
        if len(on):
            c = rng.choice(on)
            labels[i, c] = False
            target = (
                partner[c] if not labels[i, partner[c]] else rng.choice(np.flatnonzero(~labels[i]))
            )
            labels[i, target] = True
    for i in np.flatnonzero(rng.random(n) < who.satisfice):
        on = np.flatnonzero(labels[i])
        if len(on) > 1:
            labels[i] = False
            labels[i, rng.choice(on)] = True
    if who.drop:
        before = labels.copy()
        labels &= rng.random((n, k)) >= who.drop
        for i in np.flatnonzero(before.any(axis=1) & ~labels.any(axis=1)):
            labels[i, rng.choice(np.flatnonzero(before[i]))] = True
    if who.add:
        free = np.where(labels, 0.0, weights[None, :])
        chance = who.add * free / np.maximum(free.sum(axis=1, keepdims=True), 1e-12)
        labels |= rng.random((n, k)) < np.minimum(chance, 1.0)
    if who.anchor:
        for i in np.flatnonzero(rng.random(n) < who.anchor):
            if i > 0:
                labels[i] = labels[i - 1]
    if who.spam:
        _spam(labels, who.spam, weights, truth.sum(axis=1), rng)
    return labels


def _spam(
    labels: np.ndarray,
    rate: float,
    weights: np.ndarray,
    sizes: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """Replace a ``rate`` share of the rows (in place) by random sets of the true sets' sizes."""
    k = labels.shape[1]
    logw = np.log(weights)
    for i in np.flatnonzero(rng.random(len(labels)) < rate):
        keys = logw + rng.gumbel(size=k)
        labels[i] = False
        labels[i, np.argsort(-keys)[: max(int(sizes[i]), 1)]] = True


def simulate(
    truth: np.ndarray,
    errors: str,
    per_task: int,
    weights: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Annotations of ``truth`` by a pool of annotators of type ``errors``, ``per_task`` of
    them per task (one annotator labels everything when ``per_task`` is 1). ``weights`` (K,)
    drive the spurious labels. Returns ``task`` (A,), annotator names (A,), ``labels`` (A, K)."""
    n, k = truth.shape
    cardinality = float(truth.sum(axis=1).mean())
    perm = rng.permutation(k)
    partner = np.empty(k, dtype=np.int64)
    partner[perm] = np.roll(perm, 1)  # a cycle: nobody is their own partner
    if per_task == 1:
        labels = annotate(truth, _single(errors, cardinality), weights, partner, rng)
        return np.arange(n), np.full(n, "annotator", dtype=object), labels
    m = 20 if per_task >= 15 else 9
    people, groups = pool(errors, m, cardinality)
    chosen = _assign(n, per_task, groups, rng)
    tasks, names, rows = [], [], []
    for j, person in enumerate(people):
        mine = np.flatnonzero((chosen == j).any(axis=1))  # in task order: its labelling order
        if len(mine) == 0:
            continue
        tasks.append(mine)
        names.append(np.full(len(mine), person.name, dtype=object))
        rows.append(annotate(truth[mine], person, weights, partner, rng))
    return np.concatenate(tasks), np.concatenate(names), np.vstack(rows)


# -- models ---------------------------------------------------------------------------------------


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(q) - np.log1p(-q)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def synthetic_model(truth: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Calibrated-by-construction probabilities of quality ``kind`` (module docstring)."""
    prior = _logit(np.clip(truth.mean(axis=0), 1e-3, 1 - 1e-3))[None, :]
    if kind == "useless":
        return _sigmoid(prior + rng.normal(0.0, 0.5, truth.shape))
    d = MODEL_DPRIME["medium" if kind == "overconfident" else kind]
    return graded_model(truth, d, rng, sharpen=OVERCONFIDENCE if kind == "overconfident" else 1.0)


def graded_model(
    truth: np.ndarray, dprime: float, rng: np.random.Generator, sharpen: float = 1.0
) -> np.ndarray:
    """P(class present) (n, K) of separation ``dprime``, calibrated when ``sharpen`` is 1; its
    log-odds multiplied by ``sharpen`` otherwise (> 1 over-, < 1 underconfident)."""
    prior = _logit(np.clip(truth.mean(axis=0), 1e-3, 1 - 1e-3))[None, :]
    score = dprime * truth + rng.normal(0.0, 1.0, truth.shape)
    z = prior + dprime * score - dprime * dprime / 2
    return _sigmoid(sharpen * z if sharpen != 1.0 else z)


def cv_logistic(
    x: np.ndarray, y: np.ndarray, seed: int, c: float = 1.0, *, scale: bool = True
) -> np.ndarray:
    """Out-of-sample P(class present) (n, K): k-fold one-vs-rest logistic regression, on
    standardized features if ``scale`` (sparse input is scaled without centring); classes with
    fewer than ``FOLDS`` positives (or negatives) get their base rate."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold, cross_val_predict
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    steps: list = [StandardScaler(with_mean=not sparse.issparse(x))] if scale else []
    steps.append(OneVsRestClassifier(LogisticRegression(C=c, max_iter=300)))
    model = make_pipeline(*steps)
    folds = KFold(FOLDS, shuffle=True, random_state=seed)
    target = y.astype(int)
    probs = np.zeros(y.shape)
    live = (target.sum(axis=0) >= FOLDS) & (target.sum(axis=0) <= len(y) - FOLDS)
    probs[:, ~live] = target[:, ~live].mean(axis=0)  # too rare to learn: the base rate
    if live.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a class absent from a training fold is fine
            out = cross_val_predict(model, x, target[:, live], cv=folds, method="predict_proba")
        probs[:, live] = out
    return np.asarray(probs, dtype=np.float64)


def majority_vote(
    task: np.ndarray, labels: np.ndarray, n: int, pred_probs: np.ndarray | None = None
) -> np.ndarray:
    """(n, K) bool: present when more than half the task's annotators say so; ties go to the
    model (``p >= 0.5``) when given, else to present."""
    votes = np.zeros((n, labels.shape[1]))
    np.add.at(votes, task, labels.astype(np.float64))
    counts = np.bincount(task, minlength=n)[:, None]
    tie = (2 * votes == counts) & (counts > 0)
    broken = pred_probs >= 0.5 if pred_probs is not None else np.ones_like(tie)
    return (2 * votes > counts) | (tie & broken)


def vote_model(
    truth: np.ndarray, task: np.ndarray, labels: np.ndarray, rng: np.random.Generator, seed: int
) -> np.ndarray:
    n, k = truth.shape
    d = min(k + 8, 64)
    w = rng.normal(0.0, 1.0, (k, d))
    x = truth @ w + rng.normal(0.0, 2.5, (n, d))
    vote = majority_vote(task, labels, n)
    return cv_logistic(x, vote, seed, c=0.1)


def generate(r: Regime, n: int, seed: int) -> Labelled:
    """The data of regime ``r`` with ``n`` tasks, deterministic in ``seed``."""
    rng = rng_for(seed, r.name)
    weights = class_weights(r.k, r.skew, rng)
    truth = draw_truth(n, r, weights, rng)
    task, who, labels = simulate(truth, r.errors, r.per_task, weights, rng)
    if r.model == "vote":
        probs = vote_model(truth, task, labels, rng, seed)
    else:
        probs = synthetic_model(truth, r.model, rng)
    names = [f"c{j}" for j in range(r.k)]
    return Labelled(truth, probs, task, who, labels, names)
