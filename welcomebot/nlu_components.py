"""Rasa pipeline component that applies `welcomebot.normalize.normalize` to every training
example, lookup table and incoming message, before tokenisation.

Putting it in the pipeline (not in the gateway) guarantees that training data and messages are
normalised identically, whichever client talks to Rasa.
"""
from __future__ import annotations

import collections
import json
import logging
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from . import rasa_speedups
from .ngram_features import MessageFeatures
from .normalize import normalize
from .vocabulary import ConceptMatcher, concepts

rasa_speedups.apply()
logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class TextNormalizer(GraphComponent):
    """Rewrites a message's text into its canonical form (see `welcomebot.normalize`)."""

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "TextNormalizer":
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            self._normalize(example)
        for table in training_data.lookup_tables:
            elements = table.get("elements")
            if isinstance(elements, list):
                table["elements"] = sorted({normalize(str(e)) for e in elements} | set(elements))
        training_data.entity_synonyms = {
            **training_data.entity_synonyms,
            **{normalize(k): v for k, v in training_data.entity_synonyms.items()},
        }
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._normalize(message)
        return messages

    @staticmethod
    def _normalize(message: Message) -> None:
        text = message.get(TEXT)
        if not isinstance(text, str) or text.startswith("/"):
            return
        normalized = normalize(text) or text
        # Annotated entities point into the original text: move them to the normalised one,
        # or Rasa learns synonyms from misaligned spans.
        for entity in message.get(ENTITIES) or []:
            span = normalize(text[entity["start"]:entity["end"]])
            start = normalized.find(span)
            if span and start >= 0:
                entity["start"], entity["end"] = start, start + len(span)
        message.set(TEXT, normalized)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class NgramIntentClassifier(GraphComponent):
    """Intent classifier on TF-IDF weighted character and word n-grams with a linear SVM,
    calibrated so that its confidences mean something to the FallbackClassifier.

    A third, lightly weighted feature block holds the domain concepts of `nlu/vocabulary/`
    (`welcomebot.vocabulary`): the Russian, Arabic and German words for a doctor share one
    feature, so what the data teaches in one language reaches the others. Weighted 0.25: at
    full weight the concepts drowned the n-grams and scored lower (docs/nlu-data.md).

    Why not Rasa's own: LogisticRegressionClassifier on raw n-gram counts scored about 4 points
    lower on our held-out data (bench/nlu.py), trained ten times slower and answered slower;
    DIET needs minutes of training per model. Needs no featurizer before it: it reads the
    (normalised) text itself.
    """

    MODEL_FILE = "intent_classifier.skops"
    CONCEPTS_FILE = "concepts.json"

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"C": 1.0, "char_ngram_range": [1, 5], "word_ngram_range": [1, 2], "concept_weight": 0.25,
                "calibration_folds": 3, "ranking_length": 10}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, pipeline: Any = None,
                 matcher: "ConceptMatcher | None" = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage, self._resource = model_storage, resource
        self.pipeline = pipeline
        self.matcher = matcher or ConceptMatcher({})
        self.features = MessageFeatures(pipeline[0]) if pipeline is not None else None

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "NgramIntentClassifier":
        return cls(config, model_storage, resource)

    def _new_pipeline(self) -> Any:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.compose import ColumnTransformer
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import make_pipeline
        from sklearn.svm import LinearSVC

        # Column 0: the normalised text; column 1: its concept tokens (see `_inputs`).
        features = ColumnTransformer([
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(self.config["char_ngram_range"]), sublinear_tf=True), 0),
            ("word", TfidfVectorizer(analyzer="word", ngram_range=tuple(self.config["word_ngram_range"]), sublinear_tf=True,
                                     token_pattern=r"(?u)\b\w+\b"), 0),
            ("concepts", TfidfVectorizer(token_pattern=r"\S+", lowercase=False, sublinear_tf=True), 1),
        ], transformer_weights={"char": 1.0, "word": 1.0, "concepts": self.config["concept_weight"]})
        svm = LinearSVC(C=self.config["C"], class_weight="balanced")
        # ensemble=False: one SVM trained on all data decides; the folds only calibrate its scores.
        calibrated = CalibratedClassifierCV(svm, cv=self.config["calibration_folds"], method="sigmoid", ensemble=False)
        return make_pipeline(features, calibrated)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get("intent") and e.get(TEXT)]
        counts = collections.Counter(e.get("intent") for e in examples)
        too_few = {intent for intent, n in counts.items() if n < self.config["calibration_folds"]}
        if too_few:
            logger.warning("intents with fewer than %d examples are not learnt: %s", self.config["calibration_folds"], sorted(too_few))
            examples = [e for e in examples if e.get("intent") not in too_few]
        if not examples:
            return self._resource
        import numpy as np

        labels = np.array([e.get("intent") for e in examples])  # a list trips CalibratedClassifierCV's class count
        self.matcher = ConceptMatcher(concepts())
        self.pipeline = self._new_pipeline().fit(self._inputs([e.get(TEXT) for e in examples]), labels)
        self.features = MessageFeatures(self.pipeline[0])
        self.persist()
        return self._resource

    def _inputs(self, texts: List[str]) -> Any:
        """Rows of (text, concept tokens) for the feature columns; texts arrive normalised."""
        import numpy as np

        rows = np.empty((len(texts), 2), dtype=object)
        for i, text in enumerate(texts):
            rows[i, 0], rows[i, 1] = text, self.matcher.tokens(text)
        return rows

    def persist(self) -> None:
        import skops.io as sio

        with self._model_storage.write_to(self._resource) as directory:
            sio.dump(self.pipeline, directory / self.MODEL_FILE)
            # The vocabulary travels inside the model: a model answers as it was trained.
            (directory / self.CONCEPTS_FILE).write_text(json.dumps(self.matcher.to_json(), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "NgramIntentClassifier":
        import skops.io as sio

        try:
            with model_storage.read_from(resource) as directory:
                path = directory / cls.MODEL_FILE
                untrusted = sio.get_untrusted_types(file=path)
                # Only scikit-learn, NumPy and SciPy types: anything else means a foreign file.
                if any(not t.startswith(("sklearn.", "numpy.", "scipy.", "builtins.")) for t in untrusted):
                    raise ValueError(f"unexpected types in {path}: {untrusted}")
                terms = json.loads((directory / cls.CONCEPTS_FILE).read_text(encoding="utf-8"))
                rasa_speedups.freeze_heap_once_loaded()
                return cls(config, model_storage, resource, sio.load(path, trusted=untrusted), ConceptMatcher.from_json(terms))
        except (ValueError, FileNotFoundError):
            return cls(config, model_storage, resource)

    def process(self, messages: List[Message]) -> List[Message]:
        if self.pipeline is None:
            return messages
        texts = [m.get(TEXT) or "" for m in messages]
        # The pipeline's own feature step, computed faster (welcomebot.ngram_features).
        probabilities = self.pipeline[-1].predict_proba(self.features.transform(self._inputs(texts)))
        classes = self.pipeline.classes_
        for message, row in zip(messages, probabilities):
            ranking = sorted(({"name": str(c), "confidence": float(p)} for c, p in zip(classes, row)), key=lambda r: -r["confidence"])
            message.set("intent", ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking[: self.config["ranking_length"]], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

