"""Encrypting the tool's private keys at rest with a key derived from SECRET_KEY.

The cipher is process-wide because the column type that uses it has no access
to settings: the app configures it from its settings at start, and anything
that never configures it (the command line) reads SECRET_KEY from the
environment on first use. Without SECRET_KEY keys are stored unencrypted,
which the embedded single-machine default accepts; encrypted keys then cannot
be read, and say so.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

from app.settings import get_settings

# Stored values that start with this are ciphertext; anything else is a PEM
# written while no SECRET_KEY was set, and is read as it is.
ENCRYPTED_PREFIX = "fernet:"
# Separates this key from others derived from the same SECRET_KEY.
_KEY_PURPOSE = b"standards-bridge tool signing keys v1"

_UNSET = object()
_configured: object = _UNSET


class KeyEncryptionError(Exception):
    """A stored private key cannot be decrypted; the message says what to do."""


def use_secret_key(secret_key: SecretStr | None) -> None:
    """Encrypt and decrypt private keys with `secret_key` from now on."""
    global _configured
    _configured = _cipher_from(secret_key)


def is_encrypting() -> bool:
    return _cipher() is not None


def encrypt_private_key(pem: str) -> str:
    cipher = _cipher()
    if cipher is None:
        return pem
    return ENCRYPTED_PREFIX + cipher.encrypt(pem.encode("ascii")).decode("ascii")


def decrypt_private_key(stored: str) -> str:
    if not stored.startswith(ENCRYPTED_PREFIX):
        return stored
    cipher = _cipher()
    if cipher is None:
        raise KeyEncryptionError(
            "the tool's private keys are stored encrypted but SECRET_KEY is not "
            "set; set it to the value the keys were encrypted with"
        )
    try:
        return cipher.decrypt(stored.removeprefix(ENCRYPTED_PREFIX)).decode("ascii")
    except InvalidToken:
        raise KeyEncryptionError(
            "the tool's private keys cannot be decrypted with the current "
            "SECRET_KEY (was it changed?); restore the previous value"
        ) from None


def _cipher() -> Fernet | None:
    global _configured
    if _configured is _UNSET:
        _configured = _cipher_from(get_settings().secret_key)
    assert _configured is None or isinstance(_configured, Fernet)
    return _configured


def _cipher_from(secret_key: SecretStr | None) -> Fernet | None:
    if secret_key is None or not secret_key.get_secret_value():
        return None
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_PURPOSE
    ).derive(secret_key.get_secret_value().encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(derived))
