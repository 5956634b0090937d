"""The one exception type for mistakes the user can fix (bad data, bad config).

The CLI prints its message and exits with code 2, without a traceback.
"""


class UserError(Exception):
    """A problem in the user's data or configuration, with what to do about it."""

    exit_code = 2
