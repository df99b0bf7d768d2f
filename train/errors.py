"""The error the command line turns into one line on stderr and exit status 2.

It lives in ``train`` because ``train`` imports nothing from ``pipeline`` (the dependency
runs pipeline -> train); ``pipeline.errors`` re-exports it, so both sides raise one class.
"""


class InputError(Exception):
    """A usage or input problem the user can fix: missing file, unreadable config.

    The message names what and where; the CLI prints it without a traceback.
    """
