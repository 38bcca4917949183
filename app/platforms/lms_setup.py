"""What an LMS administrator pastes into Canvas or Moodle to add this tool.

The values come from the public base URL and `app.lti.paths`, so the set-up
screens, the `lms-setup` command and the REST answer always agree with the
routes the service actually serves.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from app.lti.paths import JWKS_PATH, LAUNCH_PATH, LOGIN_PATH

TOOL_NAME = "Standards Bridge"

CANVAS_MENU = "Admin > Developer Keys > + Developer Key > + LTI Key"
MOODLE_MENU = (
    "Site administration > Plugins > Activity modules > External tool > "
    "Manage tools > configure a tool manually"
)

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}

_LOOPBACK_NOTE = (
    "Note: this address is reachable from this machine only. Set BASE_URL to the\n"
    "URL the LMS reaches (https for Canvas cloud). Moodle also refuses\n"
    "127.0.0.0/8 and ports other than 80 and 443 unless its HTTP security\n"
    "settings (cURL blocked hosts list, cURL allowed ports list) allow them."
)

_CANVAS_AFTER = [
    "  LTI Advantage Services: turn on the four assignment and submission",
    '    (gradebook) scopes and "Can retrieve user data associated with the',
    '    context the tool is installed in".',
    "  Additional Settings > Privacy Level: Public.",
    "  Placements: Link Selection and Assignment Selection, Message Type",
    "    LtiDeepLinkingRequest.",
    "  Save, switch the key's State to ON and copy its Client ID (Details column).",
    "  Install it: Admin > Settings > Apps > View App Configurations > + App,",
    '    Configuration Type "By Client ID", paste the Client ID, Submit, Install.',
    "  The installed app's gear menu > Deployment Id shows the deployment id.",
    "  Then register Canvas here:",
    "    standards-bridge platforms add --preset canvas \\",
    "      --client-id CLIENT_ID --deployment-id DEPLOYMENT_ID",
]

_MOODLE_AFTER = [
    '  Tick "Supports Deep Linking (Content-Item Message)".',
    "  Services: IMS LTI Assignment and Grade Services: Use this service for",
    "    grade sync and column management; IMS LTI Names and Role Provisioning:",
    "    Use this service to retrieve members' information as per privacy",
    "    settings.",
    "  Privacy: Share launcher's name with tool: Always; Accept grades from the",
    "    tool: Always.",
    '  Save changes, then the tool\'s "View configuration details" shows its',
    "    Platform ID, Client ID and Deployment ID.",
    "  Then register Moodle here:",
    "    standards-bridge platforms add --preset moodle --site-url PLATFORM_ID \\",
    "      --client-id CLIENT_ID --deployment-id DEPLOYMENT_ID",
]


@dataclass(frozen=True)
class ToolUrls:
    """The three URLs an LMS needs: where logins start, launches land, keys live."""

    login_url: str
    launch_url: str
    jwks_url: str

    @property
    def redirect_uris(self) -> list[str]:
        # Deep-linking requests and resource-link launches land on one route.
        return [self.launch_url]


@dataclass(frozen=True)
class SetupField:
    """One field of an LMS form, labelled exactly as the LMS labels it."""

    label: str
    value: str


def tool_urls(public_url: str) -> ToolUrls:
    base = public_url.rstrip("/")
    return ToolUrls(
        login_url=base + LOGIN_PATH,
        launch_url=base + LAUNCH_PATH,
        jwks_url=base + JWKS_PATH,
    )


def canvas_fields(urls: ToolUrls) -> list[SetupField]:
    """The Canvas LTI Key form, Method "Manual Entry"."""
    return [
        SetupField("Key Name", TOOL_NAME),
        SetupField("Redirect URIs", "\n".join(urls.redirect_uris)),
        SetupField("Method", "Manual Entry"),
        SetupField("Title", TOOL_NAME),
        SetupField("Target Link URI", urls.launch_url),
        SetupField("OpenID Connect Initiation Url", urls.login_url),
        SetupField("JWK Method", "Public JWK URL"),
        SetupField("Public JWK URL", urls.jwks_url),
    ]


def moodle_fields(urls: ToolUrls) -> list[SetupField]:
    """The Moodle "External tool configuration" form."""
    return [
        SetupField("Tool name", TOOL_NAME),
        SetupField("Tool URL", urls.launch_url),
        SetupField("LTI version", "LTI 1.3"),
        SetupField("Public key type", "Keyset URL"),
        SetupField("Public keyset", urls.jwks_url),
        SetupField("Initiate login URL", urls.login_url),
        SetupField("Redirection URI(s)", "\n".join(urls.redirect_uris)),
        SetupField("Content Selection URL", urls.launch_url),
    ]


def is_loopback(public_url: str) -> bool:
    """True when only this machine can reach the URL, so a hosted LMS cannot."""
    return (urlsplit(public_url).hostname or "") in LOOPBACK_HOSTS


def setup_instructions(public_url: str) -> str:
    """The Canvas and Moodle forms filled in, then how to register each LMS back.

    Plain text with one value per line, so a URL is never wrapped and can be
    copied straight into the LMS.
    """
    urls = tool_urls(public_url)
    lines = [f"{TOOL_NAME} answers LMSs at {public_url.rstrip('/')}", ""]
    if is_loopback(public_url):
        lines += [_LOOPBACK_NOTE, ""]
    lines += [f"Canvas: {CANVAS_MENU}", *_form_lines(canvas_fields(urls))]
    lines += [*_CANVAS_AFTER, ""]
    lines += [f"Moodle: {MOODLE_MENU}", *_form_lines(moodle_fields(urls))]
    lines += _MOODLE_AFTER
    return "\n".join(lines) + "\n"


def _form_lines(fields: list[SetupField]) -> list[str]:
    width = max(len(field.label) for field in fields) + 1
    lines = []
    for field in fields:
        first, *more = field.value.split("\n")
        lines.append(f"  {field.label + ':':<{width}} {first}")
        lines += [f"  {'':<{width}} {value}" for value in more]
    return lines
