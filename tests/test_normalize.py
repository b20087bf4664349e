"""Every normalisation rule, with examples in each script."""
from __future__ import annotations

import pytest

from welcomebot.normalize import normalize


@pytest.mark.parametrize("raw, expected", [
    # Persian zero-width non-joiner: joined and written-apart forms become one token
    ("می‌خواهم", "ميخواهم"), ("میخواهم", "ميخواهم"),
    # Persian yeh/keheh vs Arabic yeh/kaf (phone keyboards mix them)
    ("کلاس زبان", "كلاس زبان"), ("يک", "يك"), ("ی", "ي"),
    # alef maksura, alef forms, teh marbuta, hamza carriers
    ("على", "علي"), ("أريد إقامة", "اريد اقامه"), ("آلمانی", "الماني"), ("مسؤول", "مسوول"),
    # harakat and tatweel
    ("مَرْحَبًا", "مرحبا"), ("مـــرحبا", "مرحبا"),
    # Arabic-Indic and Persian digits
    ("٠١٢٣٤٥٦٧٨٩", "0123456789"), ("۱۴۰۳", "1403"),
    # Arabic punctuation
    ("وين؟", "وين?"), ("نعم، شكرا", "نعم, شكرا"),
    # apostrophe variants; Ukrainian apostrophe inside a word disappears
    ("п’ять", "пять"), ("пʼять", "пять"), ("п'ять", "пять"), ("l’Anmeldung", "l'anmeldung"),
    # Turkish-aware lower case and dotless i; Turkish typed with or without its letters
    ("İŞ", "is"), ("IŞIK", "isik"), ("çocuk için kreş", "cocuk icin kres"), ("ÇOCUK", "cocuk"),
    # French accents, German umlauts and sharp s
    ("préfecture", "prefecture"), ("Ausländerbehörde", "auslanderbehorde"), ("Straße", "strasse"),
    # Cyrillic keeps its own letters (й, ї) but ё becomes е
    ("Київ йод", "київ йод"), ("ещё", "еще"),
    # Unicode compatibility forms, control characters, zero-width space, whitespace
    ("ﬁle Ｊｏｂ", "file job"), ("wo\x00 ist\u200b das\tamt", "wo ist das amt"), ("  a   b  ", "a b"),
])
def test_rule(raw, expected):
    assert normalize(raw) == expected


def test_idempotent():
    for text in ["می‌خواهم آلمانی یاد بگیرم", "İSTANBUL'dan geldim", "п’ять дітей", "Ausländerbehörde Termin"]:
        assert normalize(normalize(text)) == normalize(text)


def test_rasa_component_normalises_training_data_and_messages():
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from welcomebot.nlu_components import TextNormalizer

    component = TextNormalizer()
    data = TrainingData([Message(data={"text": "می‌خواهم", "intent": "x"})], lookup_tables=[{"name": "t", "elements": ["Ausländerbehörde"]}])
    component.process_training_data(data)
    assert data.training_examples[0].get("text") == "ميخواهم"
    assert "auslanderbehorde" in data.lookup_tables[0]["elements"]
    message = Message(data={"text": "میخواهم"})
    component.process([message])
    assert message.get("text") == "ميخواهم"
    payload = Message(data={"text": '/inform{"municipality": "Lindenau"}'})
    component.process([payload])
    assert payload.get("text") == '/inform{"municipality": "Lindenau"}'
