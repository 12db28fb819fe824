"""API keys: bearer tokens read from a file, compared in constant time, logged only by their id.

The file has one key per line, ``<key-id> <token>``; blank lines and lines starting with ``#`` are
skipped. Tokens are at least 32 characters (e.g. ``python -c "import secrets; print(secrets.token_urlsafe(32))"``).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvictusError, Location, Problem

MIN_TOKEN_LENGTH = 32
_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}", re.ASCII)


class ApiKeysError(InvictusError):
    """The API keys file cannot be used."""

    code = "api-keys"


@dataclass(frozen=True)
class ApiKeys:
    """The accepted keys, by id. With no keys, every request is accepted (loopback use only)."""

    tokens: tuple[tuple[str, bytes], ...]

    @classmethod
    def none(cls) -> ApiKeys:
        return cls(())

    @classmethod
    def from_file(cls, path: str | Path) -> ApiKeys:
        file = str(path)
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise ApiKeysError([Problem("api-keys-unreadable", f"cannot read the API keys file ({type(error).__name__})", "give a UTF-8 text file", Location(file))]) from None
        tokens: list[tuple[str, bytes]] = []
        problems: list[Problem] = []
        for number, line in enumerate(lines, 1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            parts = text.split()
            # The line is never quoted: it holds a secret.
            if len(parts) != 2 or not _KEY_ID.fullmatch(parts[0]):
                problems.append(Problem("api-key-line", "a line must be '<key-id> <token>'", "e.g. case-system-1 <a token of 32 or more characters>", Location(file, number, 1)))
            elif len(parts[1]) < MIN_TOKEN_LENGTH:
                problems.append(
                    Problem(
                        "api-key-short",
                        f"the token of key {parts[0]} is shorter than {MIN_TOKEN_LENGTH} characters",
                        'make one with: python -c "import secrets; print(secrets.token_urlsafe(32))"',
                        Location(file, number, 1),
                    )
                )
            else:
                tokens.append((parts[0], parts[1].encode()))
        if problems:
            raise ApiKeysError(problems)
        if not tokens:
            raise ApiKeysError([Problem("api-keys-empty", "the API keys file holds no key", "add a line '<key-id> <token>'", Location(file))])
        return cls(tuple(tokens))

    @property
    def required(self) -> bool:
        return bool(self.tokens)

    def check(self, authorization: str | None) -> str | None:
        """The key id for a valid ``Authorization: Bearer`` header, "-" when no keys are set, else None."""
        if not self.tokens:
            return "-"
        if not authorization or not authorization.startswith("Bearer "):
            return None
        presented = authorization[len("Bearer ") :].strip().encode()
        found = None
        for key_id, token in self.tokens:  # every key is compared, so timing does not tell which matched
            if hmac.compare_digest(presented, token):
                found = key_id
        return found
