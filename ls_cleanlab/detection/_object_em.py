"""The EM of the object model of :mod:`.consensus`: its votes, rates, steps and priors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "CROWDING",
    "DETECTOR_BIN_EDGES",
    "SPURIOUS_PRIOR",
    "SPURIOUS_UNDETECTED",
    "detector_bins",
    "detector_is_reliable",
    "fit",
    "votes_of",
]

#: Confidence bins of the detector's evidence: bin 0 is "no detector box", then
#: [0, .25), [.25, .5), [.5, .75), [.75, .9), [.9, .95), [.95, 1].
DETECTOR_BIN_EDGES = (0.25, 0.5, 0.75, 0.9, 0.95)


def detector_bins(confidence: np.ndarray) -> np.ndarray:
    """(C,) bin of each candidate's detector confidence; 0 where it is NaN (no box)."""
    bins = np.searchsorted(np.array(DETECTOR_BIN_EDGES), np.nan_to_num(confidence), side="right")
    return np.where(np.isnan(confidence), 0, bins + 1)


@dataclass(frozen=True, eq=False)
class Votes:
    """What the object model reads: who drew each candidate and the detector's bin."""

    drew: np.ndarray  # (C, A) bool
    saw: np.ndarray  # (C, A) bool
    bins: np.ndarray  # (C,) int
    n_bins: int
    sole: np.ndarray  # (C,) the only voter, -1 with zero or several votes
    n_votes: np.ndarray  # (C,)
    images_seen: np.ndarray  # (A,) images each annotator annotated
    n_images: int
    untold: np.ndarray  # (C,) drawn alone where the votes cannot tell it from a miss
    untold_rate: np.ndarray  # (A,) such boxes per such image of each annotator
    reliable: bool  # the detector passed detector_is_reliable
    measured: np.ndarray  # (C,) lone boxes that measure the spurious rates
    measured_images: np.ndarray  # (A,) images each annotator annotated where they do
    stratum: np.ndarray  # (C,) how crowded the candidate's image is (:data:`CROWDING`)
    stratum_images: np.ndarray  # (S,) images in each stratum
    image: np.ndarray | None  # (C,) each candidate's image, when known


@dataclass(frozen=True, eq=False)
class Params:
    mu: np.ndarray  # (S,) per stratum of crowding
    recall: np.ndarray  # (S, A)
    overall_recall: np.ndarray  # (A,)
    spurious: np.ndarray  # (A,)
    false_det: float
    phi_real: np.ndarray
    phi_spurious: np.ndarray
    phi_false: np.ndarray


#: Prior of each annotator's spurious boxes per image: mean, and weight as a share of the
#: images where its lone boxes measure them, plus one (a Gamma prior; :func:`_m_step`).
SPURIOUS_PRIOR = (0.01, 0.1)

#: Prior share of annotators' spurious boxes that no detector box supports (with the weight of
#: :data:`SPURIOUS_PRIOR`, as boxes): a box on nothing rarely meets a detection.
SPURIOUS_UNDETECTED = 1.0


def _hidden(p: Params, v: Votes) -> np.ndarray:
    """(C,) real objects like each candidate that nobody drew nor detected, per visible one."""
    recall = p.recall[v.stratum]
    missed = np.exp((v.saw * np.log1p(-recall)).sum(axis=1)) * p.phi_real[0]
    return missed / (1 - missed)


def _m_step(q: np.ndarray, v: Votes, hidden: np.ndarray | None = None) -> Params:
    """Rates and probabilities implied by the posteriors ``q`` (Laplace-smoothed; spurious
    rates shrunk toward :data:`SPURIOUS_PRIOR`); ``hidden`` real objects per candidate that
    nobody saw count as missed by everyone who saw the image."""
    mean, weight_share = SPURIOUS_PRIOR
    weight = weight_share * v.measured_images + 1
    mass = q if hidden is None else q * (1 + hidden)
    each = np.ones_like(q) if v.image is None else _capped(mass, v.image, v.n_images)
    found = (q * each)[:, None] * v.saw * v.drew
    real = (mass * each)[:, None] * v.saw
    overall = (found.sum(0) + 1) / (real.sum(0) + 2)
    # recall by crowding, shrunk toward the annotator's overall recall
    strata = np.zeros((len(v.stratum_images), len(overall)))
    np.add.at(strata, v.stratum, found)
    seen = np.zeros_like(strata)
    np.add.at(seen, v.stratum, real)
    alone = v.sole >= 0
    measured = alone & v.measured
    spurious = np.bincount(v.sole[measured], 1 - q[measured], v.drew.shape[1])
    false_det = v.n_votes == 0
    # the detector's profile on real objects, from the candidates annotators drew: the ones only
    # the detector found are chosen by having a detector box
    drawn = v.n_votes >= 1
    real_bins = np.bincount(v.bins[drawn], q[drawn], v.n_bins) + 1
    direct = alone & ~v.untold
    spur_bins = np.bincount(v.bins[direct], 1 - q[direct], v.n_bins) + 1
    spur_bins[0] += SPURIOUS_UNDETECTED * weight_share * v.n_images
    det_bins = np.bincount(v.bins[false_det], 1 - q[false_det], v.n_bins) + 1
    det_bins[0] = 0.0  # a false detection always has a box
    return Params(
        mu=(np.bincount(v.stratum, mass, len(v.stratum_images)) + 1) / (v.stratum_images + 1),
        recall=(strata + 2 * overall) / (seen + 2),
        overall_recall=overall,
        spurious=(spurious + mean * weight) / (v.measured_images + weight),
        false_det=float(((1 - q[false_det]).sum() + 0.5) / max(v.n_images, 1)),
        phi_real=real_bins / real_bins.sum(),
        phi_spurious=spur_bins / spur_bins.sum(),
        phi_false=det_bins / max(det_bins.sum(), 1.0),
    )


#: No image weighs more in the recalls than this many times the objects of a busy image (its
#: 95th percentile), and at least :data:`BURST_FLOOR` objects.
BURST_CAP, BURST_FLOOR = 2.0, 10.0


def _capped(mass: np.ndarray, image: np.ndarray, n_images: int) -> np.ndarray:
    """(C,) the weight of each candidate in the recalls: 1, except on an image holding far more
    objects than busy images do, whose candidates share :data:`BURST_CAP` times a busy image's
    worth. One annotator's burst of boxes on one image, taken as objects, otherwise makes every
    other annotator's recall look low there, and then the burst real (sloppy p = 1e-59 for a
    careful annotator that drew 5 of 205 "objects")."""
    per_image = np.bincount(image, mass, n_images)
    busy = float(np.percentile(per_image, 95)) if n_images else 0.0
    cap = max(BURST_CAP * busy, BURST_FLOOR)
    return np.minimum(1.0, cap / np.maximum(per_image[image], 1e-12))


def _e_step(p: Params, v: Votes) -> np.ndarray:
    recall = p.recall[v.stratum]
    pattern = v.saw * np.where(v.drew, np.log(recall), np.log1p(-recall))
    log_real = np.log(p.mu[v.stratum]) + pattern.sum(axis=1) + np.log(p.phi_real[v.bins])
    with np.errstate(divide="ignore"):
        log_spurious = np.where(
            v.sole >= 0,
            np.log(np.append(p.spurious, 1.0)[v.sole]) + np.log(p.phi_spurious[v.bins]),
            np.where(v.n_votes == 0, np.log(p.false_det) + np.log(p.phi_false[v.bins]), -np.inf),
        )
    if v.untold.any():
        # the votes cannot tell these from the others' misses: of an annotator's such boxes per
        # image, its spurious rate is spurious and the rest real, and only a reliable detector
        # says which are which
        who = v.sole[v.untold]
        spurious = p.spurious[who]
        real = np.maximum(v.untold_rate[who] - spurious, 1e-12)
        bins = v.bins[v.untold]
        log_real[v.untold] = np.log(real) + v.reliable * np.log(p.phi_real[bins])
        log_spurious[v.untold] = np.log(spurious) + v.reliable * np.log(p.phi_spurious[bins])
    return 1 / (1 + np.exp(np.clip(log_spurious - log_real, -700, 700)))


#: Strata of crowding, by the number of other candidates some annotator drew on the image: none,
#: 1, 2 or 3, 4 or more. A satisficer's recall falls with it, and pooled over images its misses
#: look correlated: objects drawn together on sparse images make recall look high and the lone
#: boxes of crowded images spurious.
CROWDING = (1, 2, 4)


#: A detector tells real boxes from spurious ones when it has a box on at least this share of
#: the candidates known to be real (two or more annotators drew them, or gold says so), and
#: there are at least ``RELIABLE_MIN`` of them.
RELIABLE_RECALL, RELIABLE_MIN = 0.5, 20


def detector_is_reliable(bins: np.ndarray, n_votes: np.ndarray, known: np.ndarray | None) -> bool:
    """Whether the detector finds the objects the annotators agree on (or gold holds)."""
    sure = n_votes >= 2
    if known is not None:
        sure = np.where(np.isnan(known), sure, known == 1)
    n_sure = int(sure.sum())
    return n_sure >= RELIABLE_MIN and float(np.mean(bins[sure] >= 1)) >= RELIABLE_RECALL


def votes_of(
    drew: np.ndarray,
    saw: np.ndarray,
    bins: np.ndarray,
    images_seen: np.ndarray,
    n_images: int,
    known: np.ndarray | None,
    checked: np.ndarray | None,
    image: np.ndarray | None,
) -> Votes:
    n_votes = drew.sum(axis=1)
    if image is None:
        stratum, stratum_images = np.zeros(len(n_votes), dtype=np.int64), np.array([n_images])
    else:
        # the other drawn candidates of the image: not counting the candidate itself keeps a
        # spurious box from making its own image look crowded
        crowd = np.bincount(image[n_votes >= 1], minlength=n_images)[image] - (n_votes >= 1)
        stratum = np.searchsorted(np.array(CROWDING), crowd, side="right")
        # an image with n drawn candidates is a 1/n share of an image in each one's stratum
        share = np.where(n_votes >= 1, 1 / (crowd + 1), 0.0)
        stratum_images = np.bincount(stratum, share, len(CROWDING) + 1)
        stratum_images[0] += n_images - len(np.unique(image[n_votes >= 1]))
    sole = np.where(n_votes == 1, drew.argmax(axis=1) if drew.size else 0, -1)
    seen = np.asarray(images_seen, dtype=np.float64)
    # lone boxes the votes cannot tell from the others' misses: fewer than three annotators
    # and no gold
    untold = (sole >= 0) & (saw.sum(axis=1) < 3) & (checked is not None)
    if known is not None:
        untold &= np.isnan(known)
    n_untold = seen - (seen if checked is None else np.asarray(checked, dtype=np.float64))
    reliable = detector_is_reliable(bins, n_votes, known)
    return Votes(
        drew=drew,
        saw=saw,
        bins=bins,
        # Without any detector evidence the detector terms must cancel: one bin.
        n_bins=1 if not bins.any() else len(DETECTOR_BIN_EDGES) + 2,
        sole=sole,
        n_votes=n_votes,
        images_seen=seen,
        n_images=n_images,
        untold=untold,
        untold_rate=np.bincount(sole[untold], minlength=drew.shape[1]) / np.maximum(n_untold, 1),
        reliable=reliable,
        measured=np.ones_like(untold) if reliable else ~untold,
        measured_images=seen if reliable else seen - n_untold,
        stratum=stratum,
        stratum_images=stratum_images.astype(np.float64),
        image=image,
    )


def fit(
    votes: Votes,
    detector_confidence: np.ndarray,
    max_iter: int,
    tol: float,
    known: np.ndarray | None = None,
) -> tuple[np.ndarray, Params, int]:
    def hold(q: np.ndarray) -> np.ndarray:
        return q if known is None else np.where(np.isnan(known), q, known)

    # drawn boxes start as real: with two annotators a box one of them drew alone is a real
    # object the other missed or a spurious box, which the votes cannot tell apart, and
    # starting from "undecided" let EM settle on "every lone box is spurious"
    q = np.where(votes.n_votes >= 1, 1.0, np.nan_to_num(detector_confidence))
    q = hold(q)
    params = _m_step(q, votes)
    iterations = 0
    while iterations < max_iter and len(q):
        iterations += 1
        new = hold(_e_step(params, votes))
        params = _m_step(new, votes, _hidden(params, votes))
        done = float(np.max(np.abs(new - q))) < tol
        q = new
        if done:
            break
    return q, params, iterations
