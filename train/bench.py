"""Tokens/s of LoRA training steps: packing against padding to the maximum length.

Both run in the same process on the same tiny Llama (built from a config, vocabulary of
the default tokenizer), on the same micro-batches of the curated sample, so the ratio
measures batching alone. Run with ``python -m train.bench`` (or the train section of
``make bench``).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CURATED_CLEAN = REPO / "data" / "curated" / "clean"
SAMPLE = REPO / "data" / "sample"


def curated_sample() -> tuple[Path, tempfile.TemporaryDirectory | None]:
    """data/curated/clean when `make curate` has run, else the sample curated into a temp dir."""
    if CURATED_CLEAN.is_dir() and any(CURATED_CLEAN.glob("*.parquet")):
        return CURATED_CLEAN, None
    from pipeline.config import load_config
    from pipeline.engines.local import run

    scratch = tempfile.TemporaryDirectory(prefix="curate-bench-")
    run([str(SAMPLE)], str(Path(scratch.name) / "curated"), load_config(None))
    return Path(scratch.name) / "curated" / "clean", scratch


def tiny_lora_model(vocab_size: int, runtime, seed: int = 0):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from train.model import add_lora

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
    )
    config._attn_implementation = "sdpa"
    model = LlamaForCausalLM(config).to(runtime.device, runtime.weights_dtype)
    return add_lora(model, r=16, alpha=32, dropout=0.0, target_modules=None, gradient_checkpointing=False).train()


class Trainer:
    """A tiny LoRA model and its optimizer, timing its own training steps."""

    def __init__(self, vocab_size: int, runtime):
        import torch

        self.runtime = runtime
        self.model = tiny_lora_model(vocab_size, runtime)
        self.optimizer = torch.optim.AdamW([p for p in self.model.parameters() if p.requires_grad], lr=1e-4)
        self.seconds, self.tokens, self.slots = 0.0, 0, 0

    def step(self, batch, timed: bool = True) -> None:
        import torch

        from train.loop import forward_loss

        cuda = self.runtime.device.type == "cuda"
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        loss = forward_loss(self.model, batch, self.runtime) / max(1, batch.label_tokens)
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        if cuda:
            torch.cuda.synchronize()
        if timed:
            self.seconds += time.perf_counter() - start
            self.tokens += batch.tokens
            self.slots += batch.slots


def bench_packing(
    data_dir: str | Path | None = None, max_seq_len: int = 512, batch_size: int = 8, max_batches: int = 9
) -> dict:
    """Print and return tokens/s of packed vs padded-to-max-length training steps, and the ratio."""
    from train.data import build_splits, epoch_batches, load_records
    from train.model import load_tokenizer, pick_runtime, resolve_base_model
    from train.packing import pack, pad

    scratch = None
    if data_dir is None:
        data_dir, scratch = curated_sample()
    try:
        runtime = pick_runtime("auto")
        tokenizer = load_tokenizer(resolve_base_model(None))
        splits = build_splits(load_records(data_dir), tokenizer, max_seq_len, True, 0.0, seed=0)
    finally:
        if scratch is not None:
            scratch.cleanup()
    examples = splits.train
    order = epoch_batches([len(e) for e in examples], batch_size, seed=0, epoch=0, group_by_length=False)[:max_batches]
    order = [indices for indices in order if len(indices) == batch_size]
    packed = [pack([examples[i] for i in indices]) for indices in order]
    padded = [pad([examples[i] for i in indices], tokenizer.pad_token_id, pad_to=max_seq_len) for indices in order]
    grouped = [
        pad([examples[i] for i in indices], tokenizer.pad_token_id)
        for indices in epoch_batches([len(e) for e in examples], batch_size, 0, 0, group_by_length=True)
    ]

    # The two ways alternate step by step, so that a machine shared with other work slows
    # both alike; the first step of each is a warm-up and is not timed.
    trainers = {"packed": Trainer(len(tokenizer), runtime), "padded to max length": Trainer(len(tokenizer), runtime)}
    for index, (packed_batch, padded_batch) in enumerate(zip(packed, padded)):
        trainers["packed"].step(packed_batch, timed=index > 0)
        trainers["padded to max length"].step(padded_batch, timed=index > 0)
    results = {
        name: {"tokens_per_s": t.tokens / t.seconds, "padding_share": 1 - t.tokens / t.slots, "seconds": t.seconds}
        for name, t in trainers.items()
    }
    ratio = results["packed"]["tokens_per_s"] / results["padded to max length"]["tokens_per_s"]
    grouped_share = 1 - sum(b.tokens for b in grouped) / sum(b.slots for b in grouped)

    print(
        f"train: {len(order) - 1} timed steps of {batch_size} samples, max_seq_len {max_seq_len}, "
        f"{runtime.device.type}, tiny Llama (2 layers, hidden 128, vocab {len(tokenizer)}) with LoRA, data {data_dir}"
    )
    for name, figures in results.items():
        print(
            f"  {name:<22} {figures['tokens_per_s']:>10,.0f} tokens/s   padding {100 * figures['padding_share']:5.1f}%"
            f"   ({figures['seconds']:.1f} s)"
        )
    print(f"  packing speed-up       {ratio:>10.2f}x   (length-grouped dynamic padding would pad {100 * grouped_share:.1f}%)")
    return {**results, "ratio": ratio, "grouped_padding_share": grouped_share}


if __name__ == "__main__":
    bench_packing()
