"""The domain vocabulary (nlu/vocabulary/): one source for the classifier's shared concepts and
for language detection's German office words."""
from __future__ import annotations

import re

import yaml

from welcomebot import settings
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
    data = yaml.safe_load((settings.nlu_dir() / "vocabulary" / "domain_terms.yml").read_text(encoding="utf-8"))["concepts"]
    intents: dict[str, set[str]] = {}
    for entry in data.values():
        for term in entry["terms"]:
            intents.setdefault(normalize(str(term)), set()).add(entry["intent"])
    assert len(data) >= 100
    assert {t: i for t, i in intents.items() if len(i) > 1} == {}


def test_german_office_words_for_language_detection():
    assert {"jobcenter", "auslanderbehorde", "kita"} <= german_terms()


def _flat_pattern(matcher: ConceptMatcher) -> "re.Pattern[str]":
    """The plain alternation of every term, longest first: what the matcher's tree must equal."""
    alternatives = sorted(matcher.terms, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, alternatives)) + r")(?!\w)")


def _training_texts() -> list[str]:
    texts = []
    for path in sorted((settings.nlu_dir() / "data").rglob("*.yml")):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            for line in str(item.get("examples") or "").splitlines():
                text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line.lstrip("- ").strip())  # [Lindenau](municipality)
                if text:
                    texts.append(normalize(text))
    return texts


def test_the_term_tree_finds_what_the_plain_alternation_finds():
    matcher = ConceptMatcher(concepts())
    flat = _flat_pattern(matcher)
    texts = _training_texts()
    assert len(texts) > 10_000 and len(matcher.terms) > 1000
    found = [[m.group(0) for m in matcher._pattern.finditer(t)] for t in texts]
    assert found == [[m.group(0) for m in flat.finditer(t)] for t in texts]
    assert sum(map(len, found)) > len(texts) / 2  # the texts do name concepts


def test_a_shorter_term_matches_where_the_longer_one_stops_inside_a_word():
    matcher = ConceptMatcher({"a": ["arzt"], "b": ["arzt termin"], "c": ["arztpraxis"], "d": ["ar"]})
    assert matcher.tokens("arzt terminal") == "concept_a"  # "arzt termin" ends inside a word
    assert matcher.tokens("arzt termin") == "concept_b"
    assert matcher.tokens("arztpraxisse ar") == "concept_d"
