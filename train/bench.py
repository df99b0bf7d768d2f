"""Real (non-padding) tokens/s of `curate train`'s loop against TRL's ``SFTTrainer``.

Both train the same model (a small Llama built from a config, with the vocabulary of the
tokenizer the data was curated with, saved once and loaded by both), with the same LoRA
settings, on the same encoded samples (``train.data``: the Alpaca template, the prompt
masked), in micro-batches of the same size flattened padding-free into one row
(``DataCollatorWithFlattening`` here, TRL's ``padding_free=True``), on the same device
and precision. Steps are timed from the end of one to the end of the next, so data
collation counts on both sides; the first step of each run is a warm-up and is not
timed, and a first untimed round of each keeps one-time costs of the process (imports,
allocator, thread pools) out of the figures. The two then run alternately, ``rounds``
times each, so that a machine shared with other work slows both alike; each round's
figure is printed, so their spread shows how noisy the machine was.

Run with ``python -m train.bench DIR/clean`` (a curated run's clean shards), or as the
train section of ``make bench``, which curates the sample first. TRL is in the ``bench``
extra only: ``pip install '.[bench]'``.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

LORA = {"lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.0}


def tiny_llama(vocab_size: int, directory: Path, tokenizer, seed: int = 0) -> Path:
    """A 4-layer Llama (hidden 256) with random weights, saved as a model directory."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=vocab_size, hidden_size=256, intermediate_size=688, num_hidden_layers=4, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=4096, tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_id, pad_token_id=tokenizer.pad_id, bos_token_id=None,
    )  # fmt: skip
    LlamaForCausalLM(config).save_pretrained(directory)
    tokenizer.for_transformers().save_pretrained(directory)
    return directory


def curate_train(data_dir: Path, base: Path, out: Path, settings: dict) -> tuple[float, float]:
    """(real tokens, seconds) of the timed steps of one `curate train` run."""
    from train.config import make_config
    from train.loop import train

    config = make_config(
        data=str(data_dir), out=str(out), base_model=str(base), max_steps=settings["steps"], batch_size=settings["batch_size"],
        max_seq_len=settings["max_seq_len"], eval_fraction=0.0, warmup_ratio=0.0, lr=1e-4, log_every=1, seed=settings["seed"],
        device=settings["device"], **LORA,
    )  # fmt: skip
    records = train(config, log=lambda line: None).records
    timed = [record for record in records if record["step"] > 1]  # step 0 is the eval baseline, step 1 the warm-up
    return sum(r["tokens"] for r in timed), sum(r["tokens"] / r["tokens_per_s"] for r in timed)


def encoded_dataset(data_dir: Path, tokenizer, max_seq_len: int):
    """The samples our loop trains on, as TRL's pre-tokenized format: input_ids + completion_mask."""
    from datasets import Dataset

    from train.data import IGNORE_INDEX, encode_dataset, load_records

    examples, _, _ = encode_dataset(load_records(data_dir), tokenizer, max_seq_len, mask_prompt=True)
    return Dataset.from_dict(
        {
            "input_ids": [e.input_ids for e in examples],
            "completion_mask": [[int(label != IGNORE_INDEX) for label in e.labels] for e in examples],
        }
    )


def trl_sft(dataset, base: Path, out: Path, tokenizer, settings: dict) -> tuple[float, float]:
    """(real tokens, seconds) of the timed steps of one TRL SFTTrainer run."""
    import torch
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    from train.model import TARGET_MODULES, pick_runtime

    runtime = pick_runtime(settings["device"])
    cuda = runtime.device.type == "cuda"
    model = AutoModelForCausalLM.from_pretrained(base, dtype=runtime.weights_dtype, attn_implementation="sdpa")
    args = SFTConfig(
        output_dir=str(out), max_steps=settings["steps"], per_device_train_batch_size=settings["batch_size"],
        max_length=None, padding_free=True,  # None: the samples are already cut to max_seq_len, as ours
        completion_only_loss=True, packing=False,
        learning_rate=1e-4, lr_scheduler_type="cosine", warmup_steps=0, gradient_checkpointing=False,
        bf16=runtime.mixed_precision == "bf16", use_cpu=not cuda, logging_steps=10**6, save_strategy="no",
        report_to="none", seed=settings["seed"], dataloader_num_workers=0, disable_tqdm=True,
    )  # fmt: skip
    peft = LoraConfig(
        r=LORA["lora_r"], lora_alpha=LORA["lora_alpha"], lora_dropout=LORA["lora_dropout"],
        target_modules=TARGET_MODULES["llama"], bias="none", task_type="CAUSAL_LM",
    )  # fmt: skip
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=dataset, processing_class=tokenizer.for_transformers(), peft_config=peft
    )

    counts: list[int] = []
    collate = trainer.data_collator

    def counting(features, *a, **k):
        counts.append(sum(len(feature["input_ids"]) for feature in features))  # real tokens, in step order
        return collate(features, *a, **k)

    trainer.data_collator = counting
    ends: list[float] = []

    class StepClock(TrainerCallback):
        def on_step_end(self, *a, **k):
            if cuda:
                torch.cuda.synchronize()
            ends.append(time.perf_counter())

    trainer.add_callback(StepClock())
    trainer.train()
    # ends[i] closes step i+1; steps 2.. are timed from the end of the one before.
    return sum(counts[1 : len(ends)]), ends[-1] - ends[0]


def bench_training(data_dir: str | Path, steps: int = 6, batch_size: int = 4, max_seq_len: int = 512, rounds: int = 2) -> dict:
    """Print and return tokens/s of our loop and of TRL's SFTTrainer, and their ratio."""
    try:
        import trl  # noqa: F401
    except ImportError:
        print("  skipped: TRL is not installed (pip install '.[bench]')")
        return {}
    import torch
    from transformers.utils import logging as transformers_logging

    from train.config import settle_data_contract
    from train.manifest import manifest_of, read_training_keys
    from train.tokenizer import load_tokenizer

    transformers_logging.set_verbosity_error()
    data_dir = Path(data_dir)
    contract, _ = settle_data_contract(
        _bare_config(data_dir), read_training_keys(data_dir), "smollm2", str(manifest_of(data_dir))
    )
    tokenizer = load_tokenizer(contract.tokenizer)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    settings = {"steps": steps, "batch_size": batch_size, "max_seq_len": max_seq_len, "seed": 0, "device": device}
    with tempfile.TemporaryDirectory(prefix="curate-train-bench-") as scratch:
        scratch = Path(scratch)
        base = tiny_llama(len(tokenizer), scratch / "base", tokenizer)
        dataset = encoded_dataset(data_dir, tokenizer, max_seq_len)
        totals = {"curate train": [0.0, 0.0], "TRL SFTTrainer": [0.0, 0.0]}
        for round_ in range(rounds + 1):  # round 0 warms up and is not counted
            for name, run in (("curate train", lambda: curate_train(data_dir, base, scratch / f"ours{round_}", settings)),
                              ("TRL SFTTrainer", lambda: trl_sft(dataset, base, scratch / f"trl{round_}", tokenizer, settings))):
                tokens, seconds = run()
                label = f"round {round_}" if round_ else "warm-up"
                print(f"  {label}: {name:<16} {tokens / seconds:>10,.0f} real tokens/s", flush=True)
                if not round_:
                    continue
                totals[name][0] += tokens
                totals[name][1] += seconds
    results = {name: {"tokens": t, "seconds": s, "tokens_per_s": t / s} for name, (t, s) in totals.items()}
    ratio = results["curate train"]["tokens_per_s"] / results["TRL SFTTrainer"]["tokens_per_s"]
    print(
        f"train: {rounds} x {steps - 1} timed steps of {batch_size} samples each way, padding-free, max_seq_len {max_seq_len}, "
        f"{device}, Llama 4 layers hidden 256 vocab {len(tokenizer)}, LoRA r {LORA['lora_r']}, data {data_dir}"
    )
    for name, figures in results.items():
        print(f"  {name:<16} {figures['tokens_per_s']:>10,.0f} real tokens/s   ({figures['tokens']:,.0f} tokens in {figures['seconds']:.1f} s)")
    print(f"  ours / TRL       {ratio:>10.2f}x")
    return {**results, "ratio": ratio}


def _bare_config(data_dir: Path):
    from train.config import TrainConfig

    return TrainConfig(data=str(data_dir), out="unused")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python -m train.bench DIR/clean", file=sys.stderr)
        sys.exit(2)
    print(json.dumps(bench_training(sys.argv[1]), indent=2))
