"""Features of Label Studio tasks for the model: images, texts, precomputed embeddings.

* :mod:`.images`: :func:`image_features` (fetch, hash, decode, embed in batches, cache);
* :mod:`.embedders` and :mod:`.descriptors`: the embedder registry (:func:`find_embedder`,
  :func:`find_text_embedder`, :func:`available_embedders`), the weight-free descriptors and
  optional torch networks; :mod:`.pretrained`: EfficientNet-Lite0 and MiniLM from the ``embed``
  extra, run by onnxruntime;
* :mod:`.texts`: TF-IDF (:func:`text_features`); :mod:`.sentences`: sentence embeddings beside it;
  :mod:`.precomputed`: embeddings from a data field or a file, another model's predictions as
  probabilities;
* :mod:`.cache`: :class:`FeatureCache` (SQLite: reference -> content hash -> vector);
* :mod:`.feature_set`: the result type :class:`FeatureSet` and the standardization it carries;
* :mod:`.tasks`: :func:`task_features`, the source that fits a project;
* :mod:`.extractor`: :class:`Extractor`, that source recorded, to encode new tasks the same way;
* :mod:`.windows`: features of image windows for the box detector (not re-exported here).
"""

from ls_cleanlab.features.cache import FeatureCache
from ls_cleanlab.features.embedders import (
    TEXT_EMBEDDERS,
    DescriptorEmbedder,
    EfficientNetLite0Embedder,
    ImageEmbedder,
    SentenceEmbedder,
    available_embedders,
    check_embedder_name,
    find_embedder,
    find_text_embedder,
)
from ls_cleanlab.features.extractor import Extractor
from ls_cleanlab.features.feature_set import FeatureSet, Scaling, standardize
from ls_cleanlab.features.images import image_features
from ls_cleanlab.features.precomputed import field_embeddings, load_embeddings, prediction_probs
from ls_cleanlab.features.pretrained import MiniLMEmbedder
from ls_cleanlab.features.sentences import sentence_vectors, text_and_sentence_features
from ls_cleanlab.features.tasks import task_features
from ls_cleanlab.features.texts import TextEncoder, text_features

__all__ = [
    "TEXT_EMBEDDERS",
    "DescriptorEmbedder",
    "EfficientNetLite0Embedder",
    "Extractor",
    "FeatureCache",
    "FeatureSet",
    "ImageEmbedder",
    "MiniLMEmbedder",
    "Scaling",
    "SentenceEmbedder",
    "TextEncoder",
    "available_embedders",
    "check_embedder_name",
    "field_embeddings",
    "find_embedder",
    "find_text_embedder",
    "image_features",
    "load_embeddings",
    "prediction_probs",
    "sentence_vectors",
    "standardize",
    "task_features",
    "text_and_sentence_features",
    "text_features",
]
