"""Rasa pipeline component that applies `welcomebot.normalize.normalize` to every training
example, lookup table and incoming message, before tokenisation.

Putting it in the pipeline (not in the gateway) guarantees that training data and messages are
normalised identically, whichever client talks to Rasa.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from . import rasa_speedups
from .normalize import normalize

rasa_speedups.apply()


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
        if isinstance(text, str) and not text.startswith("/"):
            message.set(TEXT, normalize(text) or text)
