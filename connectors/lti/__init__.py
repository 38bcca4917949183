"""LTI 1.3 protocol code over pylti1p3; it knows nothing of the service's tables."""

from connectors.lti.adapters import FormRequest, PendingCookie
from connectors.lti.errors import LaunchRejected
from connectors.lti.keysets import PlatformKeySets
from connectors.lti.launch import (
    LaunchPolicy,
    PlatformError,
    ValidatedLaunch,
    platform_error,
    validate_launch,
)
from connectors.lti.login import start_login
from connectors.lti.registry import PlatformRegistry
from connectors.lti.storage import KeyValueStore, NonceLedger, StoreLaunchDataStorage

__all__ = [
    "FormRequest",
    "KeyValueStore",
    "LaunchPolicy",
    "LaunchRejected",
    "NonceLedger",
    "PendingCookie",
    "PlatformError",
    "PlatformKeySets",
    "PlatformRegistry",
    "StoreLaunchDataStorage",
    "ValidatedLaunch",
    "platform_error",
    "start_login",
    "validate_launch",
]
