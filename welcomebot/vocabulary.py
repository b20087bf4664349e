"""The NLU's domain vocabulary (`nlu/vocabulary/`), read in one place.

- `german_terms.yml`: German office words that newcomers keep in German inside other languages,
  with their spellings in other scripts. Language detection ignores them (code-mixing, SPEC §3).
- `domain_terms.yml`: concepts (a doctor, the Jobcenter, a flat ...) with the words that name them
  in every language, misspelled and transliterated as newcomers write them.

Both become *concepts* for the intent classifier: a term found in a message adds the feature
`concept_<name>`, which every language shares — a word learnt in Arabic data helps a Russian
message that uses the Russian word for the same thing. Add a term once here; `welcomebot train`
picks it up.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Iterable, Mapping, Optional

import yaml

from . import settings
from .normalize import normalize


def _read(path: Path) -> dict:
    return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.exists() else {}


def german_term_spellings(vocabulary: Optional[Path] = None) -> dict[str, list[str]]:
    """term id -> its spellings, from german_terms.yml."""
    folder = vocabulary or settings.nlu_dir() / "vocabulary"
    return {str(k): [str(s) for s in v or []] for k, v in (_read(folder / "german_terms.yml").get("terms") or {}).items()}


@functools.lru_cache(maxsize=1)
def german_terms() -> frozenset[str]:
    """Normalised words of the German office terms (and their spellings)."""
    words: set[str] = set()
    for spellings in german_term_spellings().values():
        for spelling in spellings:
            words.update(normalize(spelling).split())
    return frozenset(words)


def concepts(vocabulary: Optional[Path] = None) -> dict[str, list[str]]:
    """concept name -> terms: the domain concepts plus each German office term as a concept."""
    folder = vocabulary or settings.nlu_dir() / "vocabulary"
    found: dict[str, list[str]] = {}
    for name, spellings in german_term_spellings(folder).items():
        found[f"de_{name}"] = spellings
    for name, entry in (_read(folder / "domain_terms.yml").get("concepts") or {}).items():
        found[str(name)] = [str(t) for t in (entry or {}).get("terms") or []]
    return found


def _trie_pattern(terms: Iterable[str]) -> str:
    """One regular expression matching any of `terms`, the longest first, with their common
    beginnings shared: `re` tries the alternatives of a flat `a|b|c...` one by one at every
    position, and with a thousand terms that was 4% of the Rasa server's time per message.
    Every term that can match at a position lies on the one path the text takes through the
    tree, and the branches are tried before the end of a shorter term, so the match is the one
    the flat, longest-first alternation finds."""
    tree: dict = {}
    for term in terms:
        node = tree
        for char in term:
            node = node.setdefault(char, {})
        node[""] = {}  # a term ends here

    def pattern(node: dict) -> str:
        branches = [re.escape(char) + pattern(child) for char, child in sorted(node.items()) if char]
        if "" in node:
            branches.append("")
        if len(branches) == 1:
            return branches[0]
        return "(?:" + "|".join(branches) + ")"

    return pattern(tree)


class ConceptMatcher:
    """Finds the concepts named in a normalised text, as whole words or phrases."""

    PREFIX = "concept_"

    def __init__(self, concept_terms: Mapping[str, Iterable[str]]) -> None:
        self.terms: dict[str, set[str]] = {}
        for concept, terms in concept_terms.items():
            for term in terms:
                form = normalize(term)
                if form:
                    self.terms.setdefault(form, set()).add(re.sub(r"\W", "_", concept))
        self._pattern = re.compile(r"(?<!\w)" + _trie_pattern(self.terms) + r"(?!\w)") if self.terms else None

    def to_json(self) -> dict[str, list[str]]:
        return {term: sorted(names) for term, names in sorted(self.terms.items())}

    @classmethod
    def from_json(cls, data: Mapping[str, Iterable[str]]) -> "ConceptMatcher":
        by_concept: dict[str, list[str]] = {}
        for term, names in data.items():
            for name in names:
                by_concept.setdefault(name, []).append(term)
        return cls(by_concept)

    def tokens(self, normalised_text: str) -> str:
        """Space-separated feature tokens, e.g. "concept_doctor concept_de_krankenkasse"."""
        if self._pattern is None:
            return ""
        found = []
        for match in self._pattern.finditer(normalised_text):
            found.extend(self.PREFIX + name for name in sorted(self.terms[match.group(0)]))
        return " ".join(found)
