"""The pylti1p3 gaps closed in connectors.lti, each on its own.

Whole launches exercise these over HTTP in test_lti_launch; here each rule
is pinned down directly.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from app.database import utcnow
from app.lti.service import DatabaseNonceLedger, DatabaseStore
from connectors.lti import LaunchRejected, PlatformKeySets
from connectors.lti.launch import _audience_client_id
from connectors.lti.roles import can_align, is_learner
from tests.conftest import LTI_SHAPES_DIR
from tests.lti_platform import LIS, SigningKey

# The nonce trap: pylti1p3 never marks a nonce used.


def test_a_nonce_is_claimed_once_per_issuer(session: Session) -> None:
    ledger = DatabaseNonceLedger(session)
    later = utcnow() + timedelta(hours=1)

    first = ledger.claim(issuer="https://lms.example", nonce="n-1", expires_at=later)
    again = ledger.claim(issuer="https://lms.example", nonce="n-1", expires_at=later)
    other_issuer = ledger.claim(
        issuer="https://other.example", nonce="n-1", expires_at=later
    )

    assert (first, again, other_issuer) == (True, False, True)


# The audience trap: pylti1p3 takes aud[0] and ignores azp.


@pytest.mark.parametrize(
    ("body", "client_id"),
    [
        ({"aud": "tool"}, "tool"),
        ({"aud": ["tool"]}, "tool"),
        ({"aud": "tool", "azp": "tool"}, "tool"),
        ({"aud": ["other", "tool"], "azp": "tool"}, "tool"),
    ],
)
def test_the_client_id_is_the_audience_azp_names(
    body: dict[str, object], client_id: str
) -> None:
    assert _audience_client_id(body) == client_id


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        ({}, "audience-missing"),
        ({"aud": []}, "audience-missing"),
        ({"aud": ["tool", 7]}, "audience-missing"),
        ({"aud": ["tool", "other"]}, "azp-missing"),
        ({"aud": ["tool", "other"], "azp": "third"}, "wrong-audience"),
        ({"aud": "tool", "azp": "other"}, "wrong-audience"),
    ],
)
def test_an_unclear_audience_is_refused(body: dict[str, object], rule: str) -> None:
    with pytest.raises(LaunchRejected) as refused:
        _audience_client_id(body)

    assert refused.value.rule == rule


# The key-rotation trap: pylti1p3 never refetches a platform's keys.


def test_an_unknown_kid_refetches_the_key_set_once(session: Session) -> None:
    old, new = SigningKey.generate(), SigningKey.generate()
    published = {"keys": [old.public_jwk]}
    fetched: list[str] = []

    def fetch(url: str) -> dict[str, object]:
        fetched.append(url)
        return published

    key_sets = PlatformKeySets(
        store=DatabaseStore(session), cache_seconds=3600, fetch=fetch
    )
    url = "https://lms.example/jwks"

    assert key_sets.key_for(keyset_url=url, kid=old.kid)["kid"] == old.kid
    assert key_sets.key_for(keyset_url=url, kid=old.kid)["kid"] == old.kid
    assert fetched == [url]

    published = {"keys": [new.public_jwk]}
    assert key_sets.key_for(keyset_url=url, kid=new.kid)["kid"] == new.kid
    assert fetched == [url, url]

    with pytest.raises(LaunchRejected) as refused:
        key_sets.key_for(keyset_url=url, kid="never-published")
    assert refused.value.rule == "unknown-signing-key"
    assert fetched == [url, url, url]


def test_with_caching_off_every_launch_fetches(session: Session) -> None:
    key = SigningKey.generate()
    fetched: list[str] = []

    def fetch(url: str) -> dict[str, object]:
        fetched.append(url)
        return {"keys": [key.public_jwk]}

    key_sets = PlatformKeySets(
        store=DatabaseStore(session), cache_seconds=0, fetch=fetch
    )
    for _ in range(2):
        key_sets.key_for(keyset_url="https://lms.example/jwks", kid=key.kid)

    assert len(fetched) == 2


def test_the_store_forgets_expired_entries(session: Session) -> None:
    store = DatabaseStore(session)
    store.put("fresh", {"a": 1}, ttl_seconds=60)
    store.put("stale", {"b": 2}, ttl_seconds=-1)

    assert store.get("fresh") == {"a": 1}
    assert store.get("stale") is None
    store.put("fresh", {"a": 2}, ttl_seconds=60)
    assert store.get("fresh") == {"a": 2}


# Roles as the real platforms send them.


def _roles(relative_path: str) -> list[str]:
    document = json.loads((LTI_SHAPES_DIR / relative_path).read_text())
    claims = document.get("claims", document)
    return claims["https://purl.imsglobal.org/spec/lti/claim/roles"]


@pytest.mark.parametrize(
    ("shape", "aligns", "learns"),
    [
        ("moodle-4.5/03-id_token-resource-link-student.json", False, True),
        ("moodle-4.5/04-id_token-resource-link-instructor.json", True, False),
        ("moodle-4.5/05-id_token-resource-link-site-admin.json", True, False),
        ("samples/canvas-resource-link-launch.json", False, True),
    ],
)
def test_roles_of_real_launches(shape: str, aligns: bool, learns: bool) -> None:
    roles = _roles(shape)

    assert (can_align(roles), is_learner(roles)) == (aligns, learns)


@pytest.mark.parametrize(
    ("roles", "aligns"),
    [
        ([LIS + "membership#ContentDeveloper"], True),
        ([LIS + "membership/Instructor#TeachingAssistant"], True),
        ([LIS + "system/person#SysAdmin"], True),
        (["Instructor"], True),
        ([LIS + "institution/person#Instructor"], False),
        ([LIS + "membership#Mentor"], False),
        ([LIS + "system/person#User"], False),
    ],
)
def test_staff_roles(roles: list[str], aligns: bool) -> None:
    assert can_align(roles) is aligns
