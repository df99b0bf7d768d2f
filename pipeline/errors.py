"""Errors that the command line turns into one line on stderr and exit status 2."""


class InputError(Exception):
    """A usage or input problem the user can fix: missing file, unreadable config.

    The message names what and where; the CLI prints it without a traceback.
    """
