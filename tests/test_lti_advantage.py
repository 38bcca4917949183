"""The LTI Advantage client against Canvas- and Moodle-shaped platforms over HTTP."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connectors.lti.advantage import (
    SCOPE_CONTEXT_MEMBERSHIP_READONLY,
    SCOPE_LINEITEM_READONLY,
    SCOPE_SCORE,
    AdvantageServiceError,
    LineItemGone,
    ScopeNotGranted,
    ScoreConflict,
    ServiceTokenError,
    with_path_suffix,
)
from connectors.lti.ags import AgsEndpoint, AssignmentGradeService, Score
from connectors.lti.nrps import (
    INSTRUCTOR,
    LEARNER,
    NamesRolesService,
    NrpsEndpoint,
    full_role_uri,
)
from connectors.lti.service_token import PlatformAccess, ServiceTokens, ToolSigningKey
from tests.lti_service_platform import ServicePlatform, running_service_platform

TOOL_KID = "tool-Key-2026A"
CANVAS_PROGRESS_SCOPE = "https://canvas.instructure.com/lti-ags/progress/scope/show"
ALL_AGS = sorted(
    "https://purl.imsglobal.org/spec/lti-ags/scope/" + name
    for name in ("lineitem", "lineitem.readonly", "result.readonly", "score")
)
FINISHED_AT = datetime(2026, 12, 3, 12, 30, 18, 123000, tzinfo=UTC)


class FakeClock:
    """Seconds since the epoch, moved forward by the test instead of by waiting."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="module")
def tool_key() -> tuple[ToolSigningKey, dict[str, Any]]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": TOOL_KID, "alg": "RS256", "use": "sig"})
    return ToolSigningKey(kid=TOOL_KID, private_key_pem=pem), {"keys": [jwk]}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def answers() -> list[httpx.Response]:
    return []


@pytest.fixture
def tokens(clock: FakeClock, answers: list[httpx.Response]) -> Iterator[ServiceTokens]:
    with httpx.Client(timeout=10, event_hooks={"response": [answers.append]}) as http:
        yield ServiceTokens(http, clock=clock)


def _platform(
    flavour: str, tool_key: tuple[ToolSigningKey, dict[str, Any]], clock: FakeClock
) -> Iterator[ServicePlatform]:
    with running_service_platform(
        flavour,  # type: ignore[arg-type]
        tool_jwks=tool_key[1],
        clock=clock,
    ) as platform:
        yield platform


@pytest.fixture
def canvas(tool_key, clock) -> Iterator[ServicePlatform]:
    yield from _platform("canvas", tool_key, clock)


@pytest.fixture
def moodle(tool_key, clock) -> Iterator[ServicePlatform]:
    yield from _platform("moodle", tool_key, clock)


@pytest.fixture(params=["canvas", "moodle"])
def platform(request: pytest.FixtureRequest) -> ServicePlatform:
    return request.getfixturevalue(request.param)


def access_to(
    platform: ServicePlatform,
    tool_key: tuple[ToolSigningKey, dict[str, Any]],
    *,
    auth_audience: str | None = None,
) -> PlatformAccess:
    return PlatformAccess(
        token_url=platform.token_url,
        client_id=platform.client_id,
        signing_key=tool_key[0],
        auth_audience=auth_audience,
    )


def ags_for(
    platform: ServicePlatform,
    tokens: ServiceTokens,
    tool_key: tuple[ToolSigningKey, dict[str, Any]],
    *,
    line_item_id: int | None = None,
    scopes: list[str] | None = None,
) -> AssignmentGradeService:
    claim = platform.ags_claim(line_item_id=line_item_id)
    if scopes is not None:
        claim["scope"] = scopes
    return AssignmentGradeService(
        tokens,
        access=access_to(platform, tool_key),
        endpoint=AgsEndpoint.from_claim(claim),
    )


def nrps_for(
    platform: ServicePlatform,
    tokens: ServiceTokens,
    tool_key: tuple[ToolSigningKey, dict[str, Any]],
) -> NamesRolesService:
    endpoint = NrpsEndpoint.from_claim(platform.nrps_claim())
    return NamesRolesService(
        tokens, access=access_to(platform, tool_key), endpoint=endpoint
    )


def token_requests(platform: ServicePlatform):
    return platform.requests_to(platform.paths.token, "POST")


def a_learner(platform: ServicePlatform) -> str:
    return next(m["user_id"] for m in platform.members if "Learner" in m["roles"][0])


# Service tokens.


def test_token_is_fetched_once_and_reused_until_shortly_before_expiry(
    platform, tokens, tool_key, clock
):
    ags = ags_for(platform, tokens, tool_key)

    ags.line_items()
    ags.line_items()
    # The platform grants 3600 s; the cache lets go 60 s early (the margin):
    # at 3539 s the token is still reused, at 3541 s a new one is fetched.
    clock.advance(3539)
    ags.line_items()
    assert len(token_requests(platform)) == 1

    clock.advance(2)
    ags.line_items()
    assert len(token_requests(platform)) == 2
    assert all(r.status == 200 for r in platform.requests)


def test_token_asks_only_for_the_scopes_the_launch_granted(canvas, tokens, tool_key):
    granted = [SCOPE_LINEITEM_READONLY, SCOPE_SCORE, CANVAS_PROGRESS_SCOPE]
    ags = ags_for(canvas, tokens, tool_key, line_item_id=1, scopes=granted)

    ags.line_items()
    ags.post_score(
        Score(
            user_id=a_learner(canvas),
            score_given=1,
            score_maximum=2,
            timestamp=FINISHED_AT,
        )
    )
    nrps_for(canvas, tokens, tool_key).membership()

    asked = [set(r.form()["scope"].split()) for r in token_requests(canvas)]
    # One token for everything AGS the launch granted (not Canvas's own
    # progress scope, which the client never uses), one for NRPS.
    assert asked == [
        {SCOPE_LINEITEM_READONLY, SCOPE_SCORE},
        {SCOPE_CONTEXT_MEMBERSHIP_READONLY},
    ]


def test_operation_outside_the_granted_scopes_sends_nothing(canvas, tokens, tool_key):
    ags = ags_for(canvas, tokens, tool_key, line_item_id=1, scopes=[SCOPE_SCORE])

    with pytest.raises(ScopeNotGranted, match="result.readonly"):
        ags.results()
    with pytest.raises(ScopeNotGranted, match="scope/lineitem"):
        ags.create_line_item(label="Fractions check", score_maximum=10)

    assert canvas.requests == []


def test_client_assertion_names_kid_client_and_token_url(platform, tokens, tool_key):
    ags = ags_for(platform, tokens, tool_key)

    ags.line_items()

    form = token_requests(platform)[0].form()
    assert form["grant_type"] == "client_credentials"
    assert form["client_assertion_type"] == (
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    )
    assertion = form["client_assertion"]
    assert jwt.get_unverified_header(assertion)["kid"] == TOOL_KID
    claims = jwt.decode(assertion, options={"verify_signature": False})
    assert claims["iss"] == claims["sub"] == platform.client_id
    assert claims["aud"] == platform.token_url
    assert claims["exp"] - claims["iat"] == 300
    assert claims["jti"]


def test_client_assertion_uses_the_platform_auth_audience_when_given(
    tool_key, clock, tokens
):
    audience = "https://canvas.instructure.com/login/oauth2/token"
    with running_service_platform(
        "canvas", tool_jwks=tool_key[1], clock=clock, auth_audience=audience
    ) as canvas:
        access = access_to(canvas, tool_key, auth_audience=audience)
        tokens.access_token(access, scopes=[SCOPE_SCORE])
        tokens.forget(access, scopes=[SCOPE_SCORE])
        tokens.access_token(access, scopes=[SCOPE_SCORE])

    # Canvas checks aud and refuses a replayed jti; both requests passed.
    assertions = [r.form()["client_assertion"] for r in token_requests(canvas)]
    claims = [jwt.decode(a, options={"verify_signature": False}) for a in assertions]
    assert [c["aud"] for c in claims] == [audience, audience]
    assert claims[0]["jti"] != claims[1]["jti"]
    assert [r.status for r in token_requests(canvas)] == [200, 200]


def test_moodle_token_json_labelled_text_html_is_read(
    moodle, tokens, tool_key, answers
):
    token = tokens.access_token(access_to(moodle, tool_key), scopes=[SCOPE_SCORE])

    token_answer = answers[0]
    assert token_answer.headers["content-type"].startswith("text/html")
    assert token == token_answer.json()["access_token"]


def test_refused_scope_names_the_endpoint_and_the_platform_error(
    tool_key, clock, tokens
):
    with running_service_platform(
        "moodle",
        tool_jwks=tool_key[1],
        clock=clock,
        enabled_scopes={SCOPE_LINEITEM_READONLY},
    ) as moodle:
        access = access_to(moodle, tool_key)
        with pytest.raises(ServiceTokenError) as refused:
            tokens.access_token(access, scopes=[SCOPE_SCORE])

    assert refused.value.status == 400
    assert refused.value.error == "invalid_scope"
    assert moodle.token_url in str(refused.value)
    assert "invalid_scope" in str(refused.value)


def test_unknown_kid_surfaces_moodle_own_words(moodle, tokens, tool_key):
    stranger = ToolSigningKey(
        kid="not-published", private_key_pem=tool_key[0].private_key_pem
    )
    access = PlatformAccess(
        token_url=moodle.token_url, client_id=moodle.client_id, signing_key=stranger
    )

    with pytest.raises(ServiceTokenError, match='"kid" invalid'):
        tokens.access_token(access, scopes=[SCOPE_SCORE])


def test_token_endpoint_answering_without_json_is_a_clear_error(
    moodle, tokens, tool_key
):
    access = PlatformAccess(
        token_url=moodle.url + "/mod/lti/missing.php",
        client_id=moodle.client_id,
        signing_key=tool_key[0],
    )

    with pytest.raises(ServiceTokenError, match=r"missing\.php refused .*\(404\)"):
        tokens.access_token(access, scopes=[SCOPE_SCORE])


def test_signing_key_without_kid_is_refused_before_any_request():
    with pytest.raises(ValueError, match="kid"):
        ToolSigningKey(kid="", private_key_pem="unused")


def test_token_dropped_by_the_platform_is_fetched_again_once(
    platform, tokens, tool_key
):
    ags = ags_for(platform, tokens, tool_key)
    ags.line_items()

    platform.revoke_tokens()
    items = ags.line_items()

    assert items
    assert len(token_requests(platform)) == 2


# Line items.


def test_moodle_line_items_are_read_as_captured(moodle, tokens, tool_key):
    items = ags_for(moodle, tokens, tool_key).line_items()

    assert [(i.label, i.score_maximum, i.resource_id, i.tag) for i in items] == [
        ("Stub tool activity", Decimal(100), "", ""),
        ("Extra column from tool", Decimal(20), "quiz-99", "extra"),
        ("Deep-linked item", Decimal(10), "item-42", "stub"),
        ("Extra column from tool", Decimal(20), "quiz-99", "extra"),
    ]
    assert items[0].id == moodle.line_item_url(2)
    assert items[0].resource_link_id == "1"
    listed = moodle.requests_to(moodle.paths.lineitems, "GET")[0]
    assert (
        listed.headers["accept"] == "application/vnd.ims.lis.v2.lineitemcontainer+json"
    )
    assert listed.query == "type_id=1"


def test_line_items_filtered_and_paged(platform, tokens, tool_key):
    ags = ags_for(platform, tokens, tool_key)
    for label in ("A", "B", "C"):
        ags.create_line_item(label=label, score_maximum=10, tag="competency")

    items = ags.line_items(tag="competency", limit=2)

    assert [item.label for item in items] == ["A", "B", "C"]
    pages = platform.requests_to(platform.paths.lineitems, "GET")
    assert len(pages) == 2


def test_line_item_lifecycle(platform, tokens, tool_key):
    ags = ags_for(platform, tokens, tool_key)

    created = ags.create_line_item(
        label="Fractions check",
        score_maximum=10,
        resource_id="frac-1",
        tag="competency",
    )
    fetched = ags.line_item(created.id)
    renamed = ags.update_line_item(
        dataclasses.replace(fetched, label="Fractions check (v2)")
    )
    ags.delete_line_item(created.id)

    assert fetched == created
    assert renamed.label == "Fractions check (v2)"
    assert renamed.resource_id == "frac-1"
    create_request = platform.requests_to(platform.paths.lineitems, "POST")[0]
    assert (
        create_request.headers["content-type"]
        == "application/vnd.ims.lis.v2.lineitem+json"
    )
    assert create_request.json() == {
        "label": "Fractions check",
        "scoreMaximum": 10,
        "resourceId": "frac-1",
        "tag": "competency",
    }
    with pytest.raises(LineItemGone):
        ags.line_item(created.id)


@pytest.mark.parametrize(
    ("label", "maximum", "message"),
    [
        ("", 10, "label must be a non-empty string"),
        ("Quiz", 0, "scoreMaximum must be above 0"),
        ("Quiz", "ten", "scoreMaximum must be a number"),
    ],
)
def test_invalid_line_item_is_refused_before_sending(
    canvas, tokens, tool_key, label, maximum, message
):
    ags = ags_for(canvas, tokens, tool_key)

    with pytest.raises(ValueError, match=message):
        ags.create_line_item(label=label, score_maximum=maximum)

    assert canvas.requests == []


# Scores and results.


def test_moodle_score_matches_the_captured_exchange(moodle, tokens, tool_key):
    ags = ags_for(moodle, tokens, tool_key, line_item_id=2)

    ags.post_score(
        Score(
            user_id="4",
            score_given=7.5,
            score_maximum=10,
            comment="stub says well done",
            timestamp=FINISHED_AT,
        )
    )
    results = ags.results()

    sent = moodle.requests[-2]
    assert sent.path == "/mod/lti/services.php/2/lineitems/2/lineitem/scores"
    assert sent.query == "type_id=1"
    assert sent.headers["content-type"] == "application/vnd.ims.lis.v1.score+json"
    assert sent.json() == {
        "userId": "4",
        "scoreGiven": 7.5,
        "scoreMaximum": 10,
        "comment": "stub says well done",
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": "2026-12-03T12:30:18.123+00:00",
    }
    # As captured: 7.5 of 10 on a line item out of 100 reads 75 of 100.
    assert [(r.user_id, r.result_score, r.result_maximum) for r in results] == [
        ("4", Decimal(75), Decimal(100))
    ]
    assert moodle.requests[-1].headers["accept"] == (
        "application/vnd.ims.lis.v2.resultcontainer+json"
    )


def test_zero_and_above_maximum_scores_are_sent_as_given(canvas, tokens, tool_key):
    ags = ags_for(canvas, tokens, tool_key, line_item_id=1)
    learner, other = (
        "00000000-0000-4000-8000-000000000001",
        "00000000-0000-4000-8000-000000000006",
    )

    ags.post_score(
        Score(user_id=learner, score_given=0, score_maximum=10, timestamp=FINISHED_AT)
    )
    ags.post_score(
        Score(
            user_id=other,
            score_given=Decimal("12"),
            score_maximum=10,
            timestamp=FINISHED_AT,
        )
    )

    bodies = [r.json() for r in canvas.requests if r.path.endswith("/scores")]
    assert [(b["scoreGiven"], b["scoreMaximum"]) for b in bodies] == [(0, 10), (12, 10)]
    results = {r.user_id: r.result_score for r in ags.results()}
    # Line item 1 is out of 100: 0/10 -> 0, 12/10 -> 120.
    assert results == {learner: Decimal("0.0"), other: Decimal("120.0")}


def test_moodle_result_of_zero_reads_as_no_score(moodle, tokens, tool_key):
    ags = ags_for(moodle, tokens, tool_key, line_item_id=2)

    ags.post_score(
        Score(user_id="4", score_given=0, score_maximum=10, timestamp=FINISHED_AT)
    )

    assert moodle.requests[-1].json()["scoreGiven"] == 0
    [result] = ags.results()
    assert result.result_score is None
    assert result.result_maximum == Decimal(100)


def test_moodle_conflict_on_a_timestamp_not_later_to_the_second(
    moodle, tokens, tool_key
):
    ags = ags_for(moodle, tokens, tool_key, line_item_id=2)
    first = Score(user_id="4", score_given=5, score_maximum=10, timestamp=FINISHED_AT)
    ags.post_score(first)

    with pytest.raises(ScoreConflict) as resent:
        ags.post_score(first)
    # 12:30:18.123 -> 12:30:18.900 is later, but not to the second.
    same_second = FINISHED_AT + timedelta(milliseconds=777)
    with pytest.raises(ScoreConflict):
        ags.post_score(
            Score(user_id="4", score_given=6, score_maximum=10, timestamp=same_second)
        )
    ags.post_score(
        Score(
            user_id="4",
            score_given=9,
            score_maximum=10,
            timestamp=FINISHED_AT + timedelta(seconds=1),
        )
    )

    assert resent.value.status == 409
    assert "user 4" in str(resent.value)
    # 9 of 10 on a line item out of 100.
    assert [r.result_score for r in ags.results()] == [Decimal(90)]


def test_moodle_drops_scores_that_are_not_fully_graded(moodle, tokens, tool_key):
    ags = ags_for(moodle, tokens, tool_key, line_item_id=2)

    ags.post_score(
        Score(
            user_id="4",
            score_given=8,
            score_maximum=10,
            activity_progress="Submitted",
            grading_progress="PendingManual",
            timestamp=FINISHED_AT,
        )
    )
    assert ags.results() == []

    ags.post_score(
        Score(user_id="4", score_given=8, score_maximum=10, timestamp=FINISHED_AT)
    )
    assert [r.result_score for r in ags.results()] == [Decimal(80)]


def test_deleted_line_item_is_line_item_gone(platform, tokens, tool_key):
    item_id = min(platform.line_items)
    ags = ags_for(platform, tokens, tool_key, line_item_id=item_id)
    platform.delete_line_item_in_lms(item_id)
    score = Score(
        user_id=a_learner(platform),
        score_given=1,
        score_maximum=1,
        timestamp=FINISHED_AT,
    )

    with pytest.raises(LineItemGone) as gone:
        ags.post_score(score)
    with pytest.raises(LineItemGone):
        ags.results()
    with pytest.raises(LineItemGone):
        ags.line_item(platform.line_item_url(item_id))

    assert gone.value.url == platform.line_item_url(item_id)
    assert gone.value.status == 404


def test_results_follow_next_links(platform, tokens, tool_key):
    item_id = min(platform.line_items)
    ags = ags_for(platform, tokens, tool_key, line_item_id=item_id)
    users = [member["user_id"] for member in platform.members][:3]
    for points, user in enumerate(users, start=1):
        ags.post_score(
            Score(
                user_id=user,
                score_given=points,
                score_maximum=10,
                timestamp=FINISHED_AT,
            )
        )

    results = ags.results(limit=2)

    assert sorted(r.user_id for r in results) == sorted(users)
    result_pages = [r for r in platform.requests if r.path.endswith("/results")]
    assert len(result_pages) == 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"score_given": -1}, "scoreGiven must not be negative"),
        ({"score_maximum": None}, "scoreMaximum is required"),
        ({"score_maximum": 0}, "scoreMaximum must be above 0"),
        ({"score_given": float("nan")}, "scoreGiven must be finite"),
        ({"score_given": True}, "scoreGiven must be a number"),
        (
            {"timestamp": datetime(2026, 12, 3, 12, 30)},
            "timestamp must carry a UTC offset",
        ),
        ({"grading_progress": "Graded"}, "gradingProgress 'Graded'"),
        ({"activity_progress": "Done"}, "activityProgress 'Done'"),
        ({"user_id": ""}, "userId must be a non-empty string"),
    ],
)
def test_invalid_score_is_refused_before_sending(changes, message):
    fields: dict[str, Any] = {
        "user_id": "4",
        "score_given": 8,
        "score_maximum": 10,
        "timestamp": FINISHED_AT,
    }

    with pytest.raises(ValueError, match=message):
        Score(**{**fields, **changes})


def test_scores_and_results_urls_go_before_the_query_string():
    moodle_item = (
        "http://127.0.0.1:8000/mod/lti/services.php/2/lineitems/2/lineitem?type_id=1"
    )
    canvas_item = "https://canvas.example.edu/api/lti/courses/1/line_items/1"

    assert with_path_suffix(moodle_item, "/scores") == (
        "http://127.0.0.1:8000/mod/lti/services.php/2/lineitems/2/lineitem/scores?type_id=1"
    )
    assert with_path_suffix(canvas_item, "/results") == canvas_item + "/results"


def test_malformed_ags_claim_is_refused():
    with pytest.raises(ValueError, match="'scope' must be a list"):
        AgsEndpoint.from_claim(
            {"scope": "https://purl.imsglobal.org/spec/lti-ags/scope/score"}
        )


# Names and roles.


def test_canvas_cursor_is_followed_with_its_case_intact(canvas, tokens, tool_key):
    membership = nrps_for(canvas, tokens, tool_key).membership(limit=1)

    assert [(m.user_id, m.status) for m in membership.members] == [
        ("00000000-0000-4000-8000-000000000001", "Active"),
        ("00000000-0000-4000-8000-000000000003", "Active"),
        ("00000000-0000-4000-8000-000000000006", "Inactive"),
    ]
    pages = canvas.requests_to(canvas.paths.memberships, "GET")
    assert [page.status for page in pages] == [200, 200, 200]
    cursors = [re.search(r"page=([^&]+)", page.query) for page in pages[1:]]
    assert all(c and c.group(1) in canvas.cursors for c in cursors)
    assert all(c and c.group(1) != c.group(1).lower() for c in cursors)
    assert pages[0].headers["accept"] == (
        "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
    )


def test_canvas_refuses_a_lowercased_cursor(canvas, tokens, tool_key):
    nrps_for(canvas, tokens, tool_key).membership(limit=1)
    cursor = next(iter(canvas.cursors))
    token = tokens.access_token(
        access_to(canvas, tool_key), scopes=[SCOPE_CONTEXT_MEMBERSHIP_READONLY]
    )

    # What pylti1p3 would request after lower-casing the next link.
    answer = httpx.get(
        f"{canvas.memberships_url}?page={cursor.lower()}&per_page=1",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert answer.status_code == 400


def test_canvas_members_and_context(canvas, tokens, tool_key):
    membership = nrps_for(canvas, tokens, tool_key).membership()

    assert membership.context_id == "4dde05e8ca1973bcca9bffc13e1548820eee93a3"
    first = membership.members[0]
    assert (first.name, first.given_name, first.family_name, first.email) == (
        "Student One",
        "Student",
        "One",
        "student1@example.edu",
    )
    assert first.roles == (LEARNER,)
    assert membership.members[1].name is None


def test_moodle_short_role_names_become_full_uris(moodle, tokens, tool_key):
    membership = nrps_for(moodle, tokens, tool_key).membership()

    assert [(m.user_id, m.roles) for m in membership.members] == [
        ("5", (LEARNER,)),
        ("4", (LEARNER,)),
        ("3", (INSTRUCTOR,)),
    ]
    assert (membership.context_label, membership.context_title) == (
        "LTI101",
        "LTI Test Course",
    )


def test_moodle_role_filter_is_applied_again_after_its_next_link(
    moodle, tokens, tool_key
):
    moodle.members.append({**moodle.members[0], "user_id": "6"})

    membership = nrps_for(moodle, tokens, tool_key).membership(role="Learner", limit=2)

    # Members 5, 4 (Learner), 3 (Instructor), 6 (Learner): page 1 is filtered
    # by Moodle, page 2 (?limit=2&from=2) is not and holds 3 and 6.
    assert [m.user_id for m in membership.members] == ["5", "4", "6"]
    pages = moodle.requests_to(moodle.paths.memberships, "GET")
    assert "role=" in pages[0].query
    assert all("role=" not in page.query for page in pages[1:])
    assert len(pages) == 3


@pytest.mark.parametrize("flavour", ["canvas", "moodle"])
def test_role_filter_accepts_short_names_and_uris(flavour, request, tokens, tool_key):
    platform = request.getfixturevalue(flavour)
    nrps = nrps_for(platform, tokens, tool_key)

    by_name = nrps.membership(role="Instructor")
    by_uri = nrps.membership(role=INSTRUCTOR)

    instructors = [
        m["user_id"] for m in platform.members if "Instructor" in m["roles"][0]
    ]
    assert [m.user_id for m in by_name.members] == instructors
    assert by_uri == by_name


def test_member_without_user_id_is_a_clear_error(moodle, tokens, tool_key):
    moodle.members.append({"status": "Active", "roles": ["Learner"]})

    with pytest.raises(
        AdvantageServiceError, match="member without a user_id"
    ) as error:
        nrps_for(moodle, tokens, tool_key).membership()

    assert error.value.url == moodle.memberships_url


def test_full_role_uri():
    assert full_role_uri("Learner") == LEARNER
    assert full_role_uri("Instructor#TeachingAssistant") == (
        "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
    )
    assert full_role_uri(INSTRUCTOR) == INSTRUCTOR


def test_malformed_nrps_claim_is_refused():
    with pytest.raises(ValueError, match="context_memberships_url"):
        NrpsEndpoint.from_claim({"service_versions": ["2.0"]})
