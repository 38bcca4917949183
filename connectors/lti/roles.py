"""Reading LTI role URIs (LIS vocabulary) as what a person may do in the tool.

Platforms send full URIs in id_tokens
(`http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor`); LTI 1.3 also
allows the short context role names ("Instructor") and sub-roles
(`.../membership/Instructor#TeachingAssistant`).
"""

from __future__ import annotations

from collections.abc import Iterable

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"

# Context roles and sub-roles that may change what an activity is aligned to.
_STAFF_CONTEXT_ROLES = {"Instructor", "ContentDeveloper", "Administrator"}
_STAFF_INSTITUTION_ROLES = {"Administrator"}
_STAFF_SYSTEM_ROLES = {"Administrator", "SysAdmin"}
_LEARNER_CONTEXT_ROLES = {"Learner"}
_LEARNER_INSTITUTION_ROLES = {"Student", "Learner"}


def _split(role: str) -> tuple[str, str]:
    """(vocabulary, role name): ("membership", "Instructor") and so on.

    A sub-role such as `membership/Instructor#TeachingAssistant` counts as its
    principal role, which the LTI specification says it implies.
    """
    if not role.startswith(LIS):
        return ("membership", role) if "/" not in role and ":" not in role else ("", "")
    vocabulary, _, name = role[len(LIS) :].partition("#")
    if vocabulary.startswith("membership/"):
        return "membership", vocabulary.split("/", 1)[1]
    return vocabulary, name


def can_align(roles: Iterable[str]) -> bool:
    for vocabulary, name in map(_split, roles):
        if vocabulary == "membership" and name in _STAFF_CONTEXT_ROLES:
            return True
        if vocabulary == "institution/person" and name in _STAFF_INSTITUTION_ROLES:
            return True
        if vocabulary == "system/person" and name in _STAFF_SYSTEM_ROLES:
            return True
    return False


def is_learner(roles: Iterable[str]) -> bool:
    for vocabulary, name in map(_split, roles):
        if vocabulary == "membership" and name in _LEARNER_CONTEXT_ROLES:
            return True
        if vocabulary == "institution/person" and name in _LEARNER_INSTITUTION_ROLES:
            return True
    return False
