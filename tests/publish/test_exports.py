"""Exports: each format is listed in the manifest and loads back the way trainers load it."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from pipeline.cli import main
from pipeline.config import Config
from train.template import PROMPT_WITH_INPUT, user_message
from pipeline.publish.exports import EXPORT_FORMATS, messages_record, sharegpt_record
from pipeline.engines.local import run
from pipeline.publish.write import sha256_of
from tests.conftest import write_jsonl

CHAT = [
    {"messages": [{"role": "system", "content": "Answer in one short sentence."},
                  {"role": "user", "content": "Name the largest planet."},
                  {"role": "assistant", "content": "Jupiter is the largest planet."}]},
    {"messages": [{"role": "user", "content": "Name the closest star to Earth."},
                  {"role": "assistant", "content": "The Sun is the closest star to Earth."}]},
]
ALPACA = [
    {"instruction": "Translate the word into French.", "input": "cat", "output": "The French word is chat."},
    {"instruction": "Give a synonym for happy.", "input": "", "output": "Joyful is a synonym for happy."},
]
FILES = {
    "alpaca-json": ["clean.json"],
    "alpaca-jsonl": ["clean.jsonl"],
    "messages-jsonl": ["clean.messages.jsonl"],
    "sharegpt-jsonl": ["clean.sharegpt.jsonl"],
    "hf-dataset": ["clean_dataset/data-00000-of-00001.arrow", "clean_dataset/dataset_info.json",
                   "clean_dataset/state.json"],
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """One run of a chat file and an Alpaca file with every export."""
    folder = tmp_path_factory.mktemp("exports")
    write_jsonl(folder / "a-chat.jsonl", CHAT)
    write_jsonl(folder / "b-alpaca.jsonl", ALPACA)
    exports = [arg for fmt in EXPORT_FORMATS for arg in ("--export", fmt)]
    assert main(["run", str(folder / "a-chat.jsonl"), str(folder / "b-alpaca.jsonl"), "--out", str(folder / "out"),
                 *exports]) == 0
    return folder / "out"


def clean_rows(out: Path) -> list[dict]:
    return pl.read_parquet(out / "clean").sort("_source", "_row").to_dicts()


@pytest.mark.parametrize(
    "row, expected",
    [
        ({"instruction": "Say hi.", "input": "", "output": "Hi."},
         [{"role": "user", "content": "Say hi."}, {"role": "assistant", "content": "Hi."}]),
        ({"instruction": "Translate.", "input": "cat", "output": "chat", "system": None},
         [{"role": "user", "content": "Translate.\n\ncat"}, {"role": "assistant", "content": "chat"}]),
        ({"instruction": "Say hi.", "input": "", "output": "Hi.", "system": "Be brief."},
         [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hi."},
          {"role": "assistant", "content": "Hi."}]),
        ({"instruction": "Say hi.", "input": "", "output": "Hi.", "system": ""},
         [{"role": "user", "content": "Say hi."}, {"role": "assistant", "content": "Hi."}]),
    ],
)
def test_messages_record(row, expected):
    assert messages_record(row) == {"messages": expected}
    speakers = {"system": "system", "user": "human", "assistant": "gpt"}
    assert sharegpt_record(row) == {"conversations": [{"from": speakers[t["role"]], "value": t["content"]} for t in expected]}


def test_user_message_joins_the_input_as_the_prompt_template_does():
    # The template puts the input after the instruction, separated by a blank line (and its header).
    assert "{instruction}\n\n### Input:\n{input}" in PROMPT_WITH_INPUT
    assert user_message("Translate.", "cat") == "Translate.\n\ncat"
    assert user_message("Say hi.", "") == "Say hi."


def test_every_export_is_in_the_manifest_with_its_sha256(exported):
    manifest = json.loads((exported / "manifest.json").read_text())
    assert manifest["exports"] == FILES
    listed = {entry["path"]: entry["sha256"] for entry in manifest["files"]}
    for paths in FILES.values():
        for path in paths:
            assert listed[path] == sha256_of(exported / path)


def test_alpaca_exports_hold_the_clean_records(exported):
    expected = [{k: row[k] for k in ("instruction", "input", "output")} for row in clean_rows(exported)]
    assert sorted(json.loads((exported / "clean.json").read_text()), key=str) == sorted(expected, key=str)
    lines = (exported / "clean.jsonl").read_text().splitlines()
    assert sorted(map(json.loads, lines), key=str) == sorted(expected, key=str)


def test_hf_dataset_loads_back_with_load_from_disk(exported):
    import datasets

    loaded = datasets.load_from_disk(str(exported / "clean_dataset"))
    assert loaded.column_names == ["instruction", "input", "output", "system"]
    rows = {row["instruction"]: row for row in loaded}
    assert len(rows) == len(CHAT) + len(ALPACA)
    assert rows["Name the largest planet."]["system"] == "Answer in one short sentence."
    assert rows["Translate the word into French."] == {**ALPACA[0], "system": None}


def test_sharegpt_export_reads_back_as_the_same_records(exported, tmp_path):
    again = run([str(exported / "clean.sharegpt.jsonl")], tmp_path / "again", Config(), quiet=True)
    assert again["shapes"][0]["shape"] == "sharegpt" and again["counts"]["quarantined"] == 0
    before = {(r["instruction"] if not r["input"] else user_message(r["instruction"], r["input"]), r["output"], r["system"])
              for r in clean_rows(exported)}
    after = {(r["instruction"], r["output"], r["system"]) for r in clean_rows(tmp_path / "again")}
    assert after == before


def test_exports_are_byte_identical_across_runs(exported, tmp_path):
    folder = exported.parent
    exports = [arg for fmt in EXPORT_FORMATS for arg in ("--export", fmt)]
    assert main(["run", str(folder / "a-chat.jsonl"), str(folder / "b-alpaca.jsonl"), "--out", str(tmp_path / "out"),
                 *exports]) == 0
    for paths in FILES.values():
        for path in paths:
            assert sha256_of(tmp_path / "out" / path) == sha256_of(exported / path), path


def test_messages_export_renders_through_the_tokenizers_chat_template(exported):
    """What TRL and axolotl do with a messages file: apply the model's chat template."""
    from transformers import AutoTokenizer

    from train.tokenizer import default_gguf

    gguf = default_gguf()  # the shipped SmolLM2 GGUF, with its chat template, read offline
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    records = [json.loads(line) for line in (exported / "clean.messages.jsonl").read_text().splitlines()]
    assert len(records) == len(clean_rows(exported))
    for record in records:
        text = tokenizer.apply_chat_template(record["messages"], tokenize=False)
        for turn in record["messages"]:
            assert f"<|im_start|>{turn['role']}\n{turn['content']}<|im_end|>" in text
        ids = tokenizer.apply_chat_template(record["messages"], tokenize=True)
        ids = ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids
        assert tokenizer.decode(ids) == text
    with_system = next(r for r in records if r["messages"][0]["role"] == "system")
    assert with_system["messages"][0]["content"] == "Answer in one short sentence."
    with_input = next(r for r in records if r["messages"][0]["content"].startswith("Translate"))
    assert with_input["messages"][0]["content"] == "Translate the word into French.\n\ncat"


def test_export_needs_a_known_format(tmp_path, capsys):
    path = write_jsonl(tmp_path / "in.jsonl", ALPACA)
    with pytest.raises(SystemExit) as caught:
        main(["run", str(path), "--out", str(tmp_path / "out"), "--export", "parquet"])
    assert caught.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_train_reads_the_clean_shards_of_any_shape(exported):
    """``curate train`` reads instruction, input and output whatever shape they came from."""
    from train.data import load_records

    dataset = load_records(exported / "clean")
    assert dataset.column_names == ["instruction", "input", "output"]
    assert sorted(dataset["instruction"]) == sorted(
        ["Name the largest planet.", "Name the closest star to Earth.", *(r["instruction"] for r in ALPACA)])


def test_an_empty_clean_set_exports_loadable_empty_files(tmp_path):
    import datasets

    multi = {"messages": [{"role": "user", "content": "Hi."}, {"role": "assistant", "content": "Hello."},
                          {"role": "user", "content": "Bye."}, {"role": "assistant", "content": "Bye."}]}
    report = run([str(write_jsonl(tmp_path / "in.jsonl", [multi]))], tmp_path / "out", Config(), quiet=True,
                 export=list(EXPORT_FORMATS))
    assert report["counts"]["clean"] == 0 and report["counts"]["quarantined"] == 1
    assert len(datasets.load_from_disk(str(tmp_path / "out" / "clean_dataset"))) == 0
    assert (tmp_path / "out" / "clean.messages.jsonl").read_text() == ""
    assert json.loads((tmp_path / "out" / "clean.json").read_text()) == []
