"""'did you mean ...?' for names the user mistyped."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return " (did you mean 'x'?)"-style text, or '' when nothing is close."""
    close = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def did_you_mean_role(word: str, roles: dict[str, str], others: Iterable[str] = ()) -> str:
    """did_you_mean over role slugs and aliases (alias -> persona slug in `roles`), naming the persona: an alias
    is a second name, the slug is the one people see on the site (issue 19, item 9: 'revops' means
    'head-of-revops', not its alias 'revops-lead')."""
    close = difflib.get_close_matches(word.lower(), sorted({*roles, *others}), n=1, cutoff=0.6)  # slugs: lower case
    return f"; did you mean '{roles.get(close[0], close[0])}'?" if close else ""


def new_persona_hint(role: str) -> str:
    """How to make a role that no persona defines yet, when it can be a file name."""
    if re.fullmatch(r"[a-z0-9][a-z0-9-]*", role):
        return f" (a new persona is a file: create content/personas/{role}.md)"
    return ""
