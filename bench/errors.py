"""User-facing errors: the CLI prints these as one line and exits with code 2."""


class UserError(Exception):
    """A problem with the user's input or environment, with a hint on what to do.

    The message must name the problem and the fix; it is printed without a traceback.
    """
