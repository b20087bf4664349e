"""The classifier's fitted feature columns, applied to a few messages at a time without
scikit-learn's per-call overhead.

Rasa classifies one message per turn. For one message, `ColumnTransformer.transform` spent
most of its 3.5 ms in machinery around the arithmetic: joblib's dispatch, fitted-state checks,
and `TfidfVectorizer.idf_`, which rebuilds its vector from a sparse diagonal matrix on every
call (py-spy under bench/latency.py: 19% of the Rasa server's time). `MessageFeatures` reads the
fitted vocabularies and weights once and computes the same matrix — counts of the analyzer's
terms, sublinear tf, idf, l2 norm, block weight, blocks side by side — in about a tenth of the time.
`tests/test_nlu_components.py` checks it against scikit-learn's own transform.
"""
from __future__ import annotations

import collections
import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, Sequence

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class _Block:
    column: int  # which input column the vectorizer reads
    analyze: Callable[[str], list]
    vocabulary: Dict[str, int]
    idf: np.ndarray
    sublinear_tf: bool
    weight: float
    offset: int  # where the block's features start in the stacked row


class MessageFeatures:
    """`transform(rows)` equals `column_transformer.transform(rows)` for a fitted
    ColumnTransformer of TfidfVectorizers with l2 norm (what `NgramIntentClassifier` builds)."""

    def __init__(self, column_transformer: Any) -> None:
        weights = column_transformer.transformer_weights or {}
        self.blocks: list[_Block] = []
        offset = 0
        for name, vectorizer, column in column_transformer.transformers_:
            if name == "remainder":
                continue
            if vectorizer.norm != "l2" or vectorizer.binary or not vectorizer.use_idf:
                raise ValueError(f"feature block {name!r}: only l2-normed tf-idf counts are supported")
            self.blocks.append(_Block(
                column=column, analyze=vectorizer.build_analyzer(), vocabulary=vectorizer.vocabulary_,
                idf=np.asarray(vectorizer.idf_, dtype=np.float64), sublinear_tf=vectorizer.sublinear_tf,
                weight=float(weights.get(name, 1.0)), offset=offset,
            ))
            offset += len(vectorizer.vocabulary_)
        self.width = offset

    def transform(self, rows: Sequence[Sequence[Any]]) -> sp.csr_matrix:
        indptr, indices, values = [0], [np.empty(0, dtype=np.int64)], [np.empty(0)]
        for row in rows:
            length = 0
            for block in self.blocks:
                columns, data = self._block_row(block, row[block.column])
                indices.append(columns + block.offset)
                values.append(data)
                length += len(columns)
            indptr.append(indptr[-1] + length)
        return sp.csr_matrix((np.concatenate(values), np.concatenate(indices), indptr), shape=(len(rows), self.width))

    @staticmethod
    def _block_row(block: _Block, document: str) -> tuple[np.ndarray, np.ndarray]:
        counts = collections.Counter(j for j in map(block.vocabulary.get, block.analyze(document)) if j is not None)
        if not counts:
            return np.empty(0, dtype=np.int64), np.empty(0)
        columns = np.fromiter(sorted(counts), dtype=np.int64, count=len(counts))
        tf = np.array([counts[j] for j in columns], dtype=np.float64)
        if block.sublinear_tf:
            tf = np.log(tf) + 1.0
        data = tf * block.idf[columns]
        norm = math.sqrt(float(np.dot(data, data)))
        if norm > 0:
            data /= norm
        return columns, data * block.weight
