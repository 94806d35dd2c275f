"""The course secret: it salts the inputs of hidden checks, so a release bundle cannot derive them.

Hidden checks seed their inputs from words (`random_cases("logsumexp/hidden", ...)`), and
`cases.py` ships in every student bundle; with the secret mixed into those seeds (keyed
BLAKE2b, `cases.hidden_inputs`) the words alone no longer give the inputs. Public checks stay
unsalted: a bundle replays their recorded answers. The secret comes from the environment
(`DLGRADE_COURSE_SECRET`, or `DLGRADE_COURSE_SECRET_FILE` naming a file) or from
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
    """A 31-bit seed from `words` keyed with the course secret; None outside a hidden check
    or without a secret."""
    key = _HIDDEN.get()
    if not key:
        return None
    return int.from_bytes(hashlib.blake2b(words, key=key, digest_size=4).digest(), "big") & 0x7FFFFFFF
