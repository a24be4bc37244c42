"""Role slugs and aliases: the one place that says which persona a role names (spec section 3)."""

from __future__ import annotations

import re

from .basics import Diagnostic, error
from .model import Persona
from .suggest import did_you_mean_role, new_persona_hint

RESERVED = ("internal", "unknown")
"""Roles that are no persona: our own side, and a speaker not yet assigned (spec section 4)."""


def roles_of(personas: list[Persona] | tuple[Persona, ...], problems: list[Diagnostic] | None = None,
             files: dict[str, bytes] | None = None) -> dict[str, str]:
    """Every slug and alias -> its persona's slug; an alias claimed twice is an error (at its persona's `aliases`
    line, found in `files`, the personas' bytes by path)."""
    problems = [] if problems is None else problems
    roles = {p.slug: p.slug for p in personas}
    for persona in personas:
        where = f"content/{persona.path}"
        if persona.slug in RESERVED:
            means = "our own side" if persona.slug == "internal" else "a speaker not yet assigned"
            problems.append(error(where, 1, f"'{persona.slug}' is a reserved role ({means}), so no quote can be this "
                                            "persona's: rename the file"))
        for alias in persona.aliases:
            if alias in roles and roles[alias] != persona.slug:
                problems.append(error(where, _aliases_line(files, where),
                                      f"the alias '{alias}' already means the persona '{roles[alias]}'"))
            elif alias in RESERVED:
                problems.append(error(where, _aliases_line(files, where),
                                      f"'{alias}' is a reserved role and cannot be an alias"))
            else:
                roles[alias] = persona.slug
    return roles


def resolve_role(role: str, personas: tuple[Persona, ...]) -> tuple[str | None, str]:
    """A slug or alias -> the persona slug, or (None, did-you-mean text and how to make the persona)."""
    names = roles_of(personas)
    return names.get(role), did_you_mean_role(role, names) + new_persona_hint(role)


def _aliases_line(files: dict[str, bytes] | None, path: str) -> int:
    """The line of a persona file's `aliases:` key; 1 when it cannot be told."""
    data = (files or {}).get(path, b"")
    found = re.search(rb"^aliases[ \t]*:", data, re.MULTILINE)
    return data.count(b"\n", 0, found.start()) + 1 if found else 1
