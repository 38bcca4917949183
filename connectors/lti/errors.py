"""Why a launch or login was refused, in words a person (and a log) can use."""

from __future__ import annotations


class LaunchRejected(Exception):
    """A login or launch the tool refuses.

    `rule` is a short stable name for the check that failed (it goes to logs
    and tests); `detail` is the sentence shown on the error page.
    """

    def __init__(self, rule: str, detail: str, *, status: int = 400) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail
        self.status = status
