"""The tool's LTI URLs, as paths below the public base URL.

The LMS set-up command and the routes both read them from here, so what an
administrator pastes into an LMS is always what the service answers on.
"""

LOGIN_PATH = "/lti/login"
LAUNCH_PATH = "/lti/launch"
JWKS_PATH = "/lti/jwks"
WELL_KNOWN_JWKS_PATH = "/.well-known/jwks.json"

# Pages shown inside the LMS after a launch; each carries the launch session id.
ACTIVITY_PATH = "/lti/activity"
SUBMIT_PATH = "/lti/activity/submit"
ALIGN_PATH = "/lti/activity/align"
UNALIGN_PATH = "/lti/activity/unalign"
