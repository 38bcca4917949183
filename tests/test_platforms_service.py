"""Platform registration in the store: create, update, deployments, validation."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.platforms import service
from app.platforms.models import Deployment, Platform
from app.problems import Problem
from tests.conftest import LTI_SHAPES_DIR

MOODLE_CONFIGURATION = json.loads(
    (LTI_SHAPES_DIR / "moodle-4.5" / "12-platform-openid-configuration.json").read_text(
        encoding="utf-8"
    )
)
# Moodle's client id and deployment id as captured in its dynamic registration
# (a 15-character client id; the deployment id is the tool type id).
MOODLE_CLIENT_ID = "HNEXm4U9bIkeE7H"


def moodle_registration(**overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "issuer": MOODLE_CONFIGURATION["issuer"],
        "client_id": MOODLE_CLIENT_ID,
        "auth_login_url": MOODLE_CONFIGURATION["authorization_endpoint"],
        "auth_token_url": MOODLE_CONFIGURATION["token_endpoint"],
        "keyset_url": MOODLE_CONFIGURATION["jwks_uri"],
        "deployment_ids": ["2"],
        "name": "Lab Moodle",
        "product": "moodle",
    }
    fields.update(overrides)
    return fields


def stored_counts(session: Session) -> tuple[int, int]:
    session.rollback()
    platforms = session.scalar(select(func.count()).select_from(Platform))
    deployments = session.scalar(select(func.count()).select_from(Deployment))
    return platforms or 0, deployments or 0


def test_register_creates_a_platform_with_its_deployments(session: Session) -> None:
    platform = service.register_platform(session, **moodle_registration())
    session.commit()

    found = service.find_platform(
        session, issuer="http://127.0.0.1:8000", client_id=MOODLE_CLIENT_ID
    )
    assert found is not None
    assert found.id == platform.id
    assert found.auth_login_url == "http://127.0.0.1:8000/mod/lti/auth.php"
    assert found.keyset_url == "http://127.0.0.1:8000/mod/lti/certs.php"
    assert [d.deployment_id for d in found.deployments] == ["2"]
    assert service.has_deployment(found, "2")
    assert not service.has_deployment(found, "3")


def test_register_again_updates_urls_and_adds_deployments(session: Session) -> None:
    first = service.register_platform(session, **moodle_registration())
    session.commit()

    again = service.register_platform(
        session,
        **moodle_registration(
            keyset_url="https://moodle.example.edu/mod/lti/certs.php",
            deployment_ids=["2", "5"],
            name="",
            product="other",
        ),
    )
    session.commit()

    assert again.id == first.id
    assert again.keyset_url == "https://moodle.example.edu/mod/lti/certs.php"
    # An empty name and the default product keep the stored values.
    assert again.name == "Lab Moodle"
    assert again.product == "moodle"
    assert sorted(d.deployment_id for d in again.deployments) == ["2", "5"]
    assert stored_counts(session) == (1, 2)


def test_find_by_issuer_alone_needs_a_single_registration(session: Session) -> None:
    service.register_platform(session, **moodle_registration())
    session.commit()
    assert service.find_platform(session, issuer="http://127.0.0.1:8000") is not None

    service.register_platform(session, **moodle_registration(client_id="second"))
    session.commit()

    # Two client ids under one issuer: the caller has to say which.
    assert service.find_platform(session, issuer="http://127.0.0.1:8000") is None
    assert service.find_platform(session, issuer="https://other.example") is None


def test_repeated_deployment_ids_are_stored_once(session: Session) -> None:
    platform = service.register_platform(
        session, **moodle_registration(deployment_ids=["2", " 2 ", "3"])
    )
    session.commit()

    assert sorted(d.deployment_id for d in platform.deployments) == ["2", "3"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"issuer": "moodle.example.edu"}, "issuer"),
        ({"issuer": "ftp://moodle.example.edu"}, "issuer"),
        ({"auth_login_url": "/mod/lti/auth.php"}, "auth_login_url"),
        ({"auth_token_url": "javascript:alert(1)"}, "auth_token_url"),
        ({"keyset_url": "https://"}, "keyset_url"),
        ({"keyset_url": "https://exa mple.edu/certs"}, "keyset_url"),
        ({"client_id": "   "}, "client_id"),
        ({"deployment_ids": []}, "deployment_ids"),
        ({"deployment_ids": ["2", ""]}, "deployment_ids"),
        ({"product": "blackboard"}, "product"),
        ({"name": "n" * 256}, "name"),
    ],
)
def test_bad_registration_names_the_field_and_stores_nothing(
    session: Session, overrides: dict[str, object], field: str
) -> None:
    with pytest.raises(Problem) as raised:
        service.register_platform(session, **moodle_registration(**overrides))

    assert raised.value.status == 422
    assert raised.value.field == field
    assert field in raised.value.detail
    assert stored_counts(session) == (0, 0)


def test_bad_update_of_an_existing_registration_keeps_it(session: Session) -> None:
    service.register_platform(session, **moodle_registration())
    session.commit()

    with pytest.raises(Problem) as raised:
        service.register_platform(
            session,
            **moodle_registration(keyset_url="certs.php", deployment_ids=["9"]),
        )
    session.rollback()

    assert raised.value.field == "keyset_url"
    stored = service.find_platform(
        session, issuer="http://127.0.0.1:8000", client_id=MOODLE_CLIENT_ID
    )
    assert stored is not None
    assert stored.keyset_url == "http://127.0.0.1:8000/mod/lti/certs.php"
    assert [d.deployment_id for d in stored.deployments] == ["2"]


def test_add_and_remove_deployments(session: Session) -> None:
    platform = service.register_platform(session, **moodle_registration())
    session.commit()

    service.add_deployment(session, platform_id=platform.id, deployment_id="7")
    session.commit()
    with pytest.raises(Problem) as duplicate:
        service.add_deployment(session, platform_id=platform.id, deployment_id="7")
    service.remove_deployment(session, platform_id=platform.id, deployment_id="2")
    session.commit()

    assert duplicate.value.status == 409
    assert duplicate.value.code == "deployment-exists"
    stored = service.get_platform(session, platform_id=platform.id)
    assert [d.deployment_id for d in stored.deployments] == ["7"]


def test_the_last_deployment_stays(session: Session) -> None:
    platform = service.register_platform(session, **moodle_registration())
    session.commit()

    with pytest.raises(Problem) as raised:
        service.remove_deployment(session, platform_id=platform.id, deployment_id="2")
    with pytest.raises(Problem) as missing:
        service.remove_deployment(session, platform_id=platform.id, deployment_id="8")

    assert raised.value.code == "last-deployment"
    assert missing.value.status == 404
    assert stored_counts(session) == (1, 1)


def test_update_changes_only_what_is_given(session: Session) -> None:
    platform = service.register_platform(session, **moodle_registration())
    session.commit()

    service.update_platform(
        session,
        platform_id=platform.id,
        auth_token_url="https://moodle.example.edu/mod/lti/token.php",
    )
    session.commit()

    stored = service.get_platform(session, platform_id=platform.id)
    assert stored.auth_token_url == "https://moodle.example.edu/mod/lti/token.php"
    assert stored.auth_login_url == "http://127.0.0.1:8000/mod/lti/auth.php"
    assert stored.name == "Lab Moodle"


def test_delete_removes_the_platform_and_its_deployments(session: Session) -> None:
    platform = service.register_platform(session, **moodle_registration())
    session.commit()

    service.delete_platform(session, platform_id=platform.id)
    session.commit()

    assert stored_counts(session) == (0, 0)
    with pytest.raises(Problem) as raised:
        service.get_platform(session, platform_id=platform.id)
    assert raised.value.status == 404


def test_unknown_platform_is_a_404(session: Session) -> None:
    with pytest.raises(Problem) as raised:
        service.add_deployment(session, platform_id=uuid.uuid4(), deployment_id="1")

    assert raised.value.status == 404
    assert raised.value.field == "platform_id"
