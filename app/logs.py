"""Structured logging: one event name plus key-value fields per line.

Both structlog loggers and the standard library's `logging` (uvicorn,
SQLAlchemy, pylti1p3) end in one handler on the root logger that renders
through `structlog.stdlib.ProcessorFormatter`, so in JSON mode every line on
stderr is one JSON object:

    {"event": "http.request", "level": "info", "logger": "app.operations.middleware",
     "timestamp": "2025-01-31T09:12:03.123456Z", "request_id": "3f2a...", ...}
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[redacted]"

# Key names (lower case, "-" read as "_") whose values are never written.
SECRET_KEYS = frozenset(
    {
        "authorization",
        "proxy_authorization",
        "cookie",
        "set_cookie",
        "id_token",
        "access_token",
        "refresh_token",
        "client_assertion",
        "client_secret",
        "password",
        "passwd",
        "secret",
        "token",
        "private_key",
        "secret_key",
    }
)
SECRET_SUFFIXES = ("_token", "_secret", "_password", "_private_key")

# uvicorn's access line carries the raw request target, query string included
# (LTI and OAuth put codes and tokens there); `http.request` replaces it.
SILENCED_LOGGERS = ("uvicorn.access",)
# uvicorn installs its own handlers before loading the app; route them to ours.
ADOPTED_LOGGERS = ("uvicorn", "uvicorn.error")
# httpx logs every outbound request's full URL at INFO; the connectors log
# their calls as structured events without the query.
QUIETED_LOGGERS = ("httpx", "httpcore")
# Read first in JSON lines; the event's own fields follow in the order given.
LEADING_KEYS = ("timestamp", "level", "event")


def configure_logging(*, level: str = "INFO", json: bool = False) -> None:
    """Send structlog and stdlib logging through one renderer on stderr.

    Safe to call again (every app built in one process calls it): the root
    handler installed by an earlier call is replaced, not duplicated.
    """
    numeric_level = logging.getLevelNamesMapping()[level]
    shared = _shared_processors()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *_rendering_processors(json=json),
        ],
    )
    _install_root_handler(formatter, level=numeric_level)


def redact_secrets(
    _logger: WrappedLogger, _method: str, event_dict: EventDict
) -> EventDict:
    """Replace values under secret-looking keys, nested mappings included.

    A last line of defence: code should not log secrets in the first place.
    """
    return _redacted(event_dict)


def is_secret_key(key: str) -> bool:
    name = key.lower().replace("-", "_")
    return name in SECRET_KEYS or name.endswith(SECRET_SUFFIXES)


def _redacted(values: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in values.items():
        if isinstance(key, str) and is_secret_key(key):
            values[key] = REDACTED
        elif isinstance(value, Mapping):
            values[key] = _redacted(dict(value))
    return values


def _shared_processors() -> list[Processor]:
    """What every record gets, whether it came from structlog or stdlib logging."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]


def _rendering_processors(*, json: bool) -> list[Processor]:
    if json:
        return [
            structlog.processors.dict_tracebacks,
            _leading_keys_first,
            # UUIDs, Decimals and datetimes are written as their text form.
            structlog.processors.JSONRenderer(default=str),
        ]
    return [structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())]


def _leading_keys_first(
    _logger: WrappedLogger, _method: str, event_dict: EventDict
) -> EventDict:
    leading = {key: event_dict.pop(key) for key in LEADING_KEYS if key in event_dict}
    leading.update(event_dict)
    return leading


class _CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that writes to whatever `sys.stderr` is at emit time.

    A CLI runner or pytest swaps `sys.stderr` after start-up; a handler bound
    to the original stream would write to the wrong (or a closed) file.
    """

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def _install_root_handler(formatter: logging.Formatter, *, level: int) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _CurrentStderrHandler):
            root.removeHandler(handler)
    handler = _CurrentStderrHandler()
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(level)

    for name in ADOPTED_LOGGERS:
        adopted = logging.getLogger(name)
        adopted.handlers.clear()
        adopted.propagate = True
    for name in QUIETED_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    for name in SILENCED_LOGGERS:
        silenced = logging.getLogger(name)
        silenced.handlers.clear()
        silenced.propagate = False
