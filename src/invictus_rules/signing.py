"""Ed25519 signatures on manifest entries: who published a version, checkable by anyone.

Each manifest entry (a published file's path and sha256) may carry a signature made with a signing
key. The matching public keys are kept in the repository, ``rulesets/keys/<key id>.pub`` (PEM);
a key id is the first 16 hex digits of the sha256 of the raw public key. The private key stays with
the publisher: a PEM file named by ``--signing-key`` or ``INVICTUS_SIGNING_KEY``, never in the
repository.

What is signed: ``invictus-rules/manifest-entry/v1``, the entry's path and its sha256, one per line,
so a signature cannot be moved to another file or another content.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path
from typing import Any, Literal, Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from .errors import InvictusError, Location, Problem

SIGNING_KEY_ENV = "INVICTUS_SIGNING_KEY"
KEYS_FOLDER = "keys"
_CONTEXT = b"invictus-rules/manifest-entry/v1\n"

SignatureState = Literal["valid", "unsigned", "unknown-key", "bad-signature"]


class SigningError(InvictusError):
    """A signing key cannot be read, or a key file is not an Ed25519 key."""

    code = "signing"


def entry_message(path_key: str, sha256: str) -> bytes:
    return _CONTEXT + path_key.encode("utf-8") + b"\n" + sha256.encode("ascii") + b"\n"


def key_id_of(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def read_private_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """The Ed25519 private key in a PEM file (unencrypted), or a SigningError saying what is wrong."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SigningError([Problem("signing-key-unreadable", f"cannot read the signing key: {exc.strerror or exc}", "check the path given by --signing-key or INVICTUS_SIGNING_KEY", Location(str(path)))]) from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError([Problem("signing-key-invalid", "the signing key is not an unencrypted Ed25519 private key in PEM form", "create one with 'invictus-rules keygen --out FILE'", Location(str(path)))])
    return key


def signing_key_from(option: str | None) -> Ed25519PrivateKey | None:
    """The signing key named by an option, else by INVICTUS_SIGNING_KEY, else none (publish unsigned)."""
    path = option or os.environ.get(SIGNING_KEY_ENV) or None
    return read_private_key(path) if path else None


def sign_entry(private_key: Ed25519PrivateKey, path_key: str, sha256: str) -> dict[str, str]:
    signature = private_key.sign(entry_message(path_key, sha256))
    return {"key_id": key_id_of(private_key.public_key()), "signature": base64.b64encode(signature).decode("ascii")}


def read_public_keys(rulesets_dir: Path) -> dict[str, Ed25519PublicKey]:
    """The public keys kept in the repository (``keys/*.pub``), by key id; files that are not keys are skipped."""
    keys: dict[str, Ed25519PublicKey] = {}
    folder = rulesets_dir / KEYS_FOLDER
    if not folder.is_dir():
        return keys
    for path in sorted(folder.glob("*.pub")):
        try:
            key = serialization.load_pem_public_key(path.read_bytes())
        except (OSError, ValueError, TypeError):
            continue
        if isinstance(key, Ed25519PublicKey):
            keys[key_id_of(key)] = key
    return keys


def check_signature(signature: Mapping[str, Any] | None, path_key: str, sha256: str, keys: Mapping[str, Ed25519PublicKey]) -> SignatureState:
    """Whether an entry's signature is valid with one of the repository's public keys."""
    if not signature:
        return "unsigned"
    key = keys.get(str(signature.get("key_id", "")))
    if key is None:
        return "unknown-key"
    try:
        key.verify(base64.b64decode(str(signature.get("signature", "")), validate=True), entry_message(path_key, sha256))
    except (InvalidSignature, binascii.Error, ValueError):
        return "bad-signature"
    return "valid"


def generate_key(private_out: Path, rulesets_dir: Path) -> str:
    """A new signing key: the private PEM written to ``private_out`` (mode 0600, never overwritten),
    the public PEM to ``rulesets_dir/keys/<key id>.pub``; returns the key id."""
    key = Ed25519PrivateKey.generate()
    key_id = key_id_of(key.public_key())
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    try:
        handle = os.open(private_out, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        raise SigningError([Problem("key-file-exists", f"{private_out} exists already", "choose another file: a signing key is never overwritten", Location(str(private_out)))]) from None
    with os.fdopen(handle, "wb") as stream:
        stream.write(private)
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    folder = rulesets_dir / KEYS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{key_id}.pub").write_bytes(public)
    return key_id


__all__ = ["SIGNING_KEY_ENV", "SigningError", "check_signature", "generate_key", "read_public_keys", "sign_entry", "signing_key_from"]
