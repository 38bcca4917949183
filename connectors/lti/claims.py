"""Claim names of the LTI 1.3 Core specification used by the tool."""

LTI_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"

MESSAGE_TYPE = LTI_CLAIM + "message_type"
VERSION = LTI_CLAIM + "version"
DEPLOYMENT_ID = LTI_CLAIM + "deployment_id"
TARGET_LINK_URI = LTI_CLAIM + "target_link_uri"
RESOURCE_LINK = LTI_CLAIM + "resource_link"
CONTEXT = LTI_CLAIM + "context"
ROLES = LTI_CLAIM + "roles"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
LTI_VERSION = "1.3.0"
