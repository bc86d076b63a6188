"""Random, untuned regimes for the robustness benchmark (``--random N``; issue 14).

The covering design of :mod:`_regimes` varies one factor at a time around two base cells; every
fix was measured there. Here each factor is drawn on its own, from a wider space, so a regime
can land where no fixed cell looks:

* classes ``k`` log-uniform in 3-150; single-label (one class per task, a softmax model) with
  probability :data:`SINGLE_LABEL_SHARE`, else multi-label with mean cardinality 1-6 (at most
  ``k / 2``); prevalence skew 0-2 (Zipf exponent); co-occurrence (topics) on or off;
* tasks log-uniform in 150-3000 (``quick``: at most :data:`QUICK_TASKS`);
* answers per task uneven: a share 0-0.5 of the tasks get one answer, the others
  ``1 + Poisson(r - 1)`` with ``r`` log-uniform in 1-15, capped by the pool;
* a pool of 3-60 workers whose workloads follow a Zipf law of exponent 0-2 (a few workers do
  most tasks at the high end);
* each worker's habit drawn from a mixture whose weights are drawn per regime (Dirichlet):
  careful, satisficer, add-only, symmetric noise, class swaps, anchoring, spammer, copier (copies
  the busiest honest worker's answer where both labelled the task) and a combination of two;
  every strength drawn. In single-label data a worker gives one class: ``drop`` then means a
  uniformly random other class, ``add`` a class drawn by prevalence, ``swap`` the class's fixed
  confusable partner, ``spam`` a random class; satisficing does not exist there;
* the model: graded (separation ``d'`` uniform in 0-4.5, from useless to strong, its log-odds
  multiplied by ``1 / T`` for a temperature ``T`` log-uniform in 0.3-3: over- to
  underconfident), trained on the vote (cross-validated logistic regression on features of the
  truth, as a user's model), or absent.

A regime is a pure function of ``(seed, index)``: :func:`draw` gives its factors (printed by the
benchmark), :func:`generate` its data, so ``--random-seed S --random-only I`` reruns one alone.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import _regimes as regimes
import numpy as np

__all__ = ["QUICK_TASKS", "RandomRegime", "Worker", "ablations", "draw", "generate"]

SINGLE_LABEL_SHARE = 0.35
QUICK_TASKS = 1000
MODEL_KINDS = ("graded", "vote", "absent")
MODEL_SHARES = (0.6, 0.2, 0.2)
HABITS = (
    "careful",
    "satisficer",
    "add-only",
    "symmetric",
    "swap",
    "anchor",
    "spammer",
    "copier",
    "combined",
)
#: Habits a combined worker mixes (two of them).
_COMBINABLE = ("satisficer", "add-only", "symmetric", "swap", "anchor", "spammer")


@dataclass(frozen=True)
class Worker:
    """One simulated worker: its error rates, its habit's name, how often it copies the source
    worker's answer (``copy``) and its share of the workload."""

    who: regimes.Annotator
    habit: str
    copy: float
    load: float


@dataclass(frozen=True)
class RandomRegime:
    """The factors of one random regime (module docstring)."""

    seed: int
    index: int
    k: int
    single_label: bool
    cardinality: float
    skew: float
    topics: bool
    n: int
    per_task: float
    one_answer: float
    concentration: float
    workers: tuple[Worker, ...]
    model: str
    dprime: float
    temperature: float
    removed: str = ""  # the habit or factor an ablation took out (:func:`ablations`)

    @property
    def name(self) -> str:
        base = f"random {self.seed}/{self.index}"
        return f"{base} without {self.removed}" if self.removed else base

    def describe(self) -> str:
        habits: dict[str, int] = {}
        for w in self.workers:
            habits[w.habit] = habits.get(w.habit, 0) + 1
        kind = "single-label" if self.single_label else f"card={self.cardinality:.1f}"
        model = self.model
        if self.model == "graded":
            model = f"graded d'={self.dprime:.2f} T={self.temperature:.2f}"
        return (
            f"K={self.k} {kind} skew={self.skew:.2f} topics={'y' if self.topics else 'n'} "
            f"n={self.n} r~{self.per_task:.1f} one-answer={self.one_answer:.2f} "
            f"pool={len(self.workers)} load-zipf={self.concentration:.2f} habits "
            + ",".join(f"{h}:{c}" for h, c in sorted(habits.items()))
            + f" model={model}"
        )


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _habit(habit: str, rng: np.random.Generator, card: float) -> regimes.Annotator:
    """The error rates of one habit, strengths drawn."""
    u = rng.uniform
    if habit == "careful":
        return regimes.Annotator(habit, swap=u(0, 0.03), drop=u(0, 0.05), add=u(0, 0.05))
    if habit == "satisficer":
        return regimes.Annotator(habit, satisfice=u(0.2, 0.95))
    if habit == "add-only":
        return regimes.Annotator(habit, add=u(0.05, 1.0))
    if habit == "symmetric":
        d = u(0.03, 0.35)
        return regimes.Annotator(habit, drop=d, add=d * card)
    if habit == "swap":
        return regimes.Annotator(habit, swap=u(0.05, 0.5))
    if habit == "anchor":
        return regimes.Annotator(habit, anchor=u(0.05, 0.5))
    if habit == "spammer":
        return regimes.Annotator(habit, spam=u(0.5, 1.0))
    raise ValueError(f"no rates for habit {habit!r}")


def _combined(habits: tuple[str, ...], rng: np.random.Generator, card: float) -> regimes.Annotator:
    a, b = rng.choice(len(habits), 2, replace=False)
    one, two = _habit(habits[a], rng, card), _habit(habits[b], rng, card)
    fields = ("swap", "satisfice", "drop", "add", "anchor", "spam")
    rates = {f: max(getattr(one, f), getattr(two, f)) for f in fields}
    return regimes.Annotator(f"{habits[a]}+{habits[b]}", **rates)


def _workers(rng: np.random.Generator, m: int, single: bool, card: float) -> tuple[Worker, ...]:
    allowed = [h for h in HABITS if not (single and h == "satisficer")]
    mix = rng.dirichlet(np.full(len(allowed), 0.6))
    mix = 0.85 * mix + 0.15 / len(allowed)  # every habit possible, some dominant
    combinable = tuple(h for h in _COMBINABLE if h in allowed)
    out = []
    for j in range(m):
        habit = allowed[rng.choice(len(allowed), p=mix)]
        copy = 0.0
        if habit == "combined":
            who = _combined(combinable, rng, card)
        elif habit == "copier":
            who, copy = _habit("careful", rng, card), rng.uniform(0.5, 1.0)
        else:
            who = _habit(habit, rng, card)
        out.append(Worker(replace(who, name=f"w{j}-{who.name}"), habit, copy, 0.0))
    return tuple(out)


def draw(seed: int, index: int, quick: bool = False) -> RandomRegime:
    """The factors of regime ``index`` under ``seed`` (``quick`` caps the tasks only)."""
    rng = regimes.rng_for(seed, f"random regime {index}")
    k = round(_log_uniform(rng, 3, 150))
    single = bool(rng.random() < SINGLE_LABEL_SHARE)
    card = 1.0 if single else min(rng.uniform(1.0, 6.0), max(k / 2, 1.0))
    skew, topics = rng.uniform(0.0, 2.0), bool(rng.random() < 0.5)
    n = round(_log_uniform(rng, 150, 3000))
    per_task, one_answer = _log_uniform(rng, 1, 15), rng.uniform(0.0, 0.5)
    m = round(_log_uniform(rng, 3, 60))
    concentration = rng.uniform(0.0, 2.0)
    workers = _workers(rng, m, single, card)
    load = rng.permutation(m) + 1.0
    load = load**-concentration / (load**-concentration).sum()
    workers = tuple(replace(w, load=float(s)) for w, s in zip(workers, load, strict=True))
    model = MODEL_KINDS[rng.choice(len(MODEL_KINDS), p=MODEL_SHARES)]
    dprime, temperature = rng.uniform(0.0, 4.5), _log_uniform(rng, 0.3, 3.0)
    return RandomRegime(
        seed=seed,
        index=index,
        k=k,
        single_label=single,
        cardinality=float(card),
        skew=float(skew),
        topics=topics,
        n=min(n, QUICK_TASKS) if quick else n,
        per_task=per_task,
        one_answer=float(one_answer),
        concentration=float(concentration),
        workers=workers,
        model=model,
        dprime=float(dprime),
        temperature=temperature,
    )


def ablations(r: RandomRegime) -> list[RandomRegime]:
    """``r`` with one habit or factor taken out at a time (the same data stream otherwise): a
    miss that goes away without it points at its cause."""

    def without(field: str) -> tuple[Worker, ...]:
        return tuple(replace(w, who=replace(w.who, **{field: 0.0})) for w in r.workers)

    out = [
        replace(r, workers=tuple(replace(w, copy=0.0) for w in r.workers), removed="copying"),
        replace(r, one_answer=0.0, removed="one-answer tasks"),
        replace(r, per_task=max(r.per_task, 3.0), one_answer=0.0, removed="sparse overlap"),
    ]
    for field, label in (
        ("spam", "spam"),
        ("anchor", "anchoring"),
        ("satisfice", "satisficing"),
        ("add", "added labels"),
        ("swap", "swaps"),
    ):
        out.append(replace(r, workers=without(field), removed=label))
    if r.model == "graded" and r.temperature != 1.0:
        out.append(replace(r, temperature=1.0, removed="model miscalibration"))
    return out


# -- data -----------------------------------------------------------------------------------------


def _assign(r: RandomRegime, rng: np.random.Generator) -> list[np.ndarray]:
    """Per task, the distinct workers who answer it (uneven counts, uneven workloads)."""
    m = len(r.workers)
    p = np.array([w.load for w in r.workers])
    counts = np.minimum(1 + rng.poisson(max(r.per_task - 1.0, 0.0), r.n), min(15, m))
    counts[rng.random(r.n) < r.one_answer] = 1
    return [rng.choice(m, c, replace=False, p=p) for c in counts]


def _answer_single(
    truth: np.ndarray, who: regimes.Annotator, weights: np.ndarray, partner: np.ndarray, rng
) -> np.ndarray:
    """One worker's classes (its tasks in order) for true classes ``truth`` (module docstring)."""
    k = len(weights)
    out = truth.copy()
    n = len(out)
    swap = rng.random(n) < who.swap
    out[swap] = partner[out[swap]]
    noise = np.flatnonzero(rng.random(n) < who.drop)
    out[noise] = (out[noise] + rng.integers(1, k, len(noise))) % k
    frequent = rng.random(n) < who.add
    out[frequent] = rng.choice(k, int(frequent.sum()), p=weights / weights.sum())
    for i in np.flatnonzero(rng.random(n) < who.anchor):
        if i > 0:
            out[i] = out[i - 1]
    spam = rng.random(n) < who.spam
    out[spam] = rng.integers(0, k, int(spam.sum()))
    return out


def _annotations(r: RandomRegime, truth: np.ndarray, weights: np.ndarray, rng):
    """Long-form ``task``, worker names and ``labels`` (A, K) bool of the regime's pool."""
    n, k = truth.shape
    perm = rng.permutation(k)
    partner = np.empty(k, dtype=np.int64)
    partner[perm] = np.roll(perm, 1)
    chosen = _assign(r, rng)
    task = np.repeat(np.arange(n), [len(c) for c in chosen])
    code = np.concatenate(chosen)
    labels = np.zeros((len(task), k), dtype=bool)
    for j, w in enumerate(r.workers):
        rows = np.flatnonzero(code == j)  # in task order: the worker's labelling order
        if not len(rows):
            continue
        if r.single_label:
            given = _answer_single(truth[task[rows]].argmax(axis=1), w.who, weights, partner, rng)
            labels[rows, given] = True
        else:
            labels[rows] = regimes.annotate(truth[task[rows]], w.who, weights, partner, rng)
    _copy(r, task, code, labels, rng)
    names = np.array([w.who.name for w in r.workers], dtype=object)[code]
    return task, names, labels


def _copy(r: RandomRegime, task: np.ndarray, code: np.ndarray, labels: np.ndarray, rng) -> None:
    """Copiers take the busiest honest worker's answer (in place) where both did the task."""
    honest = [j for j, w in enumerate(r.workers) if w.copy == 0.0]
    if not honest:
        return
    source = max(honest, key=lambda j: r.workers[j].load)
    row_of = {int(t): i for i, (t, c) in enumerate(zip(task, code, strict=True)) if c == source}
    for j, w in enumerate(r.workers):
        if w.copy == 0.0:
            continue
        for i in np.flatnonzero(code == j):
            src = row_of.get(int(task[i]))
            if src is not None and rng.random() < w.copy:
                labels[i] = labels[src]


def _softmax_model(truth: np.ndarray, r: RandomRegime, rng) -> np.ndarray:
    """Softmax P(class) (n, K): scores ``N(d' [c = y], 1)``, posterior logits ``log pi + d' s``
    (calibrated), divided by the temperature."""
    pi = np.clip(truth.mean(axis=0), 1e-3, None)
    score = r.dprime * truth + rng.normal(0.0, 1.0, truth.shape)
    z = (np.log(pi)[None, :] + r.dprime * score) / r.temperature
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def _softmax_vote_model(truth: np.ndarray, task, labels, rng, seed: int) -> np.ndarray:
    """Cross-validated multinomial logistic regression on features of the truth, trained on the
    plurality vote (ties to the lowest class); classes it never saw get a small floor."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    n, k = truth.shape
    d = min(k + 8, 64)
    x = truth @ rng.normal(0.0, 1.0, (k, d)) + rng.normal(0.0, 2.5, (n, d))
    votes = np.zeros((n, k))
    np.add.at(votes, task, labels.astype(np.float64))
    y = votes.argmax(axis=1)
    seen, y_code = np.unique(y, return_inverse=True)
    probs = np.full((n, k), 1e-4)
    folds = min(regimes.FOLDS, int(np.bincount(y_code).min()))
    if len(seen) > 1 and folds >= 2:
        model = LogisticRegression(C=0.1, max_iter=300)
        cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            probs[:, seen] += cross_val_predict(model, x, y_code, cv=cv, method="predict_proba")
    else:
        probs[:, seen] += np.bincount(y_code) / n
    return probs / probs.sum(axis=1, keepdims=True)


def generate(r: RandomRegime) -> regimes.Labelled:
    """The data of regime ``r``: truth, annotations and the model (None when absent)."""
    rng = regimes.rng_for(r.seed, f"random data {r.index}")
    shape = regimes.Regime(
        f"random {r.seed}/{r.index}", "random", k=r.k, cardinality=r.cardinality, topics=r.topics
    )
    weights = regimes.class_weights(r.k, r.skew, rng)
    truth = regimes.draw_truth(r.n, shape, weights, rng)
    task, who, labels = _annotations(r, truth, weights, rng)
    probs: np.ndarray | None = None
    if r.model == "graded" and r.single_label:
        probs = _softmax_model(truth, r, rng)
    elif r.model == "graded":
        probs = regimes.graded_model(truth, r.dprime, rng, sharpen=1.0 / r.temperature)
    elif r.model == "vote" and r.single_label:
        probs = _softmax_vote_model(truth, task, labels, rng, r.seed)
    elif r.model == "vote":
        probs = regimes.vote_model(truth, task, labels, rng, r.seed)
    return regimes.Labelled(truth, probs, task, who, labels, [f"c{j}" for j in range(r.k)])
