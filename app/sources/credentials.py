"""Encrypting CASE source credentials at rest.

The Fernet key is derived from SECRET_KEY with HKDF, so the database alone
(a backup, a replica) never reveals an API key or client secret. Without
SECRET_KEY no credentials are stored at all.
"""

from __future__ import annotations

import base64
import json

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

_KEY_PURPOSE = b"standards-bridge case-source credentials v1"


class CredentialsError(Exception):
    """Credentials cannot be stored or read; the message says what to do."""


def encrypt_credentials(
    secrets: dict[str, str], *, secret_key: SecretStr | None
) -> str:
    return _fernet(secret_key).encrypt(json.dumps(secrets).encode()).decode()


def decrypt_credentials(token: str, *, secret_key: SecretStr | None) -> dict[str, str]:
    try:
        plain = _fernet(secret_key).decrypt(token.encode())
    except InvalidToken:
        raise CredentialsError(
            "the stored credentials cannot be decrypted with the current "
            "SECRET_KEY (was it changed?); set the credentials again"
        ) from None
    decoded: dict[str, str] = json.loads(plain)
    return decoded


def _fernet(secret_key: SecretStr | None) -> Fernet:
    if secret_key is None or not secret_key.get_secret_value():
        raise CredentialsError(
            "SECRET_KEY is not set: credentials are stored encrypted with a key "
            "derived from it. Set SECRET_KEY (a long random string) and try again"
        )
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_PURPOSE
    ).derive(secret_key.get_secret_value().encode())
    return Fernet(base64.urlsafe_b64encode(derived))
