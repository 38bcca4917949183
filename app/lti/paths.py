"""The tool's LTI URLs, as paths below the public base URL.

The LMS set-up command and the routes both read them from here, so what an
administrator pastes into an LMS is always what the service answers on.
"""

LOGIN_PATH = "/lti/login"
LAUNCH_PATH = "/lti/launch"
JWKS_PATH = "/lti/jwks"
WELL_KNOWN_JWKS_PATH = "/.well-known/jwks.json"

# Registering the tool with an LMS: LTI Dynamic Registration, the Canvas
# developer key JSON configuration, and the manual Moodle set-up page.
REGISTER_PATH = "/lti/register"
CANVAS_CONFIG_PATH = "/lti/canvas.json"
MOODLE_SETUP_PATH = "/lti/setup/moodle"

# Pages shown inside the LMS after a launch; each carries the launch session id.
ACTIVITY_PATH = "/lti/activity"
SUBMIT_PATH = "/lti/activity/submit"
ALIGN_PATH = "/lti/activity/align"
UNALIGN_PATH = "/lti/activity/unalign"

# A content-selection URL some LMSs are configured with; it launches like
# LAUNCH_PATH and is accepted as a target_link_uri.
DEEP_LINK_PATH = "/lti/deep-link"
# The deep-linking picker posts the chosen competencies here.
DEEP_LINK_RETURN_PATH = "/lti/deep-link/return"
TARGET_PATHS = (LAUNCH_PATH, DEEP_LINK_PATH)
