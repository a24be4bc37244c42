"""The cache's seal: every file in the cache folder is written with an HMAC-SHA256 of its bytes, and read (unpickled,
or unmarshalled by Jinja) only when the seal is good (issue 21, item 1; SECURITY.md, item 37).

A pickle runs code as it loads. The cache folder sits in the content repository, where a pickle committed with
`git add -f`, or restored by CI from another branch's cache, would otherwise run on `check`, `build` and `serve`
of a fresh clone. The key is kept outside the repository, in the user's cache folder
($XDG_CACHE_HOME/persona-site/key, else ~/.cache/persona-site/key, made on first use, readable by its owner
only), or given in $PERSONA_SITE_CACHE_KEY (CI: from a secret). A clone has no key: whatever its cache folder holds
is a miss, and is built again. Without a key that can be read or made, the cache is off. Imports stay light.
"""

from __future__ import annotations

import hmac
import os
import tempfile
from functools import lru_cache
from pathlib import Path

KEY_ENV = "PERSONA_SITE_CACHE_KEY"
KEY_BYTES = 32
MAGIC = b"persona-site sealed 1\n"
_SEAL = len(MAGIC) + 32  # the magic, then the HMAC-SHA256 of the rest


def key_file() -> Path:
    """Where the key lives: in the user's cache folder, which a clone of a repository does not bring."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG rule: a relative value is ignored
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "persona-site" / "key"


def signing_key() -> bytes | None:
    """The key that seals the cache; None when there is none to be had (the cache is then off)."""
    given = os.environ.get(KEY_ENV, "")
    if given:
        return given.encode("utf-8", "surrogateescape")
    return _key_in(str(key_file()))


@lru_cache(maxsize=4)
def _key_in(path: str) -> bytes | None:
    """The key in this file, made (random, mode 0600) when there is none; None when it can be neither read nor made."""
    found = _read_key(path)
    if found is not None:
        return found
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".key.", dir=os.path.dirname(path))  # mode 0600
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(os.urandom(KEY_BYTES))
            try:
                os.link(temp, path)  # never over a key another process made meanwhile
            except FileExistsError:
                if _read_key(path) is None:  # one too short to be a key: replaced
                    os.replace(temp, path)
        finally:
            Path(temp).unlink(missing_ok=True)
    except OSError:
        return None
    return _read_key(path)


def _read_key(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            key = handle.read(4096)
    except OSError:
        return None
    return key if len(key) >= KEY_BYTES else None


def seal_of(data: bytes) -> bytes | None:
    """What to write before `data`: the magic and the data's HMAC; None without a key (write nothing)."""
    key = signing_key()
    return None if key is None else MAGIC + hmac.digest(key, data, "sha256")


def opened(sealed: bytes) -> memoryview | None:
    """The data of a file written as seal_of(data) + data, when its seal is good with this user's key; else None (a miss)."""
    key = signing_key()
    if key is None or len(sealed) < _SEAL or not sealed.startswith(MAGIC):
        return None
    data = memoryview(sealed)[_SEAL:]
    return data if hmac.compare_digest(sealed[len(MAGIC):_SEAL], hmac.digest(key, data, "sha256")) else None
