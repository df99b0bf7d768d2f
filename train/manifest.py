"""What a curated run promises its training, as keys of the run's ``manifest.json``.

Curation judges "fits in ``max_seq_len``" with one tokenizer and one prompt template;
training must use the same three, or the promise means nothing. Curation writes them
with ``training_keys`` (every engine calls it); ``curate train --data DIR/clean`` reads
them back from ``DIR/manifest.json`` with ``read_training_keys`` unless told otherwise
on the command line.
"""

from __future__ import annotations

import json
from pathlib import Path

from train.errors import InputError
from train.template import TEMPLATE
from train.tokenizer import portable_name

KEYS = ("tokenizer", "template", "max_seq_len")


def training_keys(tokenizer: str, max_seq_len: int) -> dict:
    """The manifest entries for a run curated with this tokenizer and sequence length."""
    return {"tokenizer": portable_name(tokenizer), "template": TEMPLATE, "max_seq_len": max_seq_len}


def manifest_of(data_dir: str | Path) -> Path:
    """DIR/clean -> DIR/manifest.json: the shards' run's manifest."""
    return Path(data_dir).parent / "manifest.json"


def read_training_keys(data_dir: str | Path) -> dict:
    """The training keys of the run whose clean shards are ``data_dir``; {} when the
    shards come from elsewhere (no manifest, or one from before these keys existed)."""
    path = manifest_of(data_dir)
    if not path.is_file():
        return {}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read {path}: {error}") from None
    return {key: manifest[key] for key in KEYS if key in manifest}
