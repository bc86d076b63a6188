"""cleanlab's ``get_label_quality_multiannotator`` input and output format, on our internals.

Private module; :func:`multiannotator_quality` is public through :mod:`ls_cleanlab.annotators`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal, get_args

import numpy as np

from ls_cleanlab.annotators import crowdlab as _crowdlab
from ls_cleanlab.annotators.temperature import best_temperature, temperature_scale
from ls_cleanlab.annotators.votes import Votes
from ls_cleanlab.annotators.wide import check_wide, read_wide, wide_votes
from ls_cleanlab.confident.scores import label_quality_scores
from ls_cleanlab.errors import InvalidOptionError
from ls_cleanlab.validation import check_option

__all__ = ["MultiannotatorQuality", "multiannotator_quality"]

ConsensusMethod = Literal["best_quality", "majority_vote"]
CONSENSUS_METHODS: tuple[ConsensusMethod, ...] = get_args(ConsensusMethod)
QualityMethod = Literal["crowdlab", "agreement"]
QUALITY_METHODS: tuple[QualityMethod, ...] = get_args(QualityMethod)


@dataclass(frozen=True)
class MultiannotatorQuality(Mapping[str, Any]):
    """What cleanlab's ``get_label_quality_multiannotator`` returns, typed.

    Also readable as the dict cleanlab returns (``result["label_quality"]``, ``dict(result)``):
    the keys are the fields that were requested (not None).
    """

    label_quality: Any  # pandas.DataFrame, (N, 4+) rows per example
    detailed_label_quality: Any = None  # pandas.DataFrame (N, M) or None
    annotator_stats: Any = None  # pandas.DataFrame (M, 4) or None
    model_weight: float | None = None
    annotator_weight: np.ndarray | None = None

    def _present(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]

    def __getitem__(self, key: str) -> Any:
        if key not in self._present():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._present())

    def __len__(self) -> int:
        return len(self._present())


def multiannotator_quality(
    labels_multiannotator: Any,
    pred_probs: Any,
    *,
    consensus_method: str | list[str] = "best_quality",
    quality_method: QualityMethod = "crowdlab",
    calibrate_probs: bool = False,
    return_detailed_quality: bool = True,
    return_annotator_stats: bool = True,
    return_weights: bool = False,
    verbose: bool = True,
    label_quality_score_kwargs: dict[str, Any] | None = None,
) -> MultiannotatorQuality:
    """Single-label consensus and annotator quality in cleanlab's format, with its results.

    Equals ``cleanlab.multiannotator.get_label_quality_multiannotator`` (2.9.0) for the same
    arguments: same DataFrames, columns, index, order and values (bit-equal, except means over
    eight or more annotators in one tie-break, which can differ in the last bit). Where cleanlab
    breaks a leftover tie at random we take the lowest class; where it prints, we don't
    (``verbose`` is accepted and ignored). With a list of consensus methods the frames describe
    the first and ``return_weights`` gives the last one's weights, as cleanlab does. An invalid
    ``label_quality_score_kwargs`` (``adjust_pred_probs`` with ``confidence_weighted_entropy``)
    is refused even where cleanlab never uses it (``quality_method="agreement"`` without
    ``return_detailed_quality``) and would not notice.

    Parameters
    ----------
    labels_multiannotator : ndarray or pandas.DataFrame of shape (N, M)
        Class index given by annotator ``m`` to example ``n``, NaN where it gave none. Column
        names of a DataFrame are the annotator ids.
    pred_probs : ndarray of shape (N, K)
    consensus_method : {"best_quality", "majority_vote"} or a list of them
    quality_method : {"crowdlab", "agreement"}
    calibrate_probs, return_detailed_quality, return_annotator_stats, return_weights, verbose,
    label_quality_score_kwargs
        As in cleanlab.

    Returns
    -------
    MultiannotatorQuality
        Also a read-only mapping like cleanlab's dict.
    """
    labels, ids, index = read_wide(labels_multiannotator)
    methods = _check_methods(consensus_method, quality_method, return_weights)
    quality_method = check_option(quality_method, QUALITY_METHODS, "quality_method")
    probs = check_wide(labels, pred_probs, ids)
    votes = wide_votes(labels, probs.shape[1])
    if calibrate_probs:
        probs = temperature_scale(probs, best_temperature(votes, probs))
    by_method = consensus_by_method(
        votes, probs, methods, quality_method, label_quality_score_kwargs
    )
    main = by_method[methods[0]]
    out: dict[str, Any] = {"label_quality": _label_quality(votes, by_method, methods, index)}
    out.update(
        quality_frames(
            votes,
            main,
            quality_method,
            (index, ids),
            detailed=return_detailed_quality,
            annotators=return_annotator_stats,
        )
    )
    if return_weights:
        # cleanlab returns the weights of the last method listed (its loop's last values),
        # while its frames describe the first
        last = by_method[methods[-1]]
        out["model_weight"] = last.model_weight
        out["annotator_weight"] = last.annotator_weight
    return MultiannotatorQuality(**out)


def quality_frames(
    votes: Votes,
    stats: _crowdlab.ConsensusStats,
    quality_method: str,
    names: tuple[Any, Any],
    *,
    detailed: bool,
    annotators: bool,
) -> dict[str, Any]:
    """cleanlab's ``detailed_label_quality`` and ``annotator_stats`` frames, those asked for;
    ``names`` the row index and annotator ids (or None)."""
    import pandas as pd

    index, ids = names
    out: dict[str, Any] = {}
    scores = np.full((votes.n_annotators, votes.n_units), np.nan).T  # cleanlab's memory layout
    scores[votes.task, votes.annotator] = stats.label_quality
    if detailed:
        out["detailed_label_quality"] = pd.DataFrame(scores, index=index, columns=ids).add_prefix(
            "quality_annotator_"
        )
    if annotators:
        out["annotator_stats"] = annotator_stats_frame(
            votes, stats, quality_method, scores if detailed else None, ids
        )
    return out


def _check_methods(
    consensus_method: str | list[str], quality_method: str, return_weights: bool
) -> list[str]:
    """The consensus methods asked for, checked, with the options that depend on them."""
    methods = consensus_method if isinstance(consensus_method, list) else [consensus_method]
    if not methods:
        raise InvalidOptionError("consensus_method is an empty list; pass 'best_quality'.")
    methods = [check_option(m, CONSENSUS_METHODS, "consensus_method") for m in methods]
    quality_method = check_option(quality_method, QUALITY_METHODS, "quality_method")
    if return_weights and quality_method != "crowdlab":
        raise InvalidOptionError(
            "return_weights=True needs quality_method='crowdlab' (the weights are CROWDLAB's)."
        )
    return methods


def consensus_by_method(
    votes: Votes,
    probs: np.ndarray,
    methods: list[str],
    quality_method: str,
    score_kwargs: dict[str, Any] | None,
) -> dict[str, _crowdlab.ConsensusStats]:
    """CROWDLAB's statistics of the majority-vote consensus, and of the best-quality one when
    asked for (it starts from the first)."""
    kwargs = dict(score_kwargs or {})
    score = None
    if kwargs:

        def score(y: np.ndarray, p: np.ndarray) -> np.ndarray:
            return label_quality_scores(y, p, **kwargs)

    first = _crowdlab.majority(votes, probs)
    by_method = {
        "majority_vote": _crowdlab.consensus_stats(
            votes, probs, first, quality_method, score, packed=True
        )
    }
    if "best_quality" in methods:
        best = _crowdlab.best_quality(first, by_method["majority_vote"].posterior)
        by_method["best_quality"] = _crowdlab.consensus_stats(
            votes, probs, best, quality_method, score, packed=True
        )
    return by_method


def _label_quality(
    votes: Votes, by_method: dict[str, _crowdlab.ConsensusStats], methods: list[str], index: Any
) -> Any:
    """cleanlab's ``label_quality`` frame: the first method's columns, then suffixed ones."""
    import pandas as pd

    main = by_method[methods[0]]
    frame = pd.DataFrame(
        {
            "consensus_label": main.label.astype(int),
            "consensus_quality_score": main.quality,
            "annotator_agreement": main.agreement,
            "num_annotations": votes.count,
        },
        index=index,
    )
    for extra in methods[1:]:
        stats = by_method[extra]
        frame[f"consensus_label_{extra}"] = stats.label.astype(int)
        frame[f"consensus_quality_score_{extra}"] = stats.quality
        frame[f"annotator_agreement_{extra}"] = stats.agreement
    return frame


def annotator_stats_frame(
    votes: Votes,
    stats: _crowdlab.ConsensusStats,
    quality_method: str,
    detailed: np.ndarray | None,
    ids: Any,
) -> Any:
    """cleanlab's ``annotator_stats`` frame for the consensus ``stats`` (sorted worst first);
    ``detailed`` ``(N, M)`` the per-annotation scores when they were computed."""
    import pandas as pd

    # the same reductions as cleanlab, for bit-equal means: nanmean over the (N, M) detailed
    # scores, or np.mean of default self-confidence scores when those were not requested
    if detailed is not None:
        label_scores = np.nanmean(detailed, axis=0)
    else:
        own = stats.posterior[votes.task, votes.class_index()]
        label_scores = np.array([np.mean(own[rows]) for rows in votes.by_annotator()])
    quality = _crowdlab.annotator_quality(votes, stats, quality_method, label_scores)
    m = votes.n_annotators
    y = votes.class_index()
    hit = y == stats.label[votes.task]
    seen = np.bincount(votes.annotator, minlength=m)
    agreement = np.bincount(votes.annotator, weights=hit, minlength=m) / seen
    frame = pd.DataFrame(
        {
            "annotator_quality": quality,
            "agreement_with_consensus": agreement,
            "worst_class": _worst_class(votes, hit, stats.quality),
            "num_examples_labeled": seen,
        },
        index=ids,
    )
    return frame.sort_values(by=["annotator_quality", "agreement_with_consensus"])


def _worst_class(votes: Votes, hit: np.ndarray, quality: np.ndarray) -> np.ndarray:
    """cleanlab's worst class per annotator: lowest accuracy against the consensus, then most
    labels, then highest mean consensus quality, then the lowest class."""
    import pandas as pd

    long = pd.DataFrame(
        {
            "annotator": votes.annotator,
            "label": votes.class_index(),
            "hit": hit,
            "quality": quality[votes.task],
        }
    ).sort_values(["annotator"], kind="stable")
    grouped = long.groupby(["annotator", "label"], sort=True)
    table = pd.DataFrame(
        {
            "accuracy": grouped["hit"].mean(),
            "count": grouped["hit"].count(),
            "quality": grouped["quality"].mean(),
        }
    ).reset_index()
    table = table.sort_values(
        ["annotator", "accuracy", "count", "quality", "label"],
        ascending=[True, True, False, False, True],
        kind="stable",
    )
    best = table.groupby("annotator", sort=True).head(1)
    out = np.zeros(votes.n_annotators, dtype=int)
    out[best["annotator"].to_numpy()] = best["label"].to_numpy()
    return out
