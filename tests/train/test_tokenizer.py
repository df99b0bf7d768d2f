"""The one tokenizer loader and the data contract between curation and training
(no model, no GGUF conversion: tiny tokenizers written here)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers, processors

from train.config import DEFAULT_MAX_SEQ_LEN, TrainConfig, settle_data_contract
from train.errors import InputError
from train.manifest import read_training_keys, training_keys
from train.template import prompt_special_tokens, special_tokens
from train.tokenizer import load_tokenizer, looks_like_hub_id, portable_name

TRAIN = Path(__file__).resolve().parents[2] / "train"


def word_level(directory: Path, config: dict | None, bos: bool = False) -> Path:
    vocab = {"<unk>": 0, "<bos>": 1, "<eos>": 2, "<pad>": 3, "hello": 4}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    if bos:
        tokenizer.post_processor = processors.TemplateProcessing(single="<bos> $A", special_tokens=[("<bos>", 1)])
    directory.mkdir()
    tokenizer.save(str(directory / "tokenizer.json"))
    if config is not None:
        (directory / "tokenizer_config.json").write_text(json.dumps(config))
    return directory


@pytest.mark.parametrize(
    "config, eos, pad",
    [
        ({"eos_token": "<eos>", "pad_token": "<pad>"}, 2, 3),
        ({"eos_token": {"content": "<eos>", "special": True}}, 2, 2),  # older files; no pad: the EOS pads
    ],
    ids=["strings", "dicts, no pad"],
)
def test_special_tokens_are_read_from_tokenizer_config(tmp_path, config, eos, pad):
    tokenizer = load_tokenizer(str(word_level(tmp_path / "tok", config)))
    assert (tokenizer.eos_id, tokenizer.pad_id) == (eos, pad)


def test_a_tokenizer_without_eos_counts_but_cannot_train(tmp_path):
    tokenizer = load_tokenizer(str(word_level(tmp_path / "tok", None)))
    assert len(tokenizer) == 5
    with pytest.raises(InputError, match="no EOS token"):
        tokenizer.eos_id


@pytest.mark.parametrize("bos, expected", [(False, 0), (True, 1)], ids=["no BOS", "BOS"])
def test_special_tokens_are_measured_on_the_tokenizer(tmp_path, bos, expected):
    backend = load_tokenizer(str(word_level(tmp_path / "tok", {"eos_token": "<eos>"}, bos=bos))).backend
    assert prompt_special_tokens(backend) == expected and special_tokens(backend) == expected + 1


@pytest.mark.parametrize(
    "name, hub",
    [("HuggingFaceTB/SmolLM2-135M-Instruct", True), ("./models/x", False), ("/abs/path", False), ("smollm2", False),
     ("a/b/c", False)],
)  # fmt: skip
def test_hub_ids_are_told_from_paths(name, hub):
    assert looks_like_hub_id(name) is hub


def test_manifest_names_paths_absolutely_and_names_as_they_are(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert training_keys("smollm2", 256) == {"tokenizer": "smollm2", "template": "alpaca", "max_seq_len": 256}
    assert portable_name("tok") == str(tmp_path / "tok")
    assert portable_name("org/model") == "org/model"


def settle(tmp_path, manifest: dict | None, **given):
    clean = tmp_path / "run" / "clean"
    clean.mkdir(parents=True)
    if manifest is not None:
        (tmp_path / "run" / "manifest.json").write_text(json.dumps(manifest))
    config = TrainConfig(data=str(clean), out="unused", **given)
    return settle_data_contract(config, read_training_keys(clean), "model-tokenizer", "MANIFEST")


@pytest.mark.parametrize(
    "manifest, given, expected, origin",
    [
        ({"tokenizer": "smollm2", "template": "alpaca", "max_seq_len": 256}, {}, ("smollm2", 256), "MANIFEST"),
        ({"tokenizer": "smollm2", "template": "alpaca", "max_seq_len": 256}, {"max_seq_len": 64}, ("smollm2", 64), "command line"),
        (None, {}, ("model-tokenizer", DEFAULT_MAX_SEQ_LEN), "default"),
        ({"counts": {}}, {}, ("model-tokenizer", DEFAULT_MAX_SEQ_LEN), "default"),  # a manifest from before the keys
    ],
    ids=["from the manifest", "command line wins", "no manifest", "old manifest"],
)
def test_the_data_contract_comes_from_the_command_line_then_the_manifest_then_defaults(
    tmp_path, manifest, given, expected, origin
):
    config, said = settle(tmp_path, manifest, **given)
    assert (config.tokenizer, config.max_seq_len, config.template) == (*expected, "alpaca")
    assert f"max_seq_len {config.max_seq_len} ({origin})" in said


def test_train_imports_nothing_from_pipeline():
    """The dependency runs pipeline -> train only: curation may use training's tokenizer and
    template, training never reaches back."""
    for path in TRAIN.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in getattr(node, "names", [])] if isinstance(node, ast.Import) else []
            assert not any(name.split(".")[0] == "pipeline" for name in names), path
