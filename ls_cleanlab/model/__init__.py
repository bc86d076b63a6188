"""The model: stratified folds, out-of-sample probabilities, the final model and its store.

* :mod:`.folds`: :func:`stratified_folds`, iterative multi-label stratification;
* :mod:`.classifiers`: the default logistic regressions and user models;
* :mod:`.cross_val`: :func:`out_of_sample_probs`, :func:`best_f1_thresholds`;
* :mod:`.trained`: :func:`train_model` -> :class:`TrainedModel` -> :class:`Preannotations`;
* :mod:`.robust`: :func:`train_noise_robust`, the final model without the labels confident
  learning doubts, iterated while the estimated noise falls;
* :mod:`.store`: :class:`ModelStore`, trained models per project and model version;
* :mod:`.inputs`, :mod:`.persist`: input checks; versioned model files;
* :mod:`.detector`, :mod:`.detector_fit`: the box detector trained inside a project (bounding
  boxes; imported from there, not re-exported here).
"""

from ls_cleanlab.model.classifiers import ProbabilisticClassifier
from ls_cleanlab.model.cross_val import best_f1_thresholds, out_of_sample_probs
from ls_cleanlab.model.folds import stratified_folds
from ls_cleanlab.model.persist import ModelFileError
from ls_cleanlab.model.robust import NoiseRobustFit, train_noise_robust
from ls_cleanlab.model.store import ModelStore
from ls_cleanlab.model.trained import Preannotations, TrainedModel, train_model

__all__ = [
    "ModelFileError",
    "ModelStore",
    "NoiseRobustFit",
    "Preannotations",
    "ProbabilisticClassifier",
    "TrainedModel",
    "best_f1_thresholds",
    "out_of_sample_probs",
    "stratified_folds",
    "train_model",
    "train_noise_robust",
]
