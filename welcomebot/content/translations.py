"""Stale translations: the German text changed after its translations were confirmed.

Staff edit plain YAML, without git, so the history lives in a small stamp file beside the
content, `content/.translations.yml`: for each file and text field, a short fingerprint of the
German text at the moment someone confirmed that the translations match it
(`welcomebot content translations --confirm [FILE ...]`). `content check` warns when the German
text's fingerprint no longer matches. Fields never confirmed get no such warning.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Iterator, Optional, Sequence

import yaml

from .model import Problem
from .yaml_lines import LineDict, load_with_lines

STAMP_FILE = ".translations.yml"
_CODE = re.compile(r"^[a-z]{2,3}$")
_HEADER = ("# Written by `welcomebot content translations --confirm`: for each text field, a fingerprint\n"
           "# of the German text whose translations were checked. Not for editing by hand.\n")


def fingerprint(text: str) -> str:
    """Eight hex digits of the German text, ignoring differences in spacing."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:8]


def text_fields(data: object, path: str = "") -> Iterator[tuple[str, LineDict]]:
    """(field path, mapping) of every text field (language code -> text, with German)."""
    if isinstance(data, dict):
        if "de" in data and data and all(isinstance(k, str) and _CODE.match(k) and isinstance(v, str) for k, v in data.items()):
            yield path, data
            return
        for key, value in data.items():
            yield from text_fields(value, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from text_fields(value, f"{path}[{index}]")


def content_files(root: Path) -> list[Path]:
    files = [root / "district.yml", root / "first_steps.yml"]
    for folder in ("offers", "events"):
        if (root / folder).is_dir():
            files += sorted(p for p in (root / folder).iterdir() if p.suffix in (".yml", ".yaml") and not p.name.startswith("."))
    return [f for f in files if f.is_file()]


def _parse(path: Path) -> Optional[LineDict]:
    try:
        data = load_with_lines(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError):
        return None  # reported by the loader
    return data if isinstance(data, dict) else None


def load_stamps(root: Path) -> dict[str, dict[str, str]]:
    try:
        data = yaml.safe_load((root / STAMP_FILE).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    return {str(k): {str(f): str(h) for f, h in (v or {}).items()} for k, v in data.items() if isinstance(v, dict)}


def confirm(root: Path, files: Sequence[Path] = ()) -> list[str]:
    """Record the German text of every translated field of `files` (default: all) as confirmed;
    returns the files recorded."""
    root = Path(root)
    stamps = load_stamps(root)
    chosen = [Path(f).resolve() for f in files] or [p.resolve() for p in content_files(root)]
    done = []
    for path in chosen:
        data = _parse(path)
        if data is None:
            continue
        key = path.relative_to(root.resolve()).as_posix()
        stamps[key] = {name: fingerprint(text["de"]) for name, text in text_fields(data) if len(text) > 1}
        done.append(key)
    _write_atomically(root / STAMP_FILE, _HEADER + yaml.safe_dump(dict(sorted(stamps.items())), allow_unicode=True, sort_keys=True))
    return done


def stale_translations(root: Path, label_root: Optional[Path] = None) -> list[Problem]:
    """A warning for each text field whose German text changed since it was confirmed."""
    root = Path(root)
    stamps = load_stamps(root)
    problems = []
    for path in content_files(root):
        key = path.relative_to(root).as_posix()
        confirmed = stamps.get(key)
        data = _parse(path) if confirmed else None
        if not data:
            continue
        label = str(path.relative_to(label_root or root.parent))
        for name, text in text_fields(data):
            others = [code for code in text if code != "de"]
            if name in confirmed and others and confirmed[name] != fingerprint(text["de"]):
                problems.append(Problem(
                    label, text.line_of("de"), name,
                    f"the German text of '{name}' was changed after its translations ({', '.join(others)}) were "
                    f"confirmed; update them, then run: welcomebot content translations --confirm {path.relative_to(root.parent)}",
                    "warning"))
    return problems


def _write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".yml")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temporary, path)
