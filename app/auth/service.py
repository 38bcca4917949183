"""API clients, the client credentials grant, and the access tokens it issues.

District and state systems call the API as OAuth 2 confidential clients
(RFC 6749 §4.4): they trade a client id and secret for a short-lived access
token and send it as `Authorization: Bearer` (RFC 6750).

Access tokens are JWTs in the RFC 9068 profile (`typ: at+jwt`), signed RS256
with the tool's current key from `app.keys`. One key lifecycle then serves
LTI and the API, nothing secret has to be configured or shared between
workers, and a resource server can verify tokens offline against the tool's
published JWKS. What the tool signs for LMSs (client assertions, deep-linking
responses) cannot pass as an access token: those carry another `typ`, `iss`
and `aud`, all three of which verification insists on.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import ApiClient
from app.database import utcnow
from app.keys.service import ensure_signing_key, public_jwks
from app.organizations.models import Organization
from app.organizations.service import get_default_organization_id
from app.problems import Problem

log = structlog.get_logger()

ADMIN_SCOPE = "admin"

# The fixed set of scopes a client may hold. `admin` implies every other one.
SCOPES: dict[str, str] = {
    "frameworks:read": "Read frameworks and competencies",
    "frameworks:write": "Import and change frameworks",
    "evidence:read": "Read evidence",
    "evidence:write": "Record and void evidence",
    "reports:read": "Read mastery and reports",
    "people:read": "Read people",
    "people:write": "Create and change people",
    "platforms:admin": "Register and change LMS platforms",
    ADMIN_SCOPE: "Everything above, and managing API clients",
}

ACCESS_TOKEN_TYPE = "at+jwt"
SIGNING_ALGORITHM = "RS256"
NAME_MAX_LENGTH = 255
CLIENT_ID_BYTES = 16
# 256 bits from the OS's CSPRNG: far beyond guessing, which is what lets
# `hash_secret` use a fast hash.
CLIENT_SECRET_BYTES = 32
SECRET_HASH_SCHEME = "hmac-sha256"
SCOPE_SEPARATORS = re.compile(r"[\s,]+")


class OAuthError(Exception):
    """A token request refused with an RFC 6749 §5.2 error code."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


class InvalidToken(Exception):
    """An access token that must not be honoured; the message says why."""


@dataclass(frozen=True)
class CreatedClient:
    """A new client and its secret: the one moment the secret exists in clear."""

    client: ApiClient
    client_secret: str


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scopes: tuple[str, ...]

    @property
    def scope(self) -> str:
        return " ".join(self.scopes)


@dataclass(frozen=True)
class AuthenticatedClient:
    """The caller behind a verified access token, as routes see it."""

    id: uuid.UUID
    client_id: str
    organization_id: uuid.UUID
    scopes: frozenset[str]

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes or ADMIN_SCOPE in self.scopes


def new_client_id() -> str:
    """A random client id, in hex: URL-safe and never starting with "-".

    An id beginning with a dash would be read as an option by the command line
    (`standards-bridge clients revoke -Vj...`).
    """
    return secrets.token_hex(CLIENT_ID_BYTES)


def split_scopes(value: str) -> list[str]:
    """Scopes as people type them: separated by spaces (RFC 6749) or commas."""
    return [scope for scope in SCOPE_SEPARATORS.split(value) if scope]


def canonical_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """Known scopes, each once, in the documented order."""
    wanted = set(scopes)
    return tuple(scope for scope in SCOPES if scope in wanted)


def unknown_scopes(scopes: Iterable[str]) -> list[str]:
    return sorted({scope for scope in scopes if scope not in SCOPES})


def hash_secret(secret: str) -> str:
    """A salted HMAC-SHA256 of a client secret, as stored.

    Slow password hashes (scrypt, argon2) exist to make guessing low-entropy
    passwords expensive. A client secret is 256 random bits, so no amount of
    fast guessing reaches it; a slow hash would only turn every token request
    into CPU work an attacker could make the server do. The per-client salt
    keeps equal secrets from having equal hashes.
    """
    salt = secrets.token_bytes(16)
    digest = _secret_digest(salt=salt, secret=secret)
    return f"{SECRET_HASH_SCHEME}${salt.hex()}${digest}"


def secret_matches(*, secret: str, stored_hash: str) -> bool:
    scheme, _, rest = stored_hash.partition("$")
    salt_hex, _, digest = rest.partition("$")
    if scheme != SECRET_HASH_SCHEME or not digest:
        return False
    candidate = _secret_digest(salt=bytes.fromhex(salt_hex), secret=secret)
    return hmac.compare_digest(candidate, digest)


def _secret_digest(*, salt: bytes, secret: str) -> str:
    return hmac.new(salt, secret.encode("utf-8"), hashlib.sha256).hexdigest()


def create_client(
    session: Session,
    *,
    name: str,
    scopes: Iterable[str],
    organization_id: uuid.UUID | None = None,
) -> CreatedClient:
    """Register a client; the caller commits, then shows the secret once."""
    clean_name = _checked_name(name)
    granted = _checked_scopes(list(scopes))
    owner_id = _checked_organization(session, organization_id=organization_id)

    client_secret = secrets.token_urlsafe(CLIENT_SECRET_BYTES)
    client = ApiClient(
        organization_id=owner_id,
        client_id=new_client_id(),
        name=clean_name,
        secret_hash=hash_secret(client_secret),
        scopes=list(granted),
    )
    session.add(client)
    session.flush()
    log.info(
        "api_client.created",
        client_id=client.client_id,
        organization_id=str(owner_id),
        scopes=list(granted),
    )
    return CreatedClient(client=client, client_secret=client_secret)


def list_clients(
    session: Session, *, organization_id: uuid.UUID | None = None
) -> list[ApiClient]:
    """Every client, oldest first; only one organization's when it is given."""
    statement = select(ApiClient).order_by(ApiClient.created_at, ApiClient.client_id)
    if organization_id is not None:
        statement = statement.where(ApiClient.organization_id == organization_id)
    return list(session.scalars(statement))


def find_client(session: Session, *, client_id: str) -> ApiClient | None:
    statement = select(ApiClient).where(ApiClient.client_id == client_id)
    return session.scalars(statement).one_or_none()


def get_client(
    session: Session, *, client_id: str, organization_id: uuid.UUID | None = None
) -> ApiClient:
    """The client, or a 404 when it does not exist or belongs to another owner."""
    client = find_client(session, client_id=client_id)
    if client is None or (
        organization_id is not None and client.organization_id != organization_id
    ):
        raise Problem(
            404,
            "api-client-not-found",
            f"No API client has client_id {client_id!r}.",
            field="client_id",
        )
    return client


def revoke_client(
    session: Session,
    *,
    client_id: str,
    organization_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> ApiClient:
    """Revoke a client: it gets no new tokens and its current ones stop working.

    Revoking again keeps the first revocation time.
    """
    client = get_client(session, client_id=client_id, organization_id=organization_id)
    if client.revoked_at is None:
        client.revoked_at = now or utcnow()
        session.flush()
        log.info("api_client.revoked", client_id=client.client_id)
    return client


def authenticate_client(
    session: Session, *, client_id: str, client_secret: str
) -> ApiClient:
    """The client these credentials prove, or `invalid_client`.

    One answer for an unknown id, a wrong secret and a revoked client, so the
    endpoint does not tell which client ids exist.
    """
    client = find_client(session, client_id=client_id)
    if (
        client is None
        or client.is_revoked
        or not secret_matches(secret=client_secret, stored_hash=client.secret_hash)
    ):
        log.info("api_client.authentication_failed", client_id=client_id)
        raise OAuthError("invalid_client", "Client authentication failed.")
    return client


def grantable_scopes(client: ApiClient, *, requested: str | None) -> tuple[str, ...]:
    """The scopes a token for `client` carries: all of its own unless narrowed.

    RFC 6749 §3.3: a requested scope must name known scopes the client holds;
    a client holding `admin` may ask for any of them.
    """
    held = set(client.scopes)
    if requested is None or not requested.strip():
        return canonical_scopes(held)

    asked = requested.split()
    unknown = unknown_scopes(asked)
    if unknown:
        raise OAuthError("invalid_scope", f"Unknown scope: {' '.join(unknown)}.")
    allowed = set(SCOPES) if ADMIN_SCOPE in held else held
    refused = sorted(set(asked) - allowed)
    if refused:
        raise OAuthError(
            "invalid_scope", f"The client does not hold scope: {' '.join(refused)}."
        )
    return canonical_scopes(asked)


def issue_access_token(
    session: Session,
    *,
    client: ApiClient,
    scopes: tuple[str, ...],
    issuer: str,
    audience: str,
    ttl_seconds: int,
    now: datetime | None = None,
) -> IssuedToken:
    """Sign an RFC 9068 access token for `client`."""
    issued_at = now or utcnow()
    expires_at = issued_at + timedelta(seconds=ttl_seconds)
    key = ensure_signing_key(session)

    header = {"alg": SIGNING_ALGORITHM, "typ": ACCESS_TOKEN_TYPE, "kid": key.kid}
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": client.client_id,
        "client_id": client.client_id,
        "scope": " ".join(scopes),
        "iat": int(issued_at.timestamp()),
        "exp": int(expires_at.timestamp()),
        "jti": secrets.token_urlsafe(16),
    }
    token = jwt.encode(header, claims, RSAKey.import_key(key.private_key_pem))
    log.info("access_token.issued", client_id=client.client_id, scopes=list(scopes))
    return IssuedToken(access_token=token, expires_in=ttl_seconds, scopes=scopes)


def verify_access_token(
    session: Session, *, token: str, issuer: str, audience: str
) -> AuthenticatedClient:
    """The client an access token speaks for, or `InvalidToken`.

    The client is looked up on every call, so revoking it ends its tokens at
    once rather than when they expire.
    """
    claims = _verified_claims(session, token=token, issuer=issuer, audience=audience)

    client = find_client(session, client_id=str(claims["client_id"]))
    if client is None or client.is_revoked:
        raise InvalidToken("The client this access token was issued to is revoked.")

    # A token never carries more than its client holds now.
    held = set(client.scopes)
    granted = set(str(claims.get("scope", "")).split())
    if ADMIN_SCOPE not in held:
        granted &= held
    return AuthenticatedClient(
        id=client.id,
        client_id=client.client_id,
        organization_id=client.organization_id,
        scopes=frozenset(granted),
    )


def _verified_claims(
    session: Session, *, token: str, issuer: str, audience: str
) -> dict[str, object]:
    # Every published key, not only the current one, so that tokens signed just
    # before a key rotation keep working until they expire.
    published = public_jwks(session)
    try:
        keys = KeySet.import_key_set(published)  # type: ignore[arg-type]
        decoded = jwt.decode(token, keys, algorithms=[SIGNING_ALGORITHM])
        if decoded.header.get("typ") != ACCESS_TOKEN_TYPE:
            raise InvalidToken("The bearer token is not an access token.")
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
            sub={"essential": True},
            client_id={"essential": True},
        ).validate(decoded.claims)
    except ExpiredTokenError:
        raise InvalidToken("The access token has expired.") from None
    except (JoseError, ValueError):
        raise InvalidToken("The access token is malformed or not ours.") from None
    return decoded.claims


def _checked_name(name: str) -> str:
    clean = name.strip()
    if not clean:
        raise Problem(
            422, "invalid-client-name", "An API client needs a name.", field="name"
        )
    if len(clean) > NAME_MAX_LENGTH:
        raise Problem(
            422,
            "invalid-client-name",
            f"An API client's name has at most {NAME_MAX_LENGTH} characters.",
            field="name",
        )
    return clean


def _checked_scopes(scopes: list[str]) -> tuple[str, ...]:
    known = ", ".join(SCOPES)
    unknown = unknown_scopes(scopes)
    if unknown:
        raise Problem(
            422,
            "unknown-scope",
            f"Unknown scope {', '.join(unknown)}; the scopes are: {known}.",
            field="scopes",
        )
    if not scopes:
        raise Problem(
            422,
            "missing-scope",
            f"An API client needs at least one scope of: {known}.",
            field="scopes",
        )
    return canonical_scopes(scopes)


def _checked_organization(
    session: Session, *, organization_id: uuid.UUID | None
) -> uuid.UUID:
    if organization_id is None:
        return get_default_organization_id(session)
    if session.get(Organization, organization_id) is None:
        raise Problem(
            404,
            "organization-not-found",
            f"No organization has id {organization_id}.",
            field="organization_id",
        )
    return organization_id
