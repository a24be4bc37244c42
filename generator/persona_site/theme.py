"""Where templates and static files come from: the site's own theme, file by file over the built-in one."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .basics import Diagnostic, error
from .content import LINK_OUT

BUILTIN_THEME = Path(__file__).parent / "themes" / "default"
if not BUILTIN_THEME.is_dir():  # running from a source checkout (editable install)
    BUILTIN_THEME = Path(__file__).resolve().parents[2] / "themes" / "default"


@dataclass(frozen=True)
class Theme:
    """Where templates and static files come from: the user's theme first, then the built-in one."""

    folders: tuple[Path, ...]
    """Theme folders, the first one wins file by file."""

    @classmethod
    def for_site(cls, source: Path, name: str) -> "Theme":
        user = source / "themes" / name
        return cls((user, BUILTIN_THEME) if user.is_dir() else (BUILTIN_THEME,))

    def static_files(self) -> dict[str, bytes]:
        """Every static file, the user's theme first; never a link out of its theme folder."""
        files: dict[str, bytes] = {}
        for folder in reversed(self.folders):
            static = folder / "static"
            if static.is_dir():
                for path in sorted(static.rglob("*")):
                    if path.is_file() and path.resolve().is_relative_to(folder.resolve()):
                        files[path.relative_to(static).as_posix()] = path.read_bytes()
        return files

    def own_path(self, name: str) -> str:
        """A file of the site's own theme as themes/<name>/templates/x.html, relative to the source as every path
        is; any other name as it is."""
        for folder in self.folders:
            if folder != BUILTIN_THEME and Path(name).is_relative_to(folder):
                return (Path("themes") / folder.name / Path(name).relative_to(folder)).as_posix()
        return name


def theme_links(source: Path) -> list[Diagnostic]:
    """A link in a theme that leads outside the repository, or themes/ being one (SECURITY.md, items 9 and 40;
    content/ is checked as it is read). With --rev too: the theme is the work tree's (issue 21, item 4)."""
    root = source.resolve()
    if os.path.islink(source / "themes") and not (source / "themes").resolve().is_relative_to(root):
        return [error("themes", 0, LINK_OUT)]  # the folder itself: every file in it is outside (issue 21, item 3)
    problems = []
    for dirpath, dirnames, filenames in os.walk(source / "themes"):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                problems.append(error(path.relative_to(source).as_posix(), 0, LINK_OUT))
    return problems
