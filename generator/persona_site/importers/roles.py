"""Who is who: a role for each speaker from --role, --internal, the export and the personas' match_titles."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from ..frontmatter_yaml import fold
from ..model import Persona
from .call import Call

_PLACEHOLDER = re.compile(r"^(unknown speaker|speaker \d+|speaker [a-z])$", re.IGNORECASE)


def is_placeholder(name: str) -> bool:
    """'Unknown Speaker', 'Speaker 1': a recorder's stand-in, never matched to a role."""
    return bool(_PLACEHOLDER.match(name.strip()))


def match_title(title: str, personas: Collection[Persona]) -> tuple[str | None, str | None]:
    """The persona with a match_titles phrase in the job title (the longest phrase wins); a note on a tie."""
    best: dict[str, int] = {}
    for persona in personas:
        for phrase in persona.match_titles:
            phrase = phrase.strip()
            if phrase and re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", title, re.IGNORECASE):
                best[persona.slug] = max(best.get(persona.slug, 0), len(phrase))
    if not best:
        return None, None
    top = max(best.values())
    winners = sorted(slug for slug, length in best.items() if length == top)
    if len(winners) == 1:
        return winners[0], None
    return None, f"the title '{title}' matches the personas {' and '.join(winners)}: pick one with --role"


def assign_roles(call: Call, personas: Collection[Persona], given: Mapping[str, str],
                 internal: Collection[str]) -> tuple[dict[str, str | None], list[str]]:
    """Speaker -> role, or None when nothing says; given and internal are keyed by folded name."""
    parties = {fold(p.name): p for p in call.parties}
    roles: dict[str, str | None] = {}
    notes = []
    for name in call.speakers:
        key, party = fold(name), parties.get(fold(name))
        role = given.get(key)
        if role is None and (key in internal or (party and party.internal)):
            role = "internal"
        if role is None and party and party.title and not is_placeholder(name):
            role, note = match_title(party.title, personas)
            notes += [f"{name}: {note}"] if note else []
        roles[name] = role
    return roles, notes
