"""Start-up errors for bad settings: one line per bad environment variable.

pydantic's own report names fields and links to its documentation; an
operator needs the variable they set, what it must be, and what it was.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from app.logs import is_secret_key
from app.settings import Settings

# What a value must be, by pydantic error type; `{...}` come from the error ctx.
EXPECTATIONS = {
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "decimal_parsing": "a number",
    "float_parsing": "a number",
    "bool_parsing": "true or false (also 1/0, yes/no, on/off)",
    "greater_than": "greater than {gt}",
    "greater_than_equal": "at least {ge}",
    "less_than": "less than {lt}",
    "less_than_equal": "at most {le}",
}
VALUE_ERROR_PREFIX = "Value error, "


def describe_settings_errors(error: ValidationError) -> list[str]:
    """One sentence per bad value, naming the variable, e.g.

    `PORT must be a whole number, got 'abc' (Port the server binds)`
    """
    return [_describe(details) for details in error.errors()]


def _describe(details: ErrorDetails) -> str:
    field = ".".join(str(part) for part in details["loc"])
    variable = field.upper()
    line = f"{variable} {_requirement(details)}, got {_shown(field, details['input'])}"
    description = _field_description(field)
    return f"{line} ({description})" if description else line


def _requirement(details: ErrorDetails) -> str:
    if details["type"] == "value_error":
        return details["msg"].removeprefix(VALUE_ERROR_PREFIX)
    expectation = EXPECTATIONS.get(details["type"])
    if expectation is None:
        return f"is invalid: {details['msg'][:1].lower()}{details['msg'][1:]}"
    return "must be " + expectation.format(**details.get("ctx", {}))


def _shown(field: str, value: Any) -> str:
    """The offending value, with anything secret kept out of the terminal."""
    if is_secret_key(field):
        return "a value that is not shown"
    text = str(value)
    if "://" in text and "@" in text:
        scheme, rest = text.split("://", 1)
        text = f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return repr(text)


def _field_description(field: str) -> str | None:
    info = Settings.model_fields.get(field)
    return info.description if info else None
