"""The course secret: it salts checks' inputs, so neither a release bundle nor public feedback gives them.

Hidden checks seed their inputs from words (`random_cases("logsumexp/hidden", ...)`), and
`cases.py` ships in every student bundle; with the secret mixed into those seeds (keyed
BLAKE2b, `hidden_inputs`) the words alone no longer give the inputs. Where grading counts (a
secret and the model solutions: `fresh_inputs`), public checks draw afresh too, under a key of
their own, so a table of the answers public feedback showed does not score; the student's own
`grade` (no secret, or a bundle replaying recorded answers) keeps the fixed draws. The secret
comes from the environment (`DLGRADE_COURSE_SECRET`, or `DLGRADE_COURSE_SECRET_FILE` naming a file) or from
`.dlgrade-secret` beside course.toml (git-ignored, never put in a release); `grade dev secret`
makes one. Every grading machine of a course needs the same secret to give the same grades.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

from dlgrade.core.atomic import write_atomic
from dlgrade.core.manifest import ManifestError

ENV = "DLGRADE_COURSE_SECRET"
FILE_ENV = "DLGRADE_COURSE_SECRET_FILE"
FILE_NAME = ".dlgrade-secret"
NOTICE = (
    "no course secret: hidden checks' inputs can be derived from the release bundle "
    f"(set {ENV} or run `grade dev secret` beside course.toml)"
)


class SecretError(ManifestError):
    """The course secret cannot be read or made; the message is one line."""


def default_path(root: Path) -> Path:
    return Path(root) / FILE_NAME


def load(root: Path) -> str | None:
    """The course secret, or None when there is none (grading then notes it in the result)."""
    value = os.environ.get(ENV, "").strip()
    if value:
        return value
    named = os.environ.get(FILE_ENV, "").strip()
    path = Path(named) if named else default_path(root)
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        if named:
            raise SecretError(f"{FILE_ENV} names {path}, which does not exist") from None
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretError(f"cannot read the course secret {path}: {exc}") from None
    return text or None


def create(root: Path) -> Path:
    """Write a new random secret to .dlgrade-secret beside course.toml (mode 0600)."""
    path = default_path(root)
    if path.exists():
        raise SecretError(f"{path} exists already; delete it first to make a new secret")
    return write_atomic(path, secrets.token_hex(32) + "\n")


# Set while a hidden check runs: the course secret's key (b"" when there is none).
_HIDDEN: ContextVar[bytes | None] = ContextVar("dlgrade_hidden_inputs", default=None)
# Set for a whole grading run that counts: the key of every other check's draws.
_FRESH: ContextVar[bytes | None] = ContextVar("dlgrade_fresh_inputs", default=None)
_FRESH_PERSON = b"dlgrade/fresh"  # a key apart from the hidden checks': no draw of one is the other's


@contextlib.contextmanager
def fresh_inputs(secret: str | None) -> Iterator[None]:
    """Inputs drawn inside (collection, fixtures, checks) are keyed with the course secret, so
    they differ from the fixed draws the student saw; `None` keeps the fixed draws. A hidden
    check inside keeps its own key (`hidden_inputs`)."""
    key = hashlib.blake2b(secret.encode(), digest_size=32, person=_FRESH_PERSON).digest() if secret else None
    token = _FRESH.set(key)
    try:
        yield
    finally:
        _FRESH.reset(token)


@contextlib.contextmanager
def hidden_inputs(secret: str | None) -> Iterator[None]:
    """Inputs drawn inside are a hidden check's: `dlgrade.kit.cases` salts their seeds with the
    secret (the course's words and seeds ship in the bundle; the secret does not)."""
    key = hashlib.blake2b(secret.encode(), digest_size=32).digest() if secret else b""
    token = _HIDDEN.set(key)
    try:
        yield
    finally:
        _HIDDEN.reset(token)


def hidden() -> bool:
    """Whether a hidden check is drawing its inputs now."""
    return _HIDDEN.get() is not None


def salted(words: bytes) -> int | None:
    """A 31-bit seed from `words` keyed with the course secret (the hidden checks' key inside
    one, else the fresh draws' key); None for fixed draws (no secret, no fresh draws)."""
    key = _HIDDEN.get()
    if key is None:
        key = _FRESH.get()
    if not key:
        return None
    return int.from_bytes(hashlib.blake2b(words, key=key, digest_size=4).digest(), "big") & 0x7FFFFFFF
