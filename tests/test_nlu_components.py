"""The intent classifier's fast path gives scikit-learn's own numbers."""
from __future__ import annotations

import numpy as np
import yaml

from welcomebot.ngram_features import MessageFeatures
from welcomebot.nlu_components import NgramIntentClassifier
from welcomebot.normalize import normalize
from welcomebot.vocabulary import ConceptMatcher, concepts

from .conftest import ROOT


def _examples(language: str) -> list[tuple[str, str]]:
    data = yaml.safe_load((ROOT / "tests" / "data" / "field_test" / f"{language}.yml").read_text(encoding="utf-8"))
    return [(normalize(line[2:]), block["intent"]) for block in data["nlu"] for line in block["examples"].splitlines() if line.startswith("- ")]


def test_message_features_equal_the_fitted_column_transformer():
    # A small model (two languages' field-test lines), asked about other languages' lines and
    # odd input: text it has never seen, empty text, emoji, mixed scripts, concept words only.
    train = _examples("de") + _examples("ar")
    classifier = NgramIntentClassifier({}, None, None)
    classifier.matcher = ConceptMatcher(concepts())
    pipeline = classifier._new_pipeline().fit(classifier._inputs([t for t, _ in train]), np.array([i for _, i in train]))
    asked = [t for t, _ in _examples("uk") + _examples("tr") + _examples("de")[:20]]
    asked += ["", "🙂🙂", "xyzzy qwrtp", "Jobcenter Термин موعد", "arzt doctor лікар", "a" * 10_000]
    rows = classifier._inputs(asked)

    features = MessageFeatures(pipeline[0])
    ours, theirs = features.transform(rows), pipeline[0].transform(rows)

    assert ours.shape == theirs.shape
    assert abs(ours - theirs).max() < 1e-12
    assert np.allclose(pipeline[-1].predict_proba(ours), pipeline.predict_proba(rows), rtol=0, atol=1e-12)
    assert ours[len(asked) - 6].nnz == 0  # the empty message has no features, and still a row
