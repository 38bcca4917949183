"""`standards-bridge lms-setup`: what an administrator pastes into Canvas and Moodle."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from click.testing import Result
from typer.testing import CliRunner

from app.cli import cli
from app.settings import get_settings

RunLmsSetup = Callable[[dict[str, str]], Result]


@pytest.fixture
def lms_setup(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunLmsSetup]:
    def run(environment: dict[str, str]) -> Result:
        for name in ("BASE_URL", "HOST", "PORT"):
            monkeypatch.delenv(name, raising=False)
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("LOG_LEVEL", "WARNING")
        get_settings.cache_clear()
        return CliRunner().invoke(cli, ["lms-setup"])

    yield run
    get_settings.cache_clear()


def field_lines(output: str) -> dict[str, str]:
    """The `Label: value` lines of the output, by label (last one wins)."""
    lines = {}
    for line in output.splitlines():
        label, separator, value = line.strip().partition(": ")
        if separator and value.strip():
            lines[label] = value.strip()
    return lines


def test_prints_each_canvas_and_moodle_field_with_the_public_url(
    lms_setup: RunLmsSetup,
) -> None:
    result = lms_setup({"BASE_URL": "https://bridge.example.edu/"})

    assert result.exit_code == 0, result.output
    out = result.stdout
    canvas, moodle = out.split("\nMoodle: ")
    canvas_fields = field_lines(canvas)
    moodle_fields = field_lines(moodle)
    assert canvas_fields["Redirect URIs"] == "https://bridge.example.edu/lti/launch"
    assert canvas_fields["Target Link URI"] == "https://bridge.example.edu/lti/launch"
    assert (
        canvas_fields["OpenID Connect Initiation Url"]
        == "https://bridge.example.edu/lti/login"
    )
    assert canvas_fields["JWK Method"] == "Public JWK URL"
    assert canvas_fields["Public JWK URL"] == "https://bridge.example.edu/lti/jwks"
    assert moodle_fields["Tool URL"] == "https://bridge.example.edu/lti/launch"
    assert moodle_fields["LTI version"] == "LTI 1.3"
    assert moodle_fields["Public key type"] == "Keyset URL"
    assert moodle_fields["Public keyset"] == "https://bridge.example.edu/lti/jwks"
    assert moodle_fields["Initiate login URL"] == "https://bridge.example.edu/lti/login"
    assert (
        moodle_fields["Redirection URI(s)"] == "https://bridge.example.edu/lti/launch"
    )
    assert "Developer Keys > + Developer Key > + LTI Key" in canvas
    assert "External tool > Manage tools > configure a tool manually" in moodle
    assert "platforms add --preset canvas" in canvas
    assert "platforms add --preset moodle --site-url PLATFORM_ID" in moodle
    # A public https address needs no warning about reachability.
    assert "reachable from this machine only" not in out


def test_defaults_to_host_and_port_and_warns_about_loopback(
    lms_setup: RunLmsSetup,
) -> None:
    result = lms_setup({"PORT": "8123"})

    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8123/lti/login" in result.stdout
    assert "http://127.0.0.1:8123/lti/jwks" in result.stdout
    assert "reachable from this machine only" in result.stdout
