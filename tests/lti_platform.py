"""A test LMS platform over real HTTP, and a driver that plays the browser.

The platform serves its public keys at a JWKS URL and plays the platform's
half of the OIDC flow: its authorization endpoint answers the tool's redirect
with the auto-submitted form a real LMS returns (id_token and state). The
id_tokens are shaped like the captured Moodle 4.5 and documented Canvas
messages in the shared LTI folder, with fresh iat, exp and nonce.

The driver does what a browser between the LMS and the tool would do, with
cookies handled by hand: httpx would not send a Secure cookie over http.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookiejar import CookieJar, DefaultCookiePolicy
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from jwcrypto.jwk import JWK

from app.lti.paths import DEEP_LINK_PATH, JWKS_PATH, LAUNCH_PATH, LOGIN_PATH
from tests.conftest import LTI_SHAPES_DIR, LiveServer, free_port

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
LIS = "http://purl.imsglobal.org/vocab/lis/v2/"

Claims = dict[str, Any]


def _without_comments(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _without_comments(item)
            for key, item in value.items()
            if not key.startswith("_comment")
        }
    if isinstance(value, list):
        return [_without_comments(item) for item in value]
    return value


def _shape(relative_path: str) -> Claims:
    document = json.loads((LTI_SHAPES_DIR / relative_path).read_text())
    claims = document.get("claims", document)
    return _without_comments(claims)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class SigningKey:
    kid: str
    private_pem: bytes
    public_jwk: dict[str, Any]
    public_pem: bytes

    @classmethod
    def generate(cls, kid: str | None = None) -> SigningKey:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        public_pem = private.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        kid = kid or secrets.token_hex(10)
        public_jwk = json.loads(JWK.from_pem(public_pem).export_public())
        public_jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
        return cls(kid, private_pem, public_jwk, public_pem)


@dataclass
class LaunchPlan:
    """How the platform answers one authorization request.

    `tamper` edits the claims after the platform filled them in; `signing`
    is "rs256" (the platform's current key), "foreign-key" (another RSA key
    under the platform's kid), "none" or "hs256" (HMAC keyed with the
    platform's public key, the classic algorithm-confusion attack).
    """

    role: str
    tamper: Callable[[Claims], None] | None = None
    signing: str = "rs256"
    # "resource_link", "deep_linking" or "submission_review".
    message: str = "resource_link"
    # Merged into the deep_linking_settings claim of a deep-linking request.
    deep_linking: dict[str, Any] | None = None
    # A link the platform created from a deep-linking response: launching it
    # sends the item's custom parameters under the LMS's own resource link id.
    link: CreatedLink | None = None
    # The learner a submission review is about (their sub).
    for_user: str | None = None


@dataclass
class CreatedLink:
    """A resource link the platform saved from a verified content item."""

    resource_link_id: str
    item: dict[str, Any]


@dataclass
class Profile:
    """What differs between the Moodle-shaped and the Canvas-shaped platform."""

    product: str
    client_id: str
    deployment_id: str
    token_lifetime: int
    auth_path: str
    token_path: str
    jwks_path: str
    login_method: str
    deployment_param: str
    with_azp: bool
    fixed_issuer: str | None
    deep_link_return_path: str


MOODLE = Profile(
    product="moodle",
    client_id="DMqpkuGBijsFPXT",
    deployment_id="1",
    token_lifetime=60,
    auth_path="/mod/lti/auth.php",
    token_path="/mod/lti/token.php",
    jwks_path="/mod/lti/certs.php",
    login_method="POST",
    deployment_param="lti_deployment_id",
    with_azp=False,
    fixed_issuer=None,
    deep_link_return_path="/mod/lti/contentitem_return.php",
)
CANVAS = Profile(
    product="canvas",
    client_id="10000000000002",
    deployment_id="7:d3a2504bba5184799a38f141e8df2335cfa8206d",
    token_lifetime=3600,
    auth_path="/api/lti/authorize_redirect",
    token_path="/login/oauth2/token",
    jwks_path="/api/lti/security/jwks",
    login_method="GET",
    # Canvas cloud may name it this way rather than lti_deployment_id.
    deployment_param="deployment_id",
    with_azp=True,
    fixed_issuer="https://canvas.example.edu",
    deep_link_return_path="/courses/6/deep_linking_response",
)
PROFILES = {"moodle": MOODLE, "canvas": CANVAS}

# Who launches, per product: (sub, shape of the claims).
MOODLE_PEOPLE = {
    "learner": "moodle-4.5/03-id_token-resource-link-student.json",
    "instructor": "moodle-4.5/04-id_token-resource-link-instructor.json",
}
CANVAS_LAUNCH = "samples/canvas-resource-link-launch.json"
MOODLE_DEEP_LINKING = "moodle-4.5/08-id_token-deep-linking-request.json"
CANVAS_DEEP_LINKING = "samples/canvas-deep-linking-request.json"
SUBMISSION_REVIEW = "samples/submission-review-request.json"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
CANVAS_INSTRUCTOR_ROLES = [
    LIS + "institution/person#Instructor",
    LIS + "membership#Instructor",
    LIS + "system/person#User",
]


class TestPlatform:
    """An LMS serving JWKS and an OIDC authorization endpoint on 127.0.0.1."""

    __test__ = False

    def __init__(self, profile: Profile, *, tool_url: str) -> None:
        self.profile = profile
        self.tool_url = tool_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.issuer = profile.fixed_issuer or self.url
        self.client_id = profile.client_id
        self.deployment_id = profile.deployment_id
        self.keys = [SigningKey.generate()]
        self.clock_offset_seconds = 0
        self.jwks_requests = 0
        self._plans: dict[str, LaunchPlan] = {}
        # What came back to deep_link_return_url: verified claims, or the
        # reason the platform refused the response.
        self.deep_link_responses: list[Claims] = []
        self.deep_link_refusals: list[str] = []
        self.created_links: list[CreatedLink] = []
        self._server = LiveServer(self._build_app(), "127.0.0.1", self.port)

    @property
    def signing_key(self) -> SigningKey:
        return self.keys[0]

    @property
    def keyset_url(self) -> str:
        return self.url + self.profile.jwks_path

    @property
    def auth_login_url(self) -> str:
        return self.url + self.profile.auth_path

    @property
    def auth_token_url(self) -> str:
        return self.url + self.profile.token_path

    def registration(self) -> dict[str, Any]:
        """The body that registers this platform with the tool's API."""
        return {
            "issuer": self.issuer,
            "client_id": self.client_id,
            "auth_login_url": self.auth_login_url,
            "auth_token_url": self.auth_token_url,
            "keyset_url": self.keyset_url,
            "deployment_ids": [self.deployment_id],
            "name": f"Test {self.profile.product}",
            "product": self.profile.product,
        }

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def rotate_keys(self) -> SigningKey:
        """Sign with a new key (new kid) and publish only it from now on."""
        self.keys = [SigningKey.generate()]
        return self.signing_key

    # The platform's claims.

    def sub_for(self, role: str) -> str:
        if self.profile.product == "moodle":
            return str(_shape(MOODLE_PEOPLE[role])["sub"])
        sample_sub = str(_shape(CANVAS_LAUNCH)["sub"])
        return sample_sub if role == "learner" else sample_sub.replace("0001", "0002")

    def claims_for_plan(self, plan: LaunchPlan, *, nonce: str) -> Claims:
        """The id_token claims for the message the plan asks for."""
        claims = self.claims_for(plan.role, nonce=nonce)
        if plan.message == "deep_linking":
            claims = self._deep_linking_claims(plan, base=claims)
        elif plan.message == "submission_review":
            claims = self._submission_review_claims(plan, base=claims)
        if plan.link is not None:
            claims[LTI + "resource_link"] = {
                "id": plan.link.resource_link_id,
                "title": plan.link.item.get("title"),
            }
            claims[LTI + "custom"] = dict(plan.link.item.get("custom") or {})
        return claims

    def _deep_linking_claims(self, plan: LaunchPlan, *, base: Claims) -> Claims:
        """The captured request's shape, keeping the launcher's identity."""
        shape = (
            MOODLE_DEEP_LINKING
            if self.profile.product == "moodle"
            else (CANVAS_DEEP_LINKING)
        )
        claims = copy.deepcopy(_shape(shape))
        for name in ("sub", "name", "email", "given_name", "family_name", "azp"):
            if name in base:
                claims[name] = base[name]
        for name in ("iss", "aud", "iat", "exp", "nonce"):
            claims[name] = base[name]
        claims[LTI + "deployment_id"] = self.deployment_id
        claims[LTI + "roles"] = base[LTI + "roles"]
        # Moodle is configured with a separate content-selection URL.
        target_path = (
            DEEP_LINK_PATH if self.profile.product == "moodle" else LAUNCH_PATH
        )
        claims[LTI + "target_link_uri"] = self.tool_url + target_path
        settings = claims[DL + "deep_linking_settings"]
        settings["deep_link_return_url"] = self.deep_link_return_url
        settings.update(plan.deep_linking or {})
        return claims

    def _submission_review_claims(self, plan: LaunchPlan, *, base: Claims) -> Claims:
        review = _shape(SUBMISSION_REVIEW)
        base[LTI + "message_type"] = "LtiSubmissionReviewRequest"
        base[LTI + "for_user"] = dict(
            review[LTI + "for_user"], user_id=plan.for_user or self.sub_for("learner")
        )
        base[AGS_ENDPOINT] = dict(
            review[AGS_ENDPOINT], lineitem=self.url + "/lineitems/1/lineitem"
        )
        return base

    @property
    def deep_link_return_url(self) -> str:
        query = (
            "?course=2&id=1&sesskey=s3ss10nk3y"
            if self.profile.product == "moodle"
            else "?data=OPAQUE-HS256-JWT-PLACEHOLDER"
        )
        return self.url + self.profile.deep_link_return_path + query

    def claims_for(self, role: str, *, nonce: str) -> Claims:
        if self.profile.product == "moodle":
            claims = copy.deepcopy(_shape(MOODLE_PEOPLE[role]))
        else:
            claims = copy.deepcopy(_shape(CANVAS_LAUNCH))
            if role == "instructor":
                claims[LTI + "roles"] = list(CANVAS_INSTRUCTOR_ROLES)
                claims["name"] = "Teacher One"
                claims["email"] = "teacher1@example.edu"
            claims["sub"] = self.sub_for(role)
            claims["azp"] = self.client_id
        issued_at = int(time.time()) + self.clock_offset_seconds
        claims.update(
            {
                "iss": self.issuer,
                "aud": self.client_id,
                "iat": issued_at,
                "exp": issued_at + self.profile.token_lifetime,
                "nonce": nonce,
                LTI + "deployment_id": self.deployment_id,
                LTI + "target_link_uri": self.tool_url + LAUNCH_PATH,
            }
        )
        return claims

    def sign(self, claims: Claims, *, signing: str = "rs256") -> str:
        header = {"typ": "JWT", "alg": "RS256", "kid": self.signing_key.kid}
        if signing == "rs256":
            key = self.signing_key.private_pem
            return jwt.encode(claims, key, algorithm="RS256", headers=header)
        if signing == "foreign-key":
            other = SigningKey.generate(kid=self.signing_key.kid)
            return jwt.encode(
                claims, other.private_pem, algorithm="RS256", headers=header
            )
        if signing == "none":
            header["alg"] = "none"
            return _unsigned(header, claims)
        if signing == "hs256":
            header["alg"] = "HS256"
            signing_input = _unsigned(header, claims)[:-1]
            mac = hmac.new(
                self.signing_key.public_pem, signing_input.encode(), hashlib.sha256
            )
            return signing_input + "." + _b64url(mac.digest())
        raise ValueError(f"unknown signing {signing}")

    # The platform's half of the login.

    def login_initiation(self, role: str, plan: LaunchPlan) -> dict[str, str]:
        """The parameters the LMS sends to the tool's login URL."""
        hint = uuid.uuid4().hex
        self._plans[hint] = plan
        params = {
            "iss": self.issuer,
            "login_hint": self.sub_for(role),
            "target_link_uri": self.tool_url + LAUNCH_PATH,
            "lti_message_hint": json.dumps({"cmid": 2, "launchid": hint})
            if self.profile.product == "moodle"
            else hint,
            "client_id": self.client_id,
            self.profile.deployment_param: self.deployment_id,
        }
        if self.profile.product == "canvas":
            params.update(
                {
                    "canvas_environment": "prod",
                    "canvas_region": "not_configured",
                    "lti_storage_target": "post_message_forwarding",
                }
            )
        return params

    def _plan_for(self, message_hint: str) -> LaunchPlan | None:
        if self.profile.product == "moodle":
            try:
                message_hint = json.loads(message_hint)["launchid"]
            except (ValueError, KeyError, TypeError):
                return None
        return self._plans.pop(message_hint, None)

    def _build_app(self) -> FastAPI:
        app = FastAPI()

        @app.get(self.profile.jwks_path)
        def jwks() -> JSONResponse:
            self.jwks_requests += 1
            return JSONResponse({"keys": [key.public_jwk for key in self.keys]})

        @app.get(self.profile.auth_path)
        def authorize(request: Request) -> Any:
            params = dict(request.query_params)
            problem = self._check_auth_request(params)
            if problem:
                return PlainTextResponse(problem, status_code=400)
            plan = self._plan_for(params.get("lti_message_hint", ""))
            if plan is None:
                return PlainTextResponse("unknown lti_message_hint", status_code=400)
            claims = self.claims_for_plan(plan, nonce=params["nonce"])
            if plan.tamper:
                plan.tamper(claims)
            fields = {"id_token": self.sign(claims, signing=plan.signing)}
            fields["state"] = params["state"]
            if self.profile.product == "canvas":
                fields = {
                    "utf8": "\u2713",
                    "authenticity_token": secrets.token_urlsafe(16),
                    **fields,
                    "lti_storage_target": "post_message_forwarding",
                }
            return HTMLResponse(_auto_submit_form(params["redirect_uri"], fields))

        @app.post(self.profile.deep_link_return_path)
        async def deep_link_return(request: Request) -> PlainTextResponse:
            form = await request.form()
            token = form.get("JWT")
            try:
                claims = self._verified_deep_link_response(str(token or ""))
            except (jwt.InvalidTokenError, AssertionError, KeyError) as error:
                self.deep_link_refusals.append(str(error))
                return PlainTextResponse(f"refused: {error}", status_code=400)
            self.deep_link_responses.append(claims)
            for item in claims[DL + "content_items"]:
                self.created_links.append(
                    CreatedLink(resource_link_id=uuid.uuid4().hex, item=item)
                )
            return PlainTextResponse("Content selected")

        return app

    def _verified_deep_link_response(self, token: str) -> Claims:
        """What an LMS checks (Deep Linking 2.0 section 4.2), with the tool's
        key fetched from its JWKS by the header's kid."""
        header = jwt.get_unverified_header(token)
        assert header.get("alg") == "RS256", f"alg {header.get('alg')}"
        keys = httpx.get(self.tool_url + JWKS_PATH).json()["keys"]
        matching = [key for key in keys if key.get("kid") == header.get("kid")]
        assert matching, f"kid {header.get('kid')!r} is not in the tool's JWKS"
        public_key = jwt.PyJWK(matching[0], algorithm="RS256").key
        claims: Claims = jwt.decode(
            token,
            public_key,
            algorithms=["RS256"],
            audience=self.issuer,
            issuer=self.client_id,
            options={"require": ["iat", "exp", "nonce"]},
        )
        assert claims[LTI + "message_type"] == "LtiDeepLinkingResponse"
        assert claims[LTI + "version"] == "1.3.0"
        assert claims[LTI + "deployment_id"] == self.deployment_id
        return claims

    def _check_auth_request(self, params: dict[str, str]) -> str | None:
        """What the LTI 1.3 security framework requires of the tool's request."""
        expected = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": self.client_id,
            "redirect_uri": self.tool_url + LAUNCH_PATH,
        }
        for name, value in expected.items():
            if params.get(name) != value:
                return f"{name} must be {value!r}, got {params.get(name)!r}"
        for name in ("state", "nonce", "login_hint"):
            if not params.get(name):
                return f"{name} is missing"
        return None


def _unsigned(header: dict[str, Any], claims: Claims) -> str:
    return (
        _b64url(json.dumps(header).encode())
        + "."
        + _b64url(json.dumps(claims).encode())
        + "."
    )


def _auto_submit_form(action: str, fields: dict[str, str]) -> str:
    inputs = "".join(
        f'<input type="hidden" name="{name}" value="{_attr(value)}">'
        for name, value in fields.items()
    )
    return (
        "<!doctype html><html><body>"
        f'<form id="ltiAuthForm" name="ltiAuthForm" action="{_attr(action)}" '
        f'method="post">{inputs}</form>'
        "<script>document.ltiAuthForm.submit();</script></body></html>"
    )


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


@contextmanager
def running_platform(product: str, *, tool_url: str) -> Iterator[TestPlatform]:
    platform = TestPlatform(PROFILES[product], tool_url=tool_url)
    platform.start()
    try:
        yield platform
    finally:
        platform.stop()


# The browser.


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    id: str | None = None

    def values(self) -> dict[str, str]:
        return dict(self.fields)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(
                Form(
                    action=attributes.get("action", ""),
                    method=attributes.get("method", "get").lower(),
                    id=attributes.get("id"),
                )
            )
        elif tag == "input" and self.forms and "name" in attributes:
            if "disabled" in attributes:
                return
            if attributes.get("type") == "checkbox" and "checked" not in attributes:
                return
            self.forms[-1].fields.append(
                (attributes["name"], attributes.get("value", ""))
            )


def forms_in(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def form_by_id(html: str, form_id: str) -> Form:
    for form in forms_in(html):
        if form.id == form_id:
            return form
    raise AssertionError(f"no form {form_id!r} on the page")


def set_cookies(response: httpx.Response) -> dict[str, SimpleCookie]:
    """Each Set-Cookie of a response, parsed, by cookie name."""
    parsed: dict[str, SimpleCookie] = {}
    for header in response.headers.get_list("set-cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        for name in cookie:
            parsed[name] = cookie
    return parsed


@dataclass
class LoginStep:
    response: httpx.Response
    cookies: dict[str, str]

    @property
    def location(self) -> str:
        return self.response.headers["location"]


@dataclass
class Launch:
    """One launch as the browser saw it."""

    login: LoginStep
    auth_form: Form
    response: httpx.Response
    page: httpx.Response | None

    @property
    def launch_id(self) -> str:
        assert self.page is not None, self.response.text
        return parse_qs(urlsplit(str(self.page.url)).query)["launch"][0]


class Browser:
    """Drives LMS and tool the way a browser would, over real HTTP."""

    def __init__(self, platform: TestPlatform) -> None:
        self.platform = platform
        # Cookies are passed by hand, as the browser would send them; the
        # client's own jar would resend them where a browser would not.
        no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
        self.http = httpx.Client(timeout=30, cookies=no_cookies)

    def close(self) -> None:
        self.http.close()

    def login(
        self, role: str, plan: LaunchPlan | None = None, **changes: str
    ) -> LoginStep:
        params = self.platform.login_initiation(role, plan or LaunchPlan(role=role))
        params.update(changes)
        url = self.platform.tool_url + LOGIN_PATH
        if self.platform.profile.login_method == "POST":
            response = self.http.post(url, data=params)
        else:
            response = self.http.get(url, params=params)
        cookies = {
            name: parsed[name].value
            for name, parsed in set_cookies(response).items()
            if parsed[name].value
        }
        return LoginStep(response, cookies)

    def authorize(self, login: LoginStep) -> Form:
        assert login.response.status_code == 302, login.response.text
        answer = self.http.get(login.location)
        assert answer.status_code == 200, answer.text
        return form_by_id(answer.text, "ltiAuthForm")

    def post_launch(
        self, form: Form, *, cookies: dict[str, str] | None
    ) -> httpx.Response:
        headers = {"Accept": "text/html"}
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        return self.http.post(form.action, data=form.values(), headers=headers)

    def launch(self, role: str, plan: LaunchPlan | None = None) -> Launch:
        login = self.login(role, plan)
        form = self.authorize(login)
        response = self.post_launch(form, cookies=login.cookies)
        page = self.follow(response) if response.status_code == 303 else None
        return Launch(login, form, response, page)

    def follow(self, response: httpx.Response) -> httpx.Response:
        assert response.status_code in (302, 303), response.text
        return self.http.get(urljoin(str(response.url), response.headers["location"]))

    def submit(
        self, page: httpx.Response, form_id: str, **values: str | list[str]
    ) -> httpx.Response:
        """Send a form of the page (no cookies: pages carry the launch id)."""
        form = form_by_id(page.text, form_id)
        data: dict[str, list[str]] = {}
        for name, value in form.fields:
            if name not in values:
                data.setdefault(name, []).append(value)
        for name, given in values.items():
            data[name] = [given] if isinstance(given, str) else list(given)
        url = urljoin(str(page.url), form.action)
        if form.method == "get":
            return self.http.get(url, params=data)
        return self.http.post(url, data=data)


@dataclass
class Row:
    attributes: dict[str, str]
    cells: list[str]


class _TableParser(HTMLParser):
    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id = table_id
        self.depth = 0
        self.rows: list[Row] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "table" and (self.depth or attributes.get("id") == self.table_id):
            self.depth += 1
        elif self.depth and tag == "tr" and "data-competency-id" in attributes:
            self.rows.append(Row(attributes, []))
        elif self.depth and tag == "td" and self.rows:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self.depth:
            self.depth -= 1
        elif tag == "td" and self._cell is not None:
            self.rows[-1].cells.append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def table_rows(html: str, table_id: str) -> list[Row]:
    """The competency rows of a page table (empty when the table is absent)."""
    parser = _TableParser(table_id)
    parser.feed(html)
    return parser.rows
