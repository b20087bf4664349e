"""Reading and validating content files.

Each file is parsed on its own into a model object or a list of `Problem`s that name file, line
and field in a sentence a member of town staff understands. `load_file` never raises for bad
content: bad content is reported, not thrown.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path
from typing import Any, Callable, Optional, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import opening_hours
import phonenumbers
import yaml
from babel import Locale, UnknownLocaleError

from .model import (
    AUDIENCES, CATEGORIES, Address, Contact, District, FirstSteps, LocalizedText, Lotse, Municipality,
    OfficeContact, Offer, Problem, Step,
)
from .yaml_lines import InvalidValue, LineDict, LineList, load_with_lines

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
URL_PATTERN = re.compile(r"^https?://[^\s/$.?#][^\s]*\.[^\s]+$", re.IGNORECASE)


class _Reader:
    """Collects problems for one file while reading its fields."""

    def __init__(self, file: str, languages: Sequence[str]) -> None:
        self.file = file
        self.languages = tuple(languages)
        self.problems: list[Problem] = []

    def error(self, line: Optional[int], field: Optional[str], message: str) -> None:
        self.problems.append(Problem(self.file, line, field, message, "error"))

    def warning(self, line: Optional[int], field: Optional[str], message: str) -> None:
        self.problems.append(Problem(self.file, line, field, message, "warning"))

    @property
    def failed(self) -> bool:
        return any(p.severity == "error" for p in self.problems)

    # -- field readers: each returns a value or None after recording a problem --

    def required(self, data: LineDict, key: str, path: str = "") -> Any:
        name = path + key
        if key not in data or data[key] is None or data[key] == "":
            self.error(data.line, name, f"the field '{name}' is missing.")
            return None
        return data[key]

    def mapping(self, data: LineDict, key: str, path: str = "", optional: bool = False) -> Optional[LineDict]:
        if optional and data.get(key) is None:
            return None
        value = self.required(data, key, path)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.error(data.line_of(key), path + key, f"'{path + key}' must be a block of fields (key: value).")
            return None
        return value

    def string(self, data: LineDict, key: str, path: str = "", optional: bool = False) -> Optional[str]:
        if optional and data.get(key) in (None, ""):
            return None
        value = self.required(data, key, path)
        if value is None:
            return None
        if isinstance(value, (dict, list)):
            self.error(data.line_of(key), path + key, f"'{path + key}' must be a single text, not a list or block.")
            return None
        return str(value).strip()

    def text(self, data: LineDict, key: str, path: str = "") -> Optional[LocalizedText]:
        """A text field: a mapping language code -> text, German required (SPEC §5)."""
        name = path + key
        value = self.mapping(data, key, path)
        if value is None:
            return None
        texts: dict[str, str] = {}
        for code, text in value.items():
            line = value.line_of(code)
            if not _is_language_code(str(code)):
                self.error(line, f"{name}.{code}", f"'{code}' is not a language code (use e.g. de, en, ar, uk, fa).")
                continue
            if not isinstance(text, str) or not text.strip():
                self.error(line, f"{name}.{code}", f"the {code} text of '{name}' is empty or not a text.")
                continue
            texts[str(code)] = text.strip()
        key_line = data.line_of(key)
        if "de" not in texts and not any(p.field and p.field.startswith(name + ".") for p in self.problems):
            self.error(key_line, name, f"'{name}' has no German (de) text; German is required.")
        for code in self.languages:
            if code not in texts and texts:
                self.warning(key_line, f"{name}.{code}", f"'{name}' has no {code} translation yet; newcomers get English or German.")
        return LocalizedText(texts) if texts and not self.failed_field(name) else None

    def failed_field(self, name: str) -> bool:
        return any(p.severity == "error" and p.field and (p.field == name or p.field.startswith(name + ".")) for p in self.problems)

    def number(self, data: LineDict, key: str, path: str, low: float, high: float) -> Optional[float]:
        if data.get(key) is None:
            return None
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            self.error(data.line_of(key), path + key, f"'{path + key}' must be a number between {low} and {high}, not {value!r}.")
            return None
        return float(value)

    def string_list(self, data: LineDict, key: str, optional: bool = False) -> Optional[list[str]]:
        if optional and data.get(key) is None:
            return []
        value = self.required(data, key)
        if value is None:
            return None
        if isinstance(value, str):
            value = LineList([value])
            value.line = data.line_of(key)
        if not isinstance(value, list):
            self.error(data.line_of(key), key, f"'{key}' must be a list like [de, en].")
            return None
        return [str(item).strip() for item in value]

    def date(self, data: LineDict, key: str) -> Optional[dt.date]:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.error(data.line_of(key), key, f"'{key}' must be a date like 2027-07-31, not {value!r}.")
            return None

    def moment(self, data: LineDict, key: str) -> Optional[dt.datetime]:
        value = self.required(data, key)
        if value is None:
            return None
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            self.error(data.line_of(key), key, f"'{key}' needs a time and a time zone, like 2027-02-18T18:00:00+01:00.")
            return None
        if not isinstance(value, dt.datetime):
            try:
                value = dt.datetime.fromisoformat(str(value))
            except ValueError:
                self.error(data.line_of(key), key, f"'{key}' must be a date and time like 2027-02-18T18:00:00+01:00, not {value!r}.")
                return None
        if value.tzinfo is None:
            self.error(data.line_of(key), key, f"'{key}' has no time zone; add it, e.g. 2027-02-18T18:00:00+01:00.")
            return None
        return value


@functools.lru_cache(maxsize=None)
def _is_language_code(code: str) -> bool:
    try:
        Locale.parse(code)
        return True
    except (UnknownLocaleError, ValueError, TypeError):
        return False


def parse_yaml(path: Path, reader: _Reader) -> Optional[LineDict]:
    try:
        raw = path.read_bytes()
    except OSError as error:
        reader.error(None, None, f"the file cannot be read ({error.strerror}).")
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        reader.error(line, None, "the file is not saved as UTF-8; save it again with UTF-8 encoding.")
        return None
    try:
        data = load_with_lines(text)
    except InvalidValue as error:
        reader.error(error.line, error.field, error.message + ".")
        return None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        reader.error(mark.line + 1 if mark else None, None, f"the file is not valid YAML: {problem}.")
        return None
    if not isinstance(data, dict):
        reader.error(1, None, "the file must contain fields (key: value), but it is empty or a list.")
        return None
    return data


# -- offers and events -------------------------------------------------------------------------

def read_offer(path: Path, languages: Sequence[str], municipality_ids: set[str], is_event: bool,
               label: Optional[str] = None) -> tuple[Optional[Offer], list[Problem]]:
    reader = _Reader(label or str(path), languages)
    data = parse_yaml(path, reader)
    if data is None:
        return None, reader.problems
    offer = _offer_from(data, path.stem, reader, municipality_ids, is_event, path)
    return (None if reader.failed else offer), reader.problems


def _offer_from(data: LineDict, stem: str, r: _Reader, municipality_ids: set[str], is_event: bool,
                source: Optional[Path]) -> Optional[Offer]:
    offer_id = r.string(data, "id")
    if offer_id is not None:
        if offer_id != stem:
            r.error(data.line_of("id"), "id", f"the id '{offer_id}' must be the file name without .yml ('{stem}').")
        elif not ID_PATTERN.match(offer_id):
            r.error(data.line_of("id"), "id", "the id may contain only lower-case letters, digits and hyphens.")
    category = "events" if is_event and data.get("category") is None else r.string(data, "category")
    if category is not None and category not in CATEGORIES:
        r.error(data.line_of("category"), "category", f"'{category}' is not a category; use one of: {', '.join(CATEGORIES)}.")
    if is_event and category not in (None, "events"):
        r.error(data.line_of("category"), "category", "an event in content/events/ must have category 'events'.")
    municipalities = _municipalities(data, r, municipality_ids)
    audience = r.string_list(data, "audience", optional=True) or []
    for index, group in enumerate(audience):
        if group not in AUDIENCES:
            r.error(_item_line(data, "audience", index), "audience", f"'{group}' is not an audience; use one of: {', '.join(AUDIENCES)}.")
    provider = r.string(data, "provider")
    title = r.text(data, "title")
    summary = r.text(data, "summary")
    address = _address(data, r, optional=True)  # phone lines and online services have none
    contact = _contact(data, r)
    hours = r.string(data, "opening_hours", optional=is_event)
    if hours is not None:
        _check_opening_hours(hours, data.line_of("opening_hours"), r)
    spoken = r.string_list(data, "languages_spoken") or []
    for index, code in enumerate(spoken):
        if not _is_language_code(code):
            r.error(_item_line(data, "languages_spoken", index), "languages_spoken", f"'{code}' is not a language code (use e.g. de, en, ar).")
    valid_until = r.date(data, "valid_until")
    start = end = None
    if is_event:
        start, end = r.moment(data, "start"), r.moment(data, "end")
        if start and end and end <= start:
            r.error(data.line_of("end"), "end", "the event ends before it starts; check 'start' and 'end'.")
    ics_uid = r.string(data, "ics_uid", optional=True) if is_event else None
    _unknown_fields(data, r, OFFER_FIELDS | ({"start", "end", "ics_uid"} if is_event else set()))
    if r.failed:
        return None
    return Offer(
        id=offer_id, category=category, municipalities=municipalities, audience=frozenset(audience),
        provider=provider, title=title, summary=summary, address=address, contact=contact,
        opening_hours=hours, languages_spoken=tuple(spoken), valid_until=valid_until,
        start=start, end=end, source=source, ics_uid=ics_uid, lines=dict(data.key_lines),
    )


OFFER_FIELDS = {
    "id", "category", "municipalities", "audience", "provider", "title", "summary", "address",
    "contact", "opening_hours", "languages_spoken", "valid_until",
}


def _unknown_fields(data: LineDict, r: _Reader, known: set[str]) -> None:
    for key in data:
        if key not in known:
            r.warning(data.line_of(key), str(key), f"'{key}' is not a known field and is ignored (a typo?).")


def _item_line(data: LineDict, key: str, index: int) -> int:
    value = data.get(key)
    return value.line_of(index) if isinstance(value, LineList) else data.line_of(key)


def _municipalities(data: LineDict, r: _Reader, known: set[str]) -> Optional[frozenset[str]]:
    value = data.get("municipalities")
    if value == "all":
        return None
    towns = r.string_list(data, "municipalities")
    if towns is None:
        return None
    for index, town in enumerate(towns):
        if town not in known:
            r.error(_item_line(data, "municipalities", index), "municipalities",
                    f"'{town}' is not a town of the district; use one of: {', '.join(sorted(known))}, or all.")
    if not towns:
        r.error(data.line_of("municipalities"), "municipalities", "name at least one town, or write: all.")
    return frozenset(towns)


def _address(data: LineDict, r: _Reader, optional: bool = False) -> Optional[Address]:
    block = r.mapping(data, "address", optional=optional)
    if block is None:
        return None
    street = r.string(block, "street", "address.")
    postcode = r.string(block, "postcode", "address.")
    town = r.string(block, "town", "address.")
    if postcode and not re.fullmatch(r"\d{5}", postcode):
        r.error(block.line_of("postcode"), "address.postcode", f"the postcode '{postcode}' must have five digits (and be in quotes).")
    lat = r.number(block, "lat", "address.", 47.0, 55.5)
    lon = r.number(block, "lon", "address.", 5.5, 15.5)
    if (lat is None) != (lon is None) and not r.failed_field("address"):
        r.error(block.line, "address", "give both 'lat' and 'lon', or neither.")
    if not (street and postcode and town):
        return None
    return Address(street, postcode, town, lat, lon)


def _contact(data: LineDict, r: _Reader) -> Optional[Contact]:
    block = r.mapping(data, "contact")
    if block is None:
        return None
    phone = r.string(block, "phone", "contact.", optional=True)
    email = r.string(block, "email", "contact.", optional=True)
    url = r.string(block, "url", "contact.", optional=True)
    if not (phone or email or url):
        r.error(data.line_of("contact"), "contact", "give at least one of phone, email or url.")
    if phone and not _is_phone(phone):
        r.error(block.line_of("phone"), "contact.phone", f"'{phone}' is not a valid phone number; write it like \"+49 5561 702-410\".")
    if email and not EMAIL_PATTERN.match(email):
        r.error(block.line_of("email"), "contact.email", f"'{email}' is not a valid e-mail address.")
    if url and not URL_PATTERN.match(url):
        r.error(block.line_of("url"), "contact.url", f"'{url}' is not a web address; it must start with https://.")
    _unknown_fields(block, r, {"phone", "email", "url"})
    return Contact(phone, email, url)


def _is_phone(phone: str) -> bool:
    digits = re.sub(r"[\s/()-]", "", phone)
    if re.fullmatch(r"\d{3,6}", digits):  # short national numbers: 110, 112, 116016
        return True
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(phone, "DE"))
    except phonenumbers.NumberParseException:
        return False


def _check_opening_hours(hours: str, line: int, r: _Reader, field: str = "opening_hours") -> None:
    try:
        opening_hours.OpeningHours(hours)
    except Exception as error:  # the parser raises its own ParserError with a caret diagram
        first = str(error).strip().splitlines()[-1].strip(" =") if str(error).strip() else "syntax error"
        r.error(line, field, f"'{hours}' is not valid opening_hours syntax ({first}); e.g. \"Mo-Fr 08:00-12:00; Th 14:00-18:00\".")
        return
    for warning in overriding_rules(hours):
        r.warning(line, field, warning)


_DAYS = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]


def overriding_rules(hours: str) -> list[str]:
    """OSM semantics: a later `;` rule for a day replaces earlier ones. Staff usually mean to add."""
    seen: dict[str, str] = {}
    warnings = []
    for rule in (part.strip() for part in hours.split(";")):
        match = re.match(r"^((?:Mo|Tu|We|Th|Fr|Sa|Su)(?:\s*[-,]\s*(?:Mo|Tu|We|Th|Fr|Sa|Su))*)\s+\d", rule)
        if not match:
            continue
        for day in _expand_days(match.group(1)):
            if day in seen:
                warnings.append(
                    f"the rule '{rule}' replaces '{seen[day]}' on {day} (later rules win); "
                    f"to add hours, list them in one rule, e.g. '{day} 09:00-12:00,14:00-17:00'."
                )
                break
        for day in _expand_days(match.group(1)):
            seen[day] = rule
    return warnings


def _expand_days(spec: str) -> list[str]:
    days: list[str] = []
    for part in spec.replace(" ", "").split(","):
        if "-" in part:
            first, last = part.split("-")
            i, j = _DAYS.index(first), _DAYS.index(last)
            days += _DAYS[i : j + 1] if i <= j else _DAYS[i:] + _DAYS[: j + 1]
        else:
            days.append(part)
    return days


# -- Lotsen ------------------------------------------------------------------------------------

LOTSE_FIELDS = {"id", "name", "telegram_user_id", "languages", "municipalities", "availability"}


def read_lotse(path: Path, languages: Sequence[str], municipality_ids: set[str],
               label: Optional[str] = None) -> tuple[Optional[Lotse], list[Problem]]:
    """`content/lotsen/<id>.yml`: a volunteer mentor (SPEC §5). Only listed Lotsen may act in
    the staff group, so a wrong Telegram id is an error, not a warning."""
    r = _Reader(label or str(path), languages)
    data = parse_yaml(path, r)
    if data is None:
        return None, r.problems
    lotse_id = r.string(data, "id")
    if lotse_id is not None:
        if lotse_id != path.stem:
            r.error(data.line_of("id"), "id", f"the id '{lotse_id}' must be the file name without .yml ('{path.stem}').")
        elif not ID_PATTERN.match(lotse_id):
            r.error(data.line_of("id"), "id", "the id may contain only lower-case letters, digits and hyphens.")
    name = r.string(data, "name")
    user_id = _telegram_user_id(data, r)
    spoken = r.string_list(data, "languages") or []
    for index, code in enumerate(spoken):
        if not _is_language_code(code):
            r.error(_item_line(data, "languages", index), "languages", f"'{code}' is not a language code (use e.g. de, uk, ar).")
    if not spoken and not r.failed_field("languages"):
        r.error(data.line_of("languages"), "languages", "list the languages the Lotse speaks, like [de, uk].")
    municipalities = _municipalities(data, r, municipality_ids)
    availability = r.string(data, "availability")
    if availability is not None:
        _check_opening_hours(availability, data.line_of("availability"), r, "availability")
    _unknown_fields(data, r, LOTSE_FIELDS)
    if r.failed:
        return None, r.problems
    return Lotse(lotse_id, name, user_id, tuple(spoken), municipalities, availability, path), r.problems


def _telegram_user_id(data: LineDict, r: _Reader) -> Optional[int]:
    value = r.required(data, "telegram_user_id")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        r.error(data.line_of("telegram_user_id"), "telegram_user_id",
                f"'{value}' is not a Telegram user id; it is a positive number like 123456789 (the Lotse can ask @userinfobot).")
        return None
    return value


# -- district and first steps ---------------------------------------------------------------

def read_district(path: Path, languages: Sequence[str], label: Optional[str] = None) -> tuple[Optional[District], list[Problem]]:
    r = _Reader(label or str(path), languages)
    data = parse_yaml(path, r)
    if data is None:
        return None, r.problems
    district_id = r.string(data, "id")
    name = r.text(data, "name")
    default_language = r.string(data, "default_language")
    tz_name = r.string(data, "timezone")
    timezone = None
    if tz_name:
        try:
            timezone = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            r.error(data.line_of("timezone"), "timezone", f"'{tz_name}' is not a time zone; use Europe/Berlin.")
    towns = data.get("municipalities")
    municipalities: list[Municipality] = []
    if not isinstance(towns, list) or not towns:
        r.error(data.line_of("municipalities"), "municipalities", "list the towns of the district, each with id and name.")
    else:
        seen: set[str] = set()
        for index, town in enumerate(towns):
            municipality = _municipality(town, index, r, seen)
            if municipality:
                municipalities.append(municipality)
    contact = _office(data, r)
    if r.failed:
        return None, r.problems
    district = District(district_id, name, default_language, timezone, tuple(municipalities), contact)
    return district, r.problems


def _municipality(town: Any, index: int, r: _Reader, seen: set[str]) -> Optional[Municipality]:
    path = f"municipalities[{index}]."
    if not isinstance(town, dict):
        r.error(None, path.rstrip("."), "each town needs fields id, name and postcode.")
        return None
    town_id = r.string(town, "id", path)
    if town_id in seen:
        r.error(town.line_of("id"), path + "id", f"the town id '{town_id}' is used twice.")
    seen.add(town_id or "")
    name = r.mapping(town, "name", path)
    postcode = r.string(town, "postcode", path)
    aliases = town.get("aliases") or []
    if not isinstance(aliases, list):
        r.error(town.line_of("aliases"), path + "aliases", "aliases must be a list like [Lindenau, Lindnau].")
        aliases = []
    if not (town_id and name and postcode):
        return None
    texts = {str(k): str(v) for k, v in name.items()}
    return Municipality(
        town_id, LocalizedText(texts), postcode, tuple(str(a) for a in aliases),
        r.number(town, "lat", path, 47.0, 55.5), r.number(town, "lon", path, 5.5, 15.5),
    )


def _office(data: LineDict, r: _Reader) -> Optional[OfficeContact]:
    block = r.mapping(data, "contact")
    if block is None:
        return None
    sub = _Reader(r.file, r.languages)
    name = sub.text(block, "name", "contact.")
    address = _address(block, sub)
    contact = _contact(block, sub)
    hours = sub.string(block, "opening_hours", "contact.", optional=True)
    if hours:
        _check_opening_hours(hours, block.line_of("opening_hours"), sub)
    r.problems += [
        Problem(p.file, p.line, p.field if (p.field or "").startswith("contact") else f"contact.{p.field}", p.message, p.severity)
        for p in sub.problems
    ]
    return OfficeContact(name, address, contact, hours) if not sub.failed else None


def read_first_steps(path: Path, languages: Sequence[str], categories_known: Callable[[str], bool] = CATEGORIES.__contains__,
                     label: Optional[str] = None) -> tuple[Optional[FirstSteps], list[Problem]]:
    r = _Reader(label or str(path), languages)
    data = parse_yaml(path, r)
    if data is None:
        return None, r.problems
    title = r.text(data, "title")
    intro = r.text(data, "intro")
    raw_steps = data.get("steps")
    steps: list[Step] = []
    if not isinstance(raw_steps, list) or not raw_steps:
        r.error(data.line_of("steps"), "steps", "list the steps of the welcome checklist under 'steps:'.")
    else:
        for index, raw in enumerate(raw_steps):
            path = f"steps[{index}]."
            if not isinstance(raw, dict):
                r.error(raw_steps.line_of(index), path.rstrip("."), "each step needs id, title and text.")
                continue
            step_id = r.string(raw, "id", path)
            step_title = r.text(raw, "title", path)
            step_text = r.text(raw, "text", path)
            category = r.string(raw, "category", path, optional=True)
            if category and not categories_known(category):
                r.error(raw.line_of("category"), path + "category", f"'{category}' is not a category; use one of: {', '.join(CATEGORIES)}.")
            if step_id and step_title and step_text:
                steps.append(Step(step_id, step_title, step_text, category))
    if r.failed:
        return None, r.problems
    return FirstSteps(title, intro, tuple(steps)), r.problems
