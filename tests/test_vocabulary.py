"""The domain vocabulary (nlu/vocabulary/): one source for the classifier's shared concepts and
for language detection's German office words."""
from __future__ import annotations

from welcomebot.normalize import normalize
from welcomebot.vocabulary import ConceptMatcher, concepts, german_terms


def test_one_concept_for_a_word_in_every_script():
    matcher = ConceptMatcher(concepts())
    tokens = {text: matcher.tokens(normalize(text)).split() for text in (
        "wo ist das Jobcenter", "وين الجوب سنتر", "где джобцентр", "Jobcenter'e gitmem lazım")}
    shared = set.intersection(*(set(t) for t in tokens.values()))
    assert "concept_jobcenter" in shared, tokens


def test_whole_words_only_and_the_longest_phrase_wins():
    matcher = ConceptMatcher({"insurance": ["health insurance"], "health": ["health"], "kita": ["Kita"]})
    assert matcher.tokens(normalize("need health insurance card")) == "concept_insurance"
    assert matcher.tokens(normalize("my health")) == "concept_health"
    assert matcher.tokens(normalize("Kitaplık")) == ""  # Turkish "bookshelf" is not a Kita


def test_terms_are_matched_in_their_normalised_form():
    matcher = ConceptMatcher({"immigration": ["Ausländerbehörde"], "course": ["کلاس زبان"]})
    assert matcher.tokens(normalize("AUSLAENDERBEHOERDE?")) == ""  # ae is not ä: both spellings belong in the file
    assert matcher.tokens(normalize("auslanderbehorde")) == "concept_immigration"
    assert matcher.tokens(normalize("كلاس زبان")) == "concept_course"  # Arabic kaf for Persian keheh


def test_round_trip_through_the_model_file_format():
    matcher = ConceptMatcher(concepts())
    again = ConceptMatcher.from_json(matcher.to_json())
    text = normalize("بدي طبيب اسنان و Krankenkasse")
    assert again.tokens(text) == matcher.tokens(text) != ""


def test_the_shipped_vocabulary_points_each_term_to_one_intent():
    import yaml

    from welcomebot import settings

    data = yaml.safe_load((settings.nlu_dir() / "vocabulary" / "domain_terms.yml").read_text(encoding="utf-8"))["concepts"]
    intents: dict[str, set[str]] = {}
    for entry in data.values():
        for term in entry["terms"]:
            intents.setdefault(normalize(str(term)), set()).add(entry["intent"])
    assert len(data) >= 100
    assert {t: i for t, i in intents.items() if len(i) > 1} == {}


def test_german_office_words_for_language_detection():
    assert {"jobcenter", "auslanderbehorde", "kita"} <= german_terms()
