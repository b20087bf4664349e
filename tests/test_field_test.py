"""The field-test set (tests/data/field_test/) measures the NLU honestly only while it stays
apart from the training data: written separately (issue "Understanding newcomers as they really
write"), never trained on, and big enough per language and intent."""
from __future__ import annotations

import collections
from pathlib import Path

import pytest
import yaml

from welcomebot.content.model import CATEGORIES
from welcomebot.normalize import normalize

from .conftest import REQUIRED_LANGUAGES, ROOT

FIELD_TEST = ROOT / "tests" / "data" / "field_test"
TRAINING = ROOT / "nlu" / "data"
CONVERSATION_INTENTS = ("greet", "goodbye", "thank", "affirm", "deny", "help", "bot_challenge",
                        "change_language", "request_lotse", "privacy", "out_of_scope")


def examples(path: Path) -> dict[str, list[str]]:
    """intent -> example texts of one Rasa NLU file, read by Rasa itself."""
    from rasa.shared.nlu.training_data.loading import load_data

    found: dict[str, list[str]] = collections.defaultdict(list)
    for example in load_data(str(path)).intent_examples:
        found[example.get("intent")].append(example.get("text"))
    return found


@pytest.mark.parametrize("language", REQUIRED_LANGUAGES)
def test_every_intent_is_covered(language):
    found = examples(FIELD_TEST / f"{language}.yml")
    for category in CATEGORIES:
        assert len(found[f"ask_{category}"]) >= 10, f"{language}: ask_{category} has {len(found[f'ask_{category}'])} messages"
    for intent in CONVERSATION_INTENTS:
        assert len(found[intent]) >= 4, f"{language}: {intent} has {len(found[intent])} messages"


def test_no_field_test_message_is_in_the_training_data():
    files = [path for path in TRAINING.rglob("*.yml") if "nlu" in (yaml.safe_load(path.read_text(encoding="utf-8")) or {})]
    trained = {normalize(text) for path in files for texts in examples(path).values() for text in texts}
    assert len(trained) > 5000  # the training data was read, not an empty folder
    leaked = [
        (path.name, text)
        for path in sorted(FIELD_TEST.glob("*.yml"))
        for texts in examples(path).values()
        for text in texts
        if normalize(text) in trained
    ]
    assert leaked == []


def test_the_training_configuration_never_reads_the_field_test():
    # `welcomebot train` reads nlu/data only; the field test must never be moved or linked there.
    assert not any(p.resolve().is_relative_to(FIELD_TEST.resolve()) for p in TRAINING.rglob("*"))
