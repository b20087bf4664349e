"""SPEC §3: explicit choice, confident detection, conversation, client hint, German."""
from __future__ import annotations

import pytest

from welcomebot.language import (
    CLIENT, CONVERSATION, DEFAULT, DETECTED, EXPLICIT, choose_language, detector_for, negotiate_client_hint,
)

from .conftest import REQUIRED_LANGUAGES

SUPPORTED = tuple(sorted(REQUIRED_LANGUAGES))


@pytest.fixture(scope="module")
def detector():
    return detector_for(SUPPORTED)


@pytest.mark.parametrize("text, language", [
    ("wo kann ich hier deutsch lernen", "de"),
    ("where can I learn German here", "en"),
    ("وين فيني اتعلم الماني هون", "ar"),
    ("کجا میتونم آلمانی یاد بگیرم", "fa"),
    ("де можна вивчити німецьку мову", "uk"),
    ("где можно выучить немецкий язык", "ru"),
    ("almanca kursu nerede acaba", "tr"),
    ("ou je peux apprendre l allemand", "fr"),
    ("bdi 2t3allam almani wen", "ar"),  # Arabic in Latin letters with digits
])
def test_confident_detection(detector, text, language):
    assert detector.detect(text) == language


@pytest.mark.parametrize("text", ["hi", "hallo", "salam", "merhaba", "привет", "ok", "مرحبا", "👍", "", "Jobcenter", "110"])
def test_short_messages_are_not_confident(detector, text):
    assert detector.detect(text) is None


@pytest.mark.parametrize("text, language", [
    ("أريد موعد في Ausländerbehörde لتمديد الإقامة", "ar"),
    ("мені треба Anmeldung у Bürgerbüro зробити", "uk"),
    ("где находится Jobcenter и Ausländerbehörde", "ru"),
    ("میخوام برم Jobcenter برای Bürgergeld", "fa"),
    ("Jobcenter'e gitmem lazım yarın sabah", "tr"),
    ("je dois faire l'Anmeldung au Bürgerbüro demain", "fr"),
])
def test_german_office_words_do_not_switch_to_german(detector, text, language):
    assert detector.detect(text) == language


def test_order_explicit_detected_conversation_client_default(detector):
    def choose(**kw):
        return choose_language(supported=SUPPORTED, default="de", detector=detector, **kw)

    explicit = choose(text="where can I learn German here", explicit="ar")
    assert (explicit.code, explicit.source) == ("ar", EXPLICIT)
    assert choose(text='/change_language{"language": "fr"}', previous="fa").source == CONVERSATION  # payloads are not text
    assert choose(text="where can I learn German here", previous="fa").code == "en"
    assert choose(text="where can I learn German here", previous="fa").source == DETECTED
    assert (choose(text="ok", previous="fa", client_hints=["tr"]).code, choose(text="ok", previous="fa").source) == ("fa", CONVERSATION)
    assert (choose(text="hi", client_hints=["uk-UA", "en"]).code, choose(text="hi", client_hints=["uk-UA"]).source) == ("uk", CLIENT)
    assert (choose(text="hi").code, choose(text="hi").source) == ("de", DEFAULT)
    assert choose(text="hi", explicit="xx").source == DEFAULT  # an unsupported choice is ignored


@pytest.mark.parametrize("hints, expected", [
    (["ar-SY", "en-US"], "ar"), (["pt-BR", "fr-FR"], "fr"), (["uk_UA"], "uk"), (["zh-CN"], None), ([], None), (["FA"], "fa"),
])
def test_client_hint_negotiation(hints, expected):
    assert negotiate_client_hint(hints, SUPPORTED) == expected


def test_languages_lingua_does_not_know_are_still_choosable():
    detector = detector_for(SUPPORTED + ("ti",))
    assert "ti" in detector.languages
    choice = choose_language(text="ሰላም", supported=SUPPORTED + ("ti",), default="de", explicit="ti", detector=detector)
    assert choice.code == "ti"
