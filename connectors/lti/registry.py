"""The tool configuration pylti1p3 asks for registrations and deployments.

The service implements `PlatformRegistry` over its own platform records; this
base class only fixes the pylti1p3 conventions.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from pylti1p3.deployment import Deployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config import ToolConfAbstract

from connectors.lti.adapters import FormRequest


class PlatformRegistry(ToolConfAbstract[FormRequest]):
    """Registrations found by issuer and client id, never by issuer alone."""

    def check_iss_has_one_client(self, iss: str) -> bool:
        # pylti1p3 keeps this choice in a class-level dict shared by every
        # instance; answering here keeps one registry's issuers from leaking
        # into another's.
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    @abstractmethod
    def knows_issuer(self, iss: str) -> bool:
        """Whether any platform is registered with this issuer."""

    # pylti1p3 annotates these as never None, yet its callers test for None:
    # "not registered" is an answer, not an error.
    @abstractmethod
    def find_registration_by_params(  # type: ignore[override]
        self, iss: str, client_id: str | None, *args: Any, **kwargs: Any
    ) -> Registration | None:
        """The registration for (`iss`, `client_id`); a None client id matches
        only when the issuer has a single registration."""

    @abstractmethod
    def find_deployment_by_params(
        self,
        iss: str,
        deployment_id: str,
        client_id: str | None,
        *args: Any,
        **kwargs: Any,
    ) -> Deployment | None: ...

    def find_registration_by_issuer(  # type: ignore[override]
        self, iss: str, *args: Any, **kwargs: Any
    ) -> Registration | None:
        return self.find_registration_by_params(iss, None)

    def find_deployment(self, iss: str, deployment_id: str) -> Deployment | None:
        return self.find_deployment_by_params(iss, deployment_id, None)
