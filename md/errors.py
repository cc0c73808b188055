"""The one exception type a user should see as a single clear line.

Stages raise `MDError` for anything the user can fix (a missing data path, an unknown student,
a thoughts file that does not match its dataset). `md.config.cli.stage_main` prints it as one
`error: ...` line and exits with status 2, without a traceback. Anything else is a bug and keeps
its traceback.
"""


class MDError(Exception):
    """A user-fixable problem; the message says what is wrong and how to fix it."""
