"""Validating an LTI 1.3 launch (the OIDC authentication response).

pylti1p3 does the message plumbing; this subclass closes the gaps it leaves:

- a nonce is accepted once (pylti1p3 never marks one used, so a replayed
  launch would pass);
- `aud` must name this tool's client id, and when it lists several audiences
  `azp` must say which one (pylti1p3 takes `aud[0]` and ignores `azp`);
- `exp` and `iat` are checked with a clock leeway (pylti1p3 allows none, and
  Moodle tokens live only 60 s);
- an unknown `kid` refetches the platform's keys once (pylti1p3 never does);
- only RS256 is accepted (never `none`, never an HMAC keyed with a public key);
- the state cookie must be present and equal to the state parameter
  (pylti1p3 also accepts a state it saw before with the same id_token);
- each message type's claims are checked by `connectors.lti.messages`
  (pylti1p3 requires `sub`, which an anonymous launch may leave out).
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from pylti1p3.exception import LtiException
from pylti1p3.message_launch import MessageLaunch
from pylti1p3.session import SessionService

from connectors.lti import claims
from connectors.lti.adapters import CollectedCookies, FormRequest, PendingCookie
from connectors.lti.errors import LaunchRejected
from connectors.lti.keysets import PlatformKeySets
from connectors.lti.messages import check_message
from connectors.lti.registry import PlatformRegistry
from connectors.lti.storage import NonceLedger, StoreLaunchDataStorage

ALLOWED_ALGORITHM = "RS256"


@dataclass(frozen=True)
class LaunchPolicy:
    clock_leeway_seconds: int
    nonce_ttl_seconds: int
    # The URLs a target_link_uri may name: this tool's launch endpoints.
    tool_urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class ValidatedLaunch:
    """A launch every check accepted, and the cookies its response must carry."""

    issuer: str
    client_id: str
    deployment_id: str
    claims: dict[str, Any]
    cookies: list[PendingCookie]


@dataclass(frozen=True)
class PlatformError:
    """What a platform posts instead of an id_token when it refuses the launch."""

    error: str
    description: str


def platform_error(params: Mapping[str, str]) -> PlatformError | None:
    if params.get("id_token") or not params.get("error"):
        return None
    return PlatformError(
        error=params["error"], description=params.get("error_description", "")
    )


class ToolMessageLaunch(
    MessageLaunch[FormRequest, PlatformRegistry, SessionService, CollectedCookies]
):
    """A launch message, checked in the order that names the real cause."""

    _tool_config: PlatformRegistry
    _cookie_service: CollectedCookies

    def __init__(
        self,
        request: FormRequest,
        registry: PlatformRegistry,
        *,
        storage: StoreLaunchDataStorage,
        key_sets: PlatformKeySets,
        nonces: NonceLedger,
        policy: LaunchPolicy,
    ) -> None:
        super().__init__(
            request,
            registry,
            session_service=SessionService(request),
            cookie_service=CollectedCookies(request),
            launch_data_storage=storage,
        )
        self._key_sets = key_sets
        self._nonces = nonces
        self._policy = policy
        self._client_id: str | None = None

    def _get_request_param(self, key: str) -> str:
        return self._request.get_param(key)

    def validate(self) -> ToolMessageLaunch:
        if self._restored:
            raise LtiException("Can't validate restored launch")
        self._validated = True
        try:
            self.validate_jwt_format()
            self.validate_algorithm()
            self.validate_registration()
            self.validate_jwt_signature()
            self.validate_state()
            self.validate_nonce()
            self.validate_deployment()
            self.validate_message()
            self.claim_nonce()
            self.save_launch_data()
        except Exception:
            self._validated = False
            raise
        return self

    def validate_jwt_format(self) -> ToolMessageLaunch:
        if not self._get_request_param("id_token"):
            raise LaunchRejected(
                "id-token-missing", "The launch request carries no id_token."
            )
        try:
            super().validate_jwt_format()
        except LtiException as error:
            raise LaunchRejected(
                "malformed-id-token",
                "The id_token is not a well-formed JWT (three base64url JSON parts).",
            ) from error
        if not isinstance(self._jwt.get("header"), dict) or not isinstance(
            self._jwt.get("body"), dict
        ):
            raise LaunchRejected(
                "malformed-id-token", "The id_token header and body must be objects."
            )
        return self

    def validate_algorithm(self) -> ToolMessageLaunch:
        alg = self._jwt["header"].get("alg")
        if alg != ALLOWED_ALGORITHM:
            raise LaunchRejected(
                "algorithm-not-allowed",
                f"The id_token is signed with alg '{alg}'; only RS256 is accepted.",
            )
        return self

    def get_client_id(self) -> str:
        """This tool's client id as the token names it, checked against azp."""
        if self._client_id is None:
            self._client_id = _audience_client_id(self._jwt.get("body", {}))
        return self._client_id

    def validate_registration(self) -> ToolMessageLaunch:
        iss = self._jwt["body"].get("iss")
        if not iss or not isinstance(iss, str):
            raise LaunchRejected("issuer-missing", "The id_token has no 'iss' claim.")
        client_id = self.get_client_id()
        if not self._tool_config.knows_issuer(iss):
            raise LaunchRejected(
                "unknown-issuer",
                f"Unknown issuer '{iss}': no platform is registered with it.",
            )
        registration = self._tool_config.find_registration_by_params(iss, client_id)
        if registration is None:
            raise LaunchRejected(
                "wrong-audience",
                f"The id_token is addressed to client id '{client_id}', which is "
                f"not registered for issuer '{iss}'.",
            )
        self._registration = registration
        return self

    def validate_jwt_signature(self) -> ToolMessageLaunch:
        assert self._registration is not None
        kid = self._jwt["header"].get("kid")
        if not kid or not isinstance(kid, str):
            raise LaunchRejected(
                "kid-missing", "The id_token header has no 'kid' naming its key."
            )
        keyset_url = self._registration.get_key_set_url() or ""
        public_key = _rsa_public_key(
            self._key_sets.key_for(keyset_url=keyset_url, kid=kid), kid
        )
        leeway = self._policy.clock_leeway_seconds
        try:
            jwt.decode(
                self._get_id_token(),
                public_key,
                algorithms=[ALLOWED_ALGORITHM],
                options={"verify_aud": False, "require": ["exp", "iat"]},
                leeway=leeway,
            )
        except jwt.ExpiredSignatureError as error:
            raise LaunchRejected(
                "id-token-expired",
                f"The id_token expired at {_when(self._jwt['body'].get('exp'))}, "
                f"more than the {leeway} s clock leeway ago.",
            ) from error
        except jwt.ImmatureSignatureError as error:
            raise LaunchRejected(
                "id-token-issued-in-future",
                f"The id_token was issued at {_when(self._jwt['body'].get('iat'))}, "
                f"more than the {leeway} s clock leeway in the future.",
            ) from error
        except jwt.MissingRequiredClaimError as error:
            raise LaunchRejected(
                "claim-missing", f"The id_token has no '{error.claim}' claim."
            ) from error
        except jwt.InvalidSignatureError as error:
            raise LaunchRejected(
                "bad-signature",
                f"The id_token signature does not verify with the platform's key "
                f"'{kid}'.",
            ) from error
        except jwt.InvalidTokenError as error:
            raise LaunchRejected(
                "invalid-id-token", f"The id_token is not valid: {error}"
            ) from error
        return self

    def validate_state(self) -> ToolMessageLaunch:
        state = self._get_request_param("state")
        if not state:
            raise LaunchRejected(
                "state-missing", "The launch request has no 'state' parameter."
            )
        from_cookie = self._cookie_service.get_cookie(state)
        if from_cookie is None:
            raise LaunchRejected(
                "state-cookie-missing",
                "The state cookie set at login did not come back with the launch: "
                "the browser blocked it, or the launch did not start at this "
                "tool's login.",
            )
        if not hmac.compare_digest(from_cookie, state):
            raise LaunchRejected(
                "state-mismatch",
                "The state cookie does not match the launch's state parameter.",
            )
        return self

    def validate_nonce(self) -> ToolMessageLaunch:
        nonce = self._jwt["body"].get("nonce")
        if not nonce or not isinstance(nonce, str):
            raise LaunchRejected("nonce-missing", "The id_token has no 'nonce' claim.")
        if not self._session_service.check_nonce(nonce):
            raise LaunchRejected(
                "nonce-unknown",
                "The id_token nonce was not issued by this tool's login (or it "
                "expired).",
            )
        return self

    def validate_deployment(self) -> ToolMessageLaunch:
        deployment_id = self._jwt["body"].get(claims.DEPLOYMENT_ID)
        if not deployment_id or not isinstance(deployment_id, str):
            raise LaunchRejected(
                "deployment-id-missing",
                f"The id_token has no deployment_id claim ({claims.DEPLOYMENT_ID}).",
            )
        iss = self._jwt["body"]["iss"]
        client_id = self.get_client_id()
        if not self._tool_config.find_deployment_by_params(
            iss, deployment_id, client_id
        ):
            raise LaunchRejected(
                "unknown-deployment",
                f"Deployment '{deployment_id}' is not registered for platform "
                f"'{iss}' (client id '{client_id}').",
            )
        return self

    def validate_message(self) -> ToolMessageLaunch:
        check_message(self._jwt["body"], tool_urls=self._policy.tool_urls)
        return self

    def claim_nonce(self) -> ToolMessageLaunch:
        body: dict[str, Any] = dict(self._jwt["body"])
        remember_until = max(
            time.time() + self._policy.nonce_ttl_seconds,
            float(body["exp"]) + self._policy.clock_leeway_seconds,
        )
        claimed = self._nonces.claim(
            issuer=body["iss"],
            nonce=body["nonce"],
            expires_at=datetime.fromtimestamp(remember_until, UTC),
        )
        if not claimed:
            raise LaunchRejected(
                "nonce-replayed", "nonce already used: this launch was replayed."
            )
        return self

    def save_launch_data(self) -> ToolMessageLaunch:
        # The service keeps what a launch established itself. pylti1p3 would
        # also mark "this state is valid for this id_token", which lets the
        # same token pass the state check again, so nothing is saved here.
        self._cookie_service.clear_cookie(self._get_request_param("state"))
        return self

    def validated(self) -> ValidatedLaunch:
        self.validate()
        body: dict[str, Any] = dict(self._jwt["body"])
        return ValidatedLaunch(
            issuer=str(body["iss"]),
            client_id=self.get_client_id(),
            deployment_id=str(body[claims.DEPLOYMENT_ID]),
            claims=body,
            cookies=self._cookie_service.pending,
        )


def _audience_client_id(body: Mapping[str, Any]) -> str:
    """OIDC Core 3.1.3.7 and LTI Security 5.1.3: aud holds the client id; with
    several audiences, azp must be present and name it."""
    aud = body.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud
    if (
        not isinstance(audiences, list)
        or not audiences
        or not all(isinstance(a, str) and a for a in audiences)
    ):
        raise LaunchRejected(
            "audience-missing", "The id_token has no usable 'aud' claim."
        )
    azp = body.get("azp")
    if azp is not None:
        if azp not in audiences:
            raise LaunchRejected(
                "wrong-audience",
                f"The id_token azp '{azp}' is not one of its audiences "
                f"{json.dumps(audiences)}.",
            )
        return str(azp)
    if len(audiences) > 1:
        raise LaunchRejected(
            "azp-missing",
            f"The id_token names several audiences {json.dumps(audiences)} but no "
            "'azp' saying which one is this tool.",
        )
    return audiences[0]


def _rsa_public_key(jwk: dict[str, Any], kid: str) -> Any:
    if (
        jwk.get("kty") != "RSA"
        or jwk.get("alg", ALLOWED_ALGORITHM) != ALLOWED_ALGORITHM
    ):
        raise LaunchRejected(
            "unusable-signing-key",
            f"The platform key '{kid}' is not an RS256 RSA key.",
        )
    try:
        return jwt.PyJWK(jwk, algorithm=ALLOWED_ALGORITHM).key
    except jwt.PyJWKError as error:
        raise LaunchRejected(
            "unusable-signing-key", f"The platform key '{kid}' cannot be read."
        ) from error


def _when(timestamp: object) -> str:
    try:
        moment = datetime.fromtimestamp(float(timestamp), UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return repr(timestamp)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def validate_launch(
    request: FormRequest,
    registry: PlatformRegistry,
    *,
    storage: StoreLaunchDataStorage,
    key_sets: PlatformKeySets,
    nonces: NonceLedger,
    policy: LaunchPolicy,
) -> ValidatedLaunch:
    """Run every check; raises `LaunchRejected` naming the first that fails."""
    launch = ToolMessageLaunch(
        request,
        registry,
        storage=storage,
        key_sets=key_sets,
        nonces=nonces,
        policy=policy,
    )
    return launch.validated()
