"""YAML loading that remembers on which line each value stands.

Staff edit the files by hand; every validation message must point at file, line and field, so
mappings keep the line of each key (`LineDict.line_of`).
"""
from __future__ import annotations

from typing import Any

import yaml


class LineDict(dict):
    """A dict that knows the 1-based line of itself and of each of its keys."""

    line: int = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class InvalidValue(yaml.YAMLError):
    """A value YAML reads but Python cannot make, e.g. the date 2027-02-30."""

    def __init__(self, field: str, message: str, line: int) -> None:
        super().__init__(message)
        self.field, self.message, self.line = field, message, line


class LineList(list):
    line: int = 0

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.item_lines: list[int] = []

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


# libyaml's parser when PyYAML has it (about 10x faster; the marks are the same).
class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    mapping = LineDict()
    mapping.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"the field {key!r} is written twice", key_node.start_mark
            )
        try:
            mapping[key] = loader.construct_object(value_node, deep=True)
        except ValueError as error:  # PyYAML makes dates itself and lets datetime's error through
            raise InvalidValue(str(key), f"the date {value_node.value} does not exist ({error})", value_node.start_mark.line + 1) from error
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    items = LineList(loader.construct_object(child, deep=True) for child in node.value)
    items.line = node.start_mark.line + 1
    items.item_lines = [child.start_mark.line + 1 for child in node.value]
    return items


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_with_lines(text: str) -> Any:
    """Parse one YAML document; raises `yaml.YAMLError` (with `problem_mark`) on bad syntax."""
    return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
