"""Curation and training agree by construction, proven row by row on the shipped sample.

Both sides run their real code: curation's load, validate and judge stages (tokens and
rules included) on data/sample, and training's ``encode_record`` on the very text those
stages leave (the text the clean shards hold). For every row:

- ``_tokens_total`` equals the length of the training sequence, special tokens included;
- ``_tokens_prompt`` equals the length of the prompt training masks;
- ``too_long`` fired exactly where training cuts the response or leaves the row out.

Cases: the shipped SmolLM2 tokenizer (adds no BOS) at the default and at a short
max_seq_len, and a byte-level BPE that adds a BOS, which is the tokenizer the old
count (without special tokens) got wrong.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from pipeline.cli import main
from pipeline.config import Config
from pipeline.engines.local import StageTimer, judge, read_sources
from pipeline.flow import Context
from pipeline.stages.load import expand_inputs
from train.data import encode_record
from train.template import prompt_ids, render_prompt
from train.tokenizer import load_tokenizer

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
UNLIMITED = 10**9


@pytest.fixture(scope="module")
def bos_tokenizer(tmp_path_factory) -> str:
    """A byte-level BPE trained on the sample, whose post-processor puts <bos> first."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    texts = [line for path in sorted(SAMPLE.iterdir()) for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600, special_tokens=["<unk>", "<bos>", "<eos>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    bpe.train_from_iterator(texts + [render_prompt("x", "y")], trainer)
    bpe.post_processor = processors.TemplateProcessing(single="<bos> $A", special_tokens=[("<bos>", bpe.token_to_id("<bos>"))])
    directory = tmp_path_factory.mktemp("bos-tokenizer")
    bpe.save(str(directory / "tokenizer.json"))
    (directory / "tokenizer_config.json").write_text(json.dumps({"eos_token": "<eos>", "bos_token": "<bos>"}))
    return str(directory)


def curated(config: Config) -> pl.DataFrame:
    """Every valid sample row after curation's stages, with token counts and reasons."""
    timer = StageTimer(quiet=True)
    frame, _, _ = read_sources(expand_inputs([str(SAMPLE)]), timer)
    return judge(frame, Context(config), timer)


@pytest.mark.parametrize(
    "tokenizer_name, max_seq_len, bos",
    [("smollm2", 1024, 0), ("smollm2", 128, 0), ("bos", 128, 1)],
    ids=["smollm2 at 1024", "smollm2 at 128", "BOS-adding BPE at 128"],
)
def test_curation_counts_the_sequence_training_builds_row_by_row(bos_tokenizer, tokenizer_name, max_seq_len, bos):
    name = bos_tokenizer if tokenizer_name == "bos" else tokenizer_name
    frame = curated(Config.model_validate({"tokens": {"tokenizer": name, "max_seq_len": max_seq_len}}))
    tokenizer = load_tokenizer(name)
    cut_rows = kept_rows = 0
    for row in frame.select("_row", "instruction", "input", "output", "_tokens_prompt", "_tokens_total", "_reasons").iter_rows(named=True):
        fields = (row["instruction"], row["input"] or "", row["output"])
        whole, _ = encode_record(tokenizer, *fields, max_seq_len=UNLIMITED)
        assert row["_tokens_total"] == len(whole.input_ids), row
        prompt = prompt_ids(tokenizer.backend, row["instruction"], row["input"] or "")
        assert row["_tokens_prompt"] == len(prompt), row
        assert prompt[:bos] == [tokenizer.backend.token_to_id("<bos>")] * bos  # the BOS is there, and counted
        example, truncated = encode_record(tokenizer, *fields, max_seq_len=max_seq_len)
        cut = example is None or truncated
        assert ("too_long" in row["_reasons"]) == cut, row
        cut_rows += cut
        kept_rows += not cut
    assert cut_rows > 0 and kept_rows > 0  # both outcomes happen, so the check can fail either way


def test_a_run_manifest_names_tokenizer_template_and_max_seq_len(tmp_path):
    config = tmp_path / "curate.toml"
    config.write_text('[tokens]\nmax_seq_len = 256\n')
    assert main(["run", str(SAMPLE), "--out", str(tmp_path / "run"), "--config", str(config)]) == 0
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert (manifest["tokenizer"], manifest["template"], manifest["max_seq_len"]) == ("smollm2", "alpaca", 256)


def test_a_refresh_version_manifest_names_them_too(tmp_path):
    """Refresh publishes versions whose clean shards `curate train` reads the same way."""
    from train.manifest import manifest_of, read_training_keys

    state = tmp_path / "state"
    assert main(["refresh", str(SAMPLE), "--state", str(state)]) == 0
    version = (state / "CURRENT").read_text().strip()
    clean = state / "versions" / version / "clean"
    assert manifest_of(clean).is_file()
    assert read_training_keys(clean) == {"tokenizer": "smollm2", "template": "alpaca", "max_seq_len": 1024}
