"""Errors that the command line turns into one line on stderr and exit status 2.

``InputError`` is defined in ``train.errors`` (train imports nothing from pipeline)
and is the same class here, so the CLI catches what either side raises.
"""

from train.errors import InputError

__all__ = ["InputError"]
