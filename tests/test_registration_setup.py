"""The Canvas developer key JSON and the manual Moodle set-up page."""

from __future__ import annotations

from html.parser import HTMLParser

from fastapi.testclient import TestClient

from app.lti.paths import (
    CANVAS_CONFIG_PATH,
    DEEP_LINK_PATH,
    JWKS_PATH,
    LAUNCH_PATH,
    LOGIN_PATH,
    MOODLE_SETUP_PATH,
    REGISTER_PATH,
)
from app.settings import Settings
from connectors.lti.advantage import (
    SCOPE_CONTEXT_MEMBERSHIP_READONLY,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
)


class _CellParser(HTMLParser):
    """The text of each <td>, row by row, in the table with one id."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id = table_id
        self.inside = False
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.inside = dict(attrs).get("id") == self.table_id
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag == "td":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self.inside = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def field_values(html: str, table_id: str) -> dict[str, str]:
    parser = _CellParser(table_id)
    parser.feed(html)
    return {row[0]: row[1] for row in parser.rows if len(row) == 2}


def test_canvas_json_describes_the_tool_at_its_public_url(
    anonymous_client: TestClient, settings: Settings
) -> None:
    response = anonymous_client.get(CANVAS_CONFIG_PATH)

    assert response.status_code == 200
    config = response.json()
    base = settings.public_url
    assert config["title"] == "Standards Bridge"
    assert config["description"]
    assert config["oidc_initiation_url"] == base + LOGIN_PATH
    assert config["target_link_uri"] == base + LAUNCH_PATH
    assert config["public_jwk_url"] == base + JWKS_PATH
    assert set(config["scopes"]) == {
        SCOPE_LINEITEM,
        SCOPE_LINEITEM_READONLY,
        SCOPE_RESULT_READONLY,
        SCOPE_SCORE,
        SCOPE_CONTEXT_MEMBERSHIP_READONLY,
    }
    (extension,) = config["extensions"]
    assert extension["platform"] == "canvas.instructure.com"
    assert extension["privacy_level"] == "public"
    assert extension["domain"] == settings.host
    placements = {
        p["placement"]: (p["message_type"], p["target_link_uri"])
        for p in extension["settings"]["placements"]
    }
    assert placements == {
        "link_selection": ("LtiDeepLinkingRequest", base + DEEP_LINK_PATH),
        "assignment_selection": ("LtiDeepLinkingRequest", base + DEEP_LINK_PATH),
        "course_navigation": ("LtiResourceLinkRequest", base + LAUNCH_PATH),
    }
    assert config["custom_fields"] == {"canvas_course_id": "$Canvas.course.id"}


def test_moodle_setup_page_lists_the_manual_fields(
    anonymous_client: TestClient, settings: Settings
) -> None:
    response = anonymous_client.get(MOODLE_SETUP_PATH)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    base = settings.public_url
    fields = field_values(response.text, "moodle-fields")
    assert fields["Tool URL"] == base + LAUNCH_PATH
    assert fields["LTI version"] == "LTI 1.3"
    assert fields["Public key type"] == "Keyset URL"
    assert fields["Public keyset"] == base + JWKS_PATH
    assert fields["Initiate login URL"] == base + LOGIN_PATH
    assert base + REGISTER_PATH in response.text
    # The test server listens on 127.0.0.1, which a hosted Moodle cannot reach.
    assert 'id="loopback"' in response.text
