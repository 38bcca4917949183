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
CUSTOM = LTI_CLAIM + "custom"
FOR_USER = LTI_CLAIM + "for_user"
LAUNCH_PRESENTATION = LTI_CLAIM + "launch_presentation"

DEEP_LINKING_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/"
DEEP_LINKING_SETTINGS = DEEP_LINKING_CLAIM + "deep_linking_settings"
CONTENT_ITEMS = DEEP_LINKING_CLAIM + "content_items"
DEEP_LINKING_DATA = DEEP_LINKING_CLAIM + "data"
DEEP_LINKING_MESSAGE = DEEP_LINKING_CLAIM + "msg"

DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"
SUBMISSION_REVIEW_REQUEST = "LtiSubmissionReviewRequest"
RESOURCE_LINK_TYPE = "ltiResourceLink"
