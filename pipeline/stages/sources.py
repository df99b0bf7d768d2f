"""Which files a run reads: INPUT arguments resolved to a list of sources.

What people get wrong:

- **Each file is read once**, however it is spelled (``f``, ``./f``, ``/abs/f``,
  a symlink to it): sources are compared by their real path, and the first
  spelling given names the source in ``_source``.
- **Symlinked directories** are followed once: a link back to a directory being
  walked (``ln -s . loop``) is skipped, so a walk always ends.
- **The tool's own artefacts are not input.** A walk skips the directory the run
  writes (``--out``, a refresh's ``--state``) and any curate output below the
  directory given; naming a file inside ``--out`` is an error, since the run
  replaces it. To curate a curated set again, give its ``clean/`` folder.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Callable

from pipeline.errors import InputError

HUB_PREFIX = "hf:"


def is_curate_output(path: Path) -> bool:
    """A ``curate run`` output or a refresh state (or one of its versions)."""
    return ((path / "manifest.json").is_file() and (path / "clean").is_dir()) or (path / "CURRENT").is_file()


def _inside(path: str, folders: list[str]) -> str | None:
    for folder in folders:
        if path == folder or path.startswith(folder.rstrip(os.sep) + os.sep):
            return folder
    return None


def _real(given: str) -> str:
    """The real path; a loop of links or a path that cannot be looked at is an input error."""
    try:
        os.stat(given)
    except FileNotFoundError:
        raise InputError(f"input not found: {given}") from None
    except OSError as error:
        raise InputError(f"cannot read {given}: {error.strerror}") from None
    return os.path.realpath(given)


class SourceList:
    """Sources in order, each real path once."""

    def __init__(self, exclude: list[str], wanted: Callable[[Path], bool],
                 is_saved_dataset: Callable[[Path], bool], kinds: str) -> None:
        self.exclude = [os.path.realpath(p) for p in exclude]
        self.wanted = wanted
        self.is_saved_dataset = is_saved_dataset
        self.kinds = kinds
        self.sources: dict[str, str] = {}  # real path -> the spelling that names it

    def add_given(self, given: str) -> None:
        real = _real(given)
        owner = _inside(real, self.exclude)
        if owner is not None:
            raise InputError(f"input {given} is inside {owner}, which this command writes")
        path = Path(given)
        if not path.is_dir():
            # Checked now, so that the error is the run's only line, not one after its progress.
            if not self.wanted(path):
                raise InputError(f"{given}: unsupported file type {''.join(path.suffixes[-2:]) or '(none)'}; expected {self.kinds}")
            if not os.access(real, os.R_OK):
                raise InputError(f"cannot read {given}: permission denied")
            self.sources.setdefault(real, given)
        elif self.is_saved_dataset(path):
            self.sources.setdefault(real, given)
        elif is_curate_output(path):
            raise InputError(f"{given} is the output of curate; give {path / 'clean'} to curate its clean set again")
        else:
            before = len(self.sources)
            self._walk(path, set())
            if len(self.sources) == before:
                raise InputError(f"no input files ({self.kinds}) in directory {given}")

    def _walk(self, directory: Path, visiting: set[str]) -> None:
        real = os.path.realpath(directory)
        if real in visiting or _inside(real, self.exclude):
            return  # a link back up the tree, or what this command writes
        visiting = visiting | {real}
        try:
            entries = sorted(directory.iterdir())
        except OSError as error:
            raise InputError(f"cannot read directory {directory}: {error.strerror}") from None
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                if self.is_saved_dataset(entry):
                    self.sources.setdefault(os.path.realpath(entry), str(entry))
                elif not is_curate_output(entry):
                    self._walk(entry, visiting)
            elif self.wanted(entry):
                real_file = _real(str(entry))
                if not _inside(real_file, self.exclude):
                    self.sources.setdefault(real_file, str(entry))


def resolve_sources(inputs: list[str], wanted: Callable[[Path], bool], is_saved_dataset: Callable[[Path], bool],
                    exclude: list[str] = (), kinds: str = "supported") -> list[str]:
    """Globs, directories and files as a list of sources, each file once, in the
    order given (a directory's files sorted by name)."""
    found = SourceList(list(exclude), wanted, is_saved_dataset, kinds)
    for given in inputs:
        if given.startswith(HUB_PREFIX):
            found.sources.setdefault(given, given)
        elif not os.path.lexists(given) and glob.has_magic(given):
            matches = sorted(m for m in glob.glob(given, recursive=True) if os.path.exists(m))
            if not matches:
                raise InputError(f"no files match {given}")
            for match in matches:
                found.add_given(match)
        else:
            found.add_given(given)
    return list(found.sources.values())
