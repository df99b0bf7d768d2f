"""LoRA training on the CPU with a tiny Llama built from a config (no download, no GPU).

The tokenizer is a byte-level BPE trained here on the fixture's own text, so the model's
vocabulary is a few hundred tokens and a few dozen steps take seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import torch

from pipeline.cli import main
from train.batch import Collator, model_inputs
from train.config import TrainConfig
from train.data import IGNORE_INDEX, Example, encode_record, epoch_batches
from train.generate import generate, load_tuned, prompt_ids
from train.loop import LOG_FILE, CHECKPOINT_DIR, CURVE_FILE, train, warmup_cosine
from train.template import render_prompt

COLOURS = {"grass": "green", "snow": "white", "coal": "black", "the sky": "blue", "blood": "red", "a lemon": "yellow"}
INIT = 0.2  # large enough that the frozen random lm_head can express a confident prediction
WORDS = ["apple", "river", "stone", "cloud", "tiger", "piano", "garden", "rocket"]


def synthetic_records() -> list[dict]:
    """Alpaca-style records with a learnable pattern, with and without input."""
    records = []
    for thing, colour in COLOURS.items():
        records.append({"instruction": f"What colour is {thing}?", "input": "", "output": f"{thing.capitalize()} is {colour}."})
    for a in range(2, 8):
        for b in (3, 5):
            records.append({"instruction": f"Add {a} and {b}.", "input": "", "output": f"{a} plus {b} is {a + b}."})
    for word in WORDS:
        records.append({"instruction": "Write the word in capital letters.", "input": word, "output": word.upper()})
        records.append({"instruction": "Repeat the word twice.", "input": word, "output": f"{word} {word}"})
    return records


@pytest.fixture(scope="module")
def clean_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("curated") / "clean"
    directory.mkdir()
    frame = pl.DataFrame(synthetic_records()).with_columns(_source=pl.lit("synthetic"), _row=pl.int_range(pl.len()))
    frame.write_parquet(directory / "part-00000.parquet")
    return directory


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory) -> Path:
    """A 2-layer Llama and its BPE tokenizer saved as a local model directory."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    texts = [render_prompt(r["instruction"], r["input"]) + r["output"] for r in synthetic_records()]
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<unk>", "<pad>", "<eos>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    bpe.train_from_iterator(texts, trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, unk_token="<unk>", pad_token="<pad>", eos_token="<eos>")
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
        initializer_range=INIT,
    )
    torch.manual_seed(0)
    directory = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def tokenizer(tiny_base):
    from train.tokenizer import load_tokenizer

    return load_tokenizer(str(tiny_base))


def pack(examples):
    return Collator(packing=True, tokenizer=None)(examples)


def pad(examples, tokenizer):
    return Collator(packing=False, tokenizer=tokenizer)(examples)


def make_config(clean_dir, tiny_base, out, **overrides) -> TrainConfig:
    values = dict(
        data=str(clean_dir), out=str(out), base_model=str(tiny_base), max_steps=40, batch_size=4,
        lr=3e-3, max_seq_len=128, eval_fraction=0.1, eval_every=10, seed=0,
    )  # fmt: skip
    return TrainConfig(**{**values, **overrides})


@pytest.fixture(scope="module")
def trained(clean_dir, tiny_base, tmp_path_factory):
    """One uninterrupted 40-step run, shared by the checks that read its results."""
    out = tmp_path_factory.mktemp("adapter")
    config = make_config(clean_dir, tiny_base, out, save_every=20)
    return config, train(config, log=lambda line: None)


# --- data: the prompt is masked exactly -------------------------------------------


@pytest.mark.parametrize(
    "instruction, input",
    [("Add 2 and 3.", ""), ("Write the word in capital letters.", "apple")],
    ids=["no input", "with input"],
)
def test_labels_are_masked_exactly_on_the_prompt(tokenizer, instruction, input):
    output = "The answer."
    example, truncated = encode_record(tokenizer, instruction, input, output, max_seq_len=128)
    prompt = tokenizer.backend.encode(render_prompt(instruction, input)).ids
    response = tokenizer.backend.encode(output, add_special_tokens=False).ids + [tokenizer.eos_id]
    assert not truncated
    assert example.input_ids == prompt + response
    assert example.labels[: len(prompt)] == [IGNORE_INDEX] * len(prompt)
    assert example.labels[len(prompt) :] == response
    assert example.labels[-1] == tokenizer.eos_id


def test_training_on_the_prompt_keeps_prompt_labels_except_the_first(tokenizer):
    example, _ = encode_record(tokenizer, "Add 2 and 3.", "", "5", max_seq_len=128, mask_prompt=False)
    assert example.labels[0] == IGNORE_INDEX  # nothing precedes it, and packing must not predict it
    assert example.labels[1:] == example.input_ids[1:]


def test_long_samples_are_truncated_and_prompts_that_fill_the_budget_left_out(tokenizer):
    prompt_length = len(tokenizer.backend.encode(render_prompt("Add 2 and 3.", "")).ids)
    example, truncated = encode_record(tokenizer, "Add 2 and 3.", "", "five " * 50, max_seq_len=prompt_length + 3)
    assert truncated and len(example) == prompt_length + 3
    assert encode_record(tokenizer, "Add 2 and 3.", "", "5", max_seq_len=prompt_length) == (None, False)


# --- batching ----------------------------------------------------------------------


def test_packing_has_no_padding_and_restarts_positions():
    examples = [Example([5, 6, 7], [IGNORE_INDEX, 6, 7]), Example([8, 9], [IGNORE_INDEX, 9])]
    batch = pack(examples)
    assert batch.inputs["input_ids"].tolist() == [[5, 6, 7, 8, 9]]
    assert batch.inputs["position_ids"].tolist() == [[0, 1, 2, 0, 1]]
    assert batch.padding == 0 and batch.label_tokens == 3
    assert "attention_mask" not in batch.inputs  # a mask would switch off packed-sequence detection


def test_padding_to_the_longest_sample_counts_its_waste(tokenizer):
    batch = pad([Example([5, 6, 7], [IGNORE_INDEX, 6, 7]), Example([8], [IGNORE_INDEX])], tokenizer)
    assert batch.inputs["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch.inputs["input_ids"].tolist() == [[5, 6, 7], [8, tokenizer.pad_id, tokenizer.pad_id]]
    assert batch.inputs["labels"].tolist() == [[IGNORE_INDEX, 6, 7], [IGNORE_INDEX] * 3]
    assert (batch.tokens, batch.slots, batch.padding, batch.label_tokens) == (4, 6, 2, 2)


def test_packed_samples_do_not_attend_to_each_other(tiny_base, tokenizer):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_base, attn_implementation="sdpa").eval()
    records = synthetic_records()[:: len(synthetic_records()) // 3][:3]
    examples = [encode_record(tokenizer, r["instruction"], r["input"], r["output"], 128)[0] for r in records]
    with torch.no_grad():
        packed = model(**model_inputs(pack(examples))).logits[0]
        alone = [model(input_ids=torch.tensor([e.input_ids]), use_cache=False).logits[0] for e in examples]
        # The trap this guards against: with the KV cache on (the config default), transformers
        # skips packed-sequence detection and the second sample sees the first.
        leaky = model(**{**model_inputs(pack(examples)), "use_cache": True}).logits[0]
    offsets = [0]
    for example in examples:
        offsets.append(offsets[-1] + len(example))
    for index, logits in enumerate(alone):
        torch.testing.assert_close(packed[offsets[index] : offsets[index + 1]], logits, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(leaky[offsets[1] : offsets[2]], alone[1], atol=1e-3)


def test_epoch_order_is_a_pure_function_of_seed_and_epoch():
    lengths = [5, 1, 9, 3, 7, 2, 8, 4, 6, 10, 12, 11]
    for grouped in (False, True):
        first = epoch_batches(lengths, 3, seed=1, epoch=0, group_by_length=grouped)
        assert first == epoch_batches(lengths, 3, seed=1, epoch=0, group_by_length=grouped)
        assert sorted(i for batch in first for i in batch) == list(range(12))
        assert first != epoch_batches(lengths, 3, seed=1, epoch=1, group_by_length=grouped)
    grouped = epoch_batches(lengths, 3, seed=1, epoch=0, group_by_length=True)
    spread = sum(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in grouped)
    assert spread == 4 * 2  # sorted by length within the window: neighbours differ by 1


def test_the_loss_of_position_t_is_the_prediction_of_token_t_plus_1():
    from train.loop import summed_token_loss

    torch.manual_seed(0)
    logits, labels = torch.randn(2, 7, 11), torch.randint(0, 11, (2, 7))
    labels[0, :3] = IGNORE_INDEX
    by_hand = sum(
        torch.nn.functional.cross_entropy(logits[row, t], labels[row, t + 1])
        for row in range(2) for t in range(6) if labels[row, t + 1] != IGNORE_INDEX
    )  # fmt: skip
    torch.testing.assert_close(summed_token_loss(logits, labels), by_hand)


def test_learning_rate_warms_up_then_decays_by_a_cosine():
    factor = warmup_cosine(total_steps=10, warmup_steps=2, min_ratio=0.1)
    assert [factor(0), factor(1), factor(2)] == [0.5, 1.0, 1.0]
    assert factor(9) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + torch.cos(torch.tensor(torch.pi * 7 / 8)).item()))
    assert factor(10) == pytest.approx(0.1)


# --- training ----------------------------------------------------------------------


def test_loss_falls_over_a_few_dozen_steps(trained):
    config, result = trained
    first, last = result.loss_change()
    assert last < 0.7 * first, (first, last)
    evals = [(r["step"], r["eval_loss"]) for r in result.records if r["eval_loss"] is not None]
    assert [step for step, _ in evals] == [0, 10, 20, 30, 40]
    before, after = result.eval_change()
    assert after < before


def test_outputs_are_written(trained):
    config, result = trained
    out = Path(config.out)
    for name in ("adapter_model.safetensors", "adapter_config.json", "train_config.json", LOG_FILE, CURVE_FILE):
        assert (out / name).is_file(), name
    log = [json.loads(line) for line in (out / LOG_FILE).read_text().splitlines()]
    assert [r["step"] for r in log] == list(range(41))
    assert log[0]["loss"] is None and log[0]["eval_loss"] > 0  # step 0: the base model's eval loss
    assert {"step", "loss", "eval_loss", "lr", "tokens_per_s", "mfu"} <= set(log[1])
    assert log[1]["mfu"] is None  # CPU: no peak to compare with
    assert log[-1]["padding_share"] == 0.0  # packed


def test_save_load_generate_round_trip_gives_identical_logits(trained):
    config, result = trained
    ids = prompt_ids(result.tokenizer, "Add 4 and 5.")
    result.model.eval()
    with torch.no_grad():
        before = result.model(input_ids=ids, use_cache=False).logits
    model, tokenizer, runtime = load_tuned(config.out, device="cpu")
    with torch.no_grad():
        after = model(input_ids=prompt_ids(tokenizer, "Add 4 and 5."), use_cache=False).logits
    assert torch.equal(before, after)
    answer = generate(model, tokenizer, runtime, "Add 4 and 5.", max_new_tokens=12)
    assert answer == generate(result.model, result.tokenizer, result.runtime, "Add 4 and 5.", max_new_tokens=12)


def test_resume_continues_from_the_saved_step_and_matches_an_uninterrupted_run(trained, clean_dir, tiny_base, tmp_path):
    config, uninterrupted = trained
    resumed_config = make_config(clean_dir, tiny_base, tmp_path)

    def interrupt_after_step_13(line: str) -> None:
        if line.startswith("step 13/"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(resumed_config, log=interrupt_after_step_13)
    assert torch.load(tmp_path / CHECKPOINT_DIR / "state.pt", weights_only=True)["step"] == 13

    lines = []
    result = train(resumed_config.model_copy(update={"resume": True}), log=lines.append)
    assert "resuming from step 13" in lines
    assert [r["step"] for r in result.records] == list(range(41))
    assert [r["loss"] for r in result.records] == pytest.approx([r["loss"] for r in uninterrupted.records], abs=1e-6)
    trained_weights = {n: p for n, p in uninterrupted.model.named_parameters() if p.requires_grad}
    for name, parameter in result.model.named_parameters():
        if parameter.requires_grad:
            torch.testing.assert_close(parameter, trained_weights[name], rtol=0, atol=1e-6)


def test_cli_trains_and_generates(clean_dir, tiny_base, tmp_path, capsys):
    out = tmp_path / "adapter"
    argv = ["train", "--data", str(clean_dir), "--out", str(out), "--base-model", str(tiny_base)]
    assert main([*argv, "--max-steps", "3", "--no-packing", "--merge", "--lr", "1e-3"]) == 0
    assert "padded" in capsys.readouterr().out
    assert (out / "merged" / "config.json").is_file()
    assert main(["generate", "--adapter", str(out), "Add 2 and 3.", "--max-new-tokens", "4"]) == 0


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--max-steps", "0"], "--max-steps"),
        (["--lr", "-1"], "--lr"),
        (["--eval-fraction", "1.5"], "--eval-fraction"),
    ],
)
def test_bad_flag_values_exit_2_with_one_line(clean_dir, tmp_path, capsys, extra, message):
    assert main(["train", "--data", str(clean_dir), "--out", str(tmp_path / "a"), *extra]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_bad_data_exits_2_with_one_line(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    no_rows = tmp_path / "no_rows"
    no_rows.mkdir()
    pl.DataFrame({"instruction": [], "input": [], "output": []}, schema=dict.fromkeys(("instruction", "input", "output"), pl.String)).write_parquet(no_rows / "part-00000.parquet")
    for data, message in [(tmp_path / "missing", "not found"), (empty, "no Parquet shards"), (no_rows, "no records")]:
        assert main(["train", "--data", str(data), "--out", str(tmp_path / "a")]) == 2
        error = capsys.readouterr().err
        assert message in error and str(data) in error and error.count("\n") == 1
    assert main(["generate", "--adapter", str(tmp_path / "nowhere"), "Hi"]) == 2
    assert "adapter directory not found" in capsys.readouterr().err


def test_two_ddp_processes_equal_one_process_accumulating_two_micro_batches(clean_dir, tiny_base, tmp_path):
    """torchrun with 2 CPU processes (gloo) gives the same log as grad_accum 2 in one process."""
    import subprocess
    import sys

    common = ["--data", str(clean_dir), "--base-model", str(tiny_base), "--max-steps", "6", "--batch-size", "2",
              "--lr", "3e-3", "--max-seq-len", "128", "--lora-dropout", "0"]  # fmt: skip
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    done = subprocess.run(
        [*launcher, "-m", "pipeline.cli", "train", "--out", str(tmp_path / "ddp"), *common],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "2 processes (DDP)" in done.stdout  # accelerate did set up DDP from torchrun's environment
    assert main(["train", "--out", str(tmp_path / "single"), *common, "--grad-accum", "2"]) == 0
    ddp, single = ([json.loads(line) for line in (tmp_path / name / LOG_FILE).read_text().splitlines()] for name in ("ddp", "single"))
    assert [r["loss"] for r in ddp] == pytest.approx([r["loss"] for r in single], abs=1e-5)
    assert [r["eval_loss"] for r in ddp] == pytest.approx([r["eval_loss"] for r in single], abs=1e-5)


# --- the data contract: what curation used, training uses -------------------------


@pytest.fixture(scope="module")
def curated_at_256(tiny_base, tmp_path_factory) -> Path:
    """The synthetic records curated by `curate run` with the tiny tokenizer and max_seq_len 256."""
    directory = tmp_path_factory.mktemp("curated-256")
    records = directory / "records.jsonl"
    records.write_text("".join(json.dumps(record) + "\n" for record in synthetic_records()))
    config = directory / "curate.toml"
    config.write_text(f'[tokens]\ntokenizer = "{tiny_base}"\nmax_seq_len = 256\n')
    assert main(["run", str(records), "--out", str(directory / "run"), "--config", str(config)]) == 0
    return directory / "run"


def test_train_takes_tokenizer_template_and_max_seq_len_from_the_curated_run(curated_at_256, tiny_base, tmp_path, capsys):
    out = tmp_path / "adapter"
    argv = ["train", "--data", str(curated_at_256 / "clean"), "--out", str(out), "--base-model", str(tiny_base)]
    assert main([*argv, "--max-steps", "1", "--eval-fraction", "0"]) == 0
    said = capsys.readouterr().out
    manifest = curated_at_256 / "manifest.json"
    assert f"max_seq_len 256 ({manifest})" in said and f"template alpaca ({manifest})" in said
    saved = json.loads((out / "train_config.json").read_text())
    assert (saved["max_seq_len"], saved["template"], saved["tokenizer"]) == (256, "alpaca", str(tiny_base.resolve()))


def test_the_command_line_overrides_the_curated_run(curated_at_256, tiny_base, tmp_path, capsys):
    out = tmp_path / "adapter"
    argv = ["train", "--data", str(curated_at_256 / "clean"), "--out", str(out), "--base-model", str(tiny_base)]
    assert main([*argv, "--max-steps", "1", "--eval-fraction", "0", "--max-seq-len", "64"]) == 0
    assert "max_seq_len 64 (command line)" in capsys.readouterr().out
    assert json.loads((out / "train_config.json").read_text())["max_seq_len"] == 64


def test_shards_without_a_manifest_use_the_defaults_and_say_so(trained):
    config, _ = trained  # clean_dir holds bare shards
    saved = json.loads((Path(config.out) / "train_config.json").read_text())
    assert saved["template"] == "alpaca" and saved["max_seq_len"] == 128  # given on the command line


def test_a_tokenizer_larger_than_the_model_is_an_input_error(curated_at_256, tiny_base, tmp_path, capsys):
    """Data curated with SmolLM2's 49,152 tokens cannot train a model with a few hundred embeddings."""
    out = tmp_path / "adapter"
    argv = ["train", "--data", str(curated_at_256 / "clean"), "--out", str(out), "--base-model", str(tiny_base)]
    assert main([*argv, "--max-steps", "1", "--tokenizer", "smollm2"]) == 2
    error = capsys.readouterr().err
    assert "49152 tokens" in error and error.count("\n") == 1


@pytest.mark.parametrize(
    "manifest, message",
    [({"template": "chatml"}, "unknown prompt template"), ({"max_seq_len": 4}, "max_seq_len")],
    ids=["unknown template", "max_seq_len too small"],
)
def test_a_bad_contract_in_the_manifest_is_an_input_error(clean_dir, tiny_base, tmp_path, capsys, manifest, message):
    run = tmp_path / "run"
    (run / "clean").mkdir(parents=True)
    for shard in clean_dir.glob("*.parquet"):
        (run / "clean" / shard.name).write_bytes(shard.read_bytes())
    (run / "manifest.json").write_text(json.dumps(manifest))
    argv = ["train", "--data", str(run / "clean"), "--out", str(tmp_path / "a"), "--base-model", str(tiny_base)]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert message in error and "manifest.json" in error and error.count("\n") == 1


# --- a portable adapter -------------------------------------------------------------


def test_adapter_config_holds_no_local_path(trained, tiny_base):
    config, _ = trained
    text = (Path(config.out) / "adapter_config.json").read_text()
    assert str(tiny_base) not in text and '"/' not in text
    assert json.loads(text)["base_model_name_or_path"] == tiny_base.name  # a local model: its own name, no path


@pytest.mark.slow
def test_an_adapter_on_the_shipped_gguf_names_the_hub_model_and_loads_offline(tmp_path, monkeypatch, capsys):
    """The default base model: adapter_config.json names HuggingFaceTB/SmolLM2-135M-Instruct,
    no path of this machine, and `curate generate` loads it with the hub switched off."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    data = tmp_path / "clean"
    data.mkdir()
    pl.DataFrame(synthetic_records()[:4]).write_parquet(data / "part-00000.parquet")
    out = tmp_path / "adapter"
    common = ["--max-steps", "1", "--batch-size", "2", "--eval-fraction", "0", "--lora-r", "2", "--max-seq-len", "48"]
    assert main(["train", "--data", str(data), "--out", str(out), *common]) == 0
    text = (out / "adapter_config.json").read_text()
    assert json.loads(text)["base_model_name_or_path"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert str(tmp_path) not in text and "site-packages" not in text and '"/' not in text
    capsys.readouterr()
    assert main(["generate", "--adapter", str(out), "Add 2 and 3.", "--max-new-tokens", "3"]) == 0
    assert capsys.readouterr().out.strip()
