"""persona-site.toml: parse_config(text) and load_config(root). Spec section 2."""

from __future__ import annotations

import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType

from .basics import Diagnostic, error, warning
from .suggest import did_you_mean

CONFIG_NAME = "persona-site.toml"
DEFAULT_TAGS = MappingProxyType({"pain": "Pain", "objection": "Objection", "criteria": "Decision criteria"})
ATTRIBUTIONS = ("role", "role-company", "name")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")
"""A tag slug a persona's month archive page may have (pages_archive.py: personas/<role>/<yyyy-mm>/)."""
_NOT_A_BROWSER_ZONE = re.compile(r"(?:posix|right)/|(?:localtime|Factory|posixrules)$")
"""Names Python finds in the system's zone files that are no IANA zone a browser's Intl knows."""
_THEME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")  # one folder under themes/: never a path out of it


@dataclass(frozen=True)
class Config:
    """The site's settings; every key has a default (spec section 2)."""

    title: str = "Buyer personas"
    """Site title."""
    base_url: str = "/"
    """Where the site is served: a path or a full URL, always ending in '/'."""
    quotes_per_role: int = 20
    """Quotes on a role page."""
    stale_after_days: int = 90
    """A persona with no quote newer than this is flagged stale."""
    attribution: str = "role-company"
    """What a published quote names: 'role', 'role-company' or 'name'."""
    publish_transcripts: bool = False
    """Also render each transcript as a page and link quotes to it."""
    timezone: str = "UTC"
    """Zone for dates without one and for 'N days ago'."""
    theme: str = "default"
    """A folder under themes/, or the built-in theme."""
    fail_on_stale: bool = False
    """With True, --strict also fails on a stale persona (a notice otherwise)."""
    tags: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TAGS))
    """The tag vocabulary: slug -> label."""

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def with_base_url(self, base_url: str) -> "Config":
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["base_url"] = normalize_base_url(base_url)
        return Config(**values)


_TYPES: Mapping[str, type] = MappingProxyType({
    "title": str,
    "base_url": str,
    "quotes_per_role": int,
    "stale_after_days": int,
    "attribution": str,
    "publish_transcripts": bool,
    "timezone": str,
    "theme": str,
    "fail_on_stale": bool,
    "tags": dict,
})
_TYPE_NAMES = MappingProxyType({str: "a string", int: "a whole number", bool: "true or false", dict: "a table"})


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_NOT_IN_URL = r"\s\x00-\x1f\x7f\"'<>\\`"  # white space, control characters, quotes, brackets, backslash
_HTTP_URL = re.compile(rf"^https?://[^/?#{_NOT_IN_URL}]+(?:/[^?#{_NOT_IN_URL}]*)?$", re.IGNORECASE)
_URL_PATH = re.compile(rf"^(?!//)[^?#{_NOT_IN_URL}]*$")  # '//host' is another site: write https://host


def base_url_problem(url: str) -> str | None:
    """Why url cannot be base_url ("must be ..."), or None: it is a path (/personas/) or an http(s):// URL, nothing else (spec
    section 2). Every href and src starts with it, so `javascript://%0a...` would be a script in every link
    (issue 21, item 5)."""
    url = url.strip()
    if _HTTP_URL.match(url) if _SCHEME.match(url) else _URL_PATH.match(url):
        return None
    return (f"must be a path such as '/personas/' or an http:// or https:// URL such as "
            f"'https://example.com/personas/', not {url!r}")


def normalize_base_url(url: str) -> str:
    """'/personas' -> '/personas/'; 'https://x.io' -> 'https://x.io/'."""
    url = url.strip() or "/"
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", url) and not url.startswith("/"):
        url = "/" + url
    return url if url.endswith("/") else url + "/"


def line_of(text: str, key: str) -> int:
    """The line that sets key (`key = ...`) or opens it as a table (`[key]`); 1 when none does."""
    name = rf"\"?{re.escape(key)}\"?"
    match = re.search(rf"^[ \t]*(?:{name}[ \t]*=|\[[ \t]*{name}[ \t]*\])", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def _toml_explained(problem: str, text: str) -> tuple[int, str]:
    """The line of tomllib's complaint, and what to do there for the mistakes people make; tomllib's words else."""
    at = re.search(r"\(at line (\d+), column (\d+)\)", problem)
    lines = text.split("\n")
    line = int(at[1]) if at else max(len(text.rstrip("\n").split("\n")), 1)
    there = lines[line - 1][int(at[2]) - 1:] if at and line <= len(lines) else ""
    if problem.startswith("Invalid value") and there[:1] and there[:1] in "“”‘’":
        return line, 'write text between straight double quotes ("), not curly ones'
    if problem.startswith("Invalid value") and re.fullmatch(r"(?:true|false|yes|no|on|off)[ \t]*(?:#.*)?", there,
                                                             re.IGNORECASE):
        return line, "yes or no is written true or false, in lower case and with no quotes"
    if problem.startswith("Invalid value") and there[:1].isalpha():
        return line, 'text goes in double quotes, e.g. title = "Buyer personas"'
    if problem.startswith(("Illegal character '\\n'", "Expected '\"'", 'Expected "\'"')):
        return line, "this text's closing quote is missing: end it with the quote it starts with, on the same line"
    if problem.startswith("Expected '=' after a key"):
        return line, "a setting is written key = value, and this line has no '='"
    if problem.startswith("Expected ']' at the end of a table"):
        return line, "a table's name ends with ']', e.g. [tags]"
    if problem.startswith("Cannot overwrite a value"):
        return line, "this setting is written twice: keep one"
    if problem.startswith("Expected newline or end of document"):
        return line, 'one setting a line, its value alone: a number with no letters, text in double quotes'
    return line, problem


def parse_config(text: str, path: str = CONFIG_NAME) -> tuple[Config, list[Diagnostic]]:
    """Parse the TOML text of a config file; errors are returned, not raised."""
    config, diagnostics, _ = read_config(text, path)
    return config, diagnostics


def read_config(text: str, path: str = CONFIG_NAME) -> tuple[Config, list[Diagnostic], bool]:
    """parse_config's answer, and whether the content can be checked with it: a setting with an error takes its
    default (every error is reported, and a build with one fails), but with no tag vocabulary but the one written,
    or none at all when the file is not TOML, every tagged quote would be an error too."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, message = _toml_explained(str(exc), text)
        return Config(), [error(path, line, f"this is not valid TOML: {message}")], False
    diagnostics: list[Diagnostic] = []
    values: dict[str, object] = {}
    for key, value in raw.items():
        line = line_of(text, key)
        expected = _TYPES.get(key)
        known = [k for k in value if k in _TYPES] if expected is None and isinstance(value, dict) else []
        if known:  # [site] above the settings, as some tools have it (or site.title): they would all be ignored
            listed = ", ".join(f"'{k}'" for k in known)
            if re.search(rf"^[ \t]*\[[ \t]*{re.escape(key)}[ \t]*\]", text, re.MULTILINE):
                todo = f"delete the [{key}] line (settings go at the top, before any table)"
            else:
                line = line_of(text, f"{key}.{known[0]}")
                todo = f"write {listed} without '{key}.'"
            diagnostics.append(error(path, line, f"there is no [{key}] table, so {listed} would be ignored: {todo}"))
        elif expected is None:
            diagnostics.append(warning(path, line, f"unknown key '{key}' is ignored{did_you_mean(key, _TYPES)}"))
        elif type(value) is not expected:  # bool is an int subclass: compare exactly
            diagnostics.append(error(path, line, f"'{key}' must be {_TYPE_NAMES[expected]}, not {value!r}"))
            values[key] = None
        else:
            values[key] = value
    for key, problem in _validate(values, text, path):
        diagnostics.append(problem)
        values[key] = None
    if "base_url" in values and values["base_url"] is not None:
        values["base_url"] = normalize_base_url(values["base_url"])  # type: ignore[arg-type]
    usable = "tags" not in values or values["tags"] is not None
    return Config(**{key: value for key, value in values.items() if value is not None}), diagnostics, usable  # type: ignore[arg-type]


def _validate(values: dict[str, object], text: str, path: str) -> list[tuple[str, Diagnostic]]:
    """The problems with the values (each a key's, whose value is then not used), given only keys of the right type."""
    values = {key: value for key, value in values.items() if value is not None}
    problems = []
    for key in ("quotes_per_role", "stale_after_days"):
        if key in values and values[key] < 1:  # type: ignore[operator]
            problems.append((key, error(path, line_of(text, key), f"'{key}' must be 1 or more")))
    if values.get("attribution", "role") not in ATTRIBUTIONS:
        choices = ", ".join(f"'{a}'" for a in ATTRIBUTIONS)
        problems.append(("attribution", error(path, line_of(text, "attribution"), f"'attribution' must be one of {choices}")))
    if values.get("attribution") == "role" and values.get("publish_transcripts"):  # issue 21, item 7
        problems.append(("publish_transcripts", warning(
            path, line_of(text, "publish_transcripts"), "transcripts are not published with attribution = \"role\": "
            "a transcript's file name, title and words can name the company it withholds; set publish_transcripts = "
            "false, or attribution = \"role-company\"")))
    if "timezone" in values:
        try:
            zoneinfo.ZoneInfo(values["timezone"])  # type: ignore[arg-type]
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zones = {zone for zone in zoneinfo.available_timezones() if not _NOT_A_BROWSER_ZONE.match(zone)}
            hint = did_you_mean(values["timezone"], zones)  # type: ignore[arg-type]
            problems.append(("timezone", error(path, line_of(text, "timezone"), f"unknown timezone '{values['timezone']}'{hint}")))
        else:
            if _NOT_A_BROWSER_ZONE.match(str(values["timezone"])):
                problems.append(("timezone", error(path, line_of(text, "timezone"), (
                    f"timezone '{values['timezone']}' is a file of this computer's, not a zone a browser knows (the "
                    "pages count days in it): use a zone's name, such as 'Europe/Berlin' or 'America/New_York'"))))
    if "base_url" in values and (problem := base_url_problem(values["base_url"])):  # type: ignore[arg-type]
        problems.append(("base_url", error(path, line_of(text, "base_url"), f"'base_url' {problem}")))
    theme = values.get("theme", "default")
    if not _THEME.match(str(theme)):
        problems.append(("theme", error(path, line_of(text, "theme"),
                         f"'theme' must be the name of a folder under themes/ (letters, digits and '-'), not '{theme}'")))
    for slug, label in dict(values.get("tags", {})).items():  # type: ignore[call-overload]
        line = line_of(text, slug)
        if not _SLUG.match(slug) or slug in ("index", "feed.xml", "quotes.json"):
            problems.append(("tags", error(path, line, f"tag '{slug}' must be lower-case letters, digits and '-'")))
        elif _MONTH.match(slug):
            problems.append(("tags", error(path, line, f"tag '{slug}' has the address of a month's archive page "
                                                       f"(personas/<role>/{slug}/): name it otherwise")))
        elif not isinstance(label, str):
            problems.append(("tags", error(path, line, f"the label of tag '{slug}' must be a string")))
    if values.get("tags") == {}:
        problems.append(("tags", error(path, line_of(text, "tags"), "[tags] must name at least one tag")))
    return problems


def load_config(root: Path) -> tuple[Config, list[Diagnostic]]:
    """Read persona-site.toml under root; a missing file means every default."""
    file = root / CONFIG_NAME
    if not file.is_file():
        return Config(), []
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return Config(), [error(CONFIG_NAME, 1, "this file is not UTF-8 text; save it as UTF-8")]
    return parse_config(text)
