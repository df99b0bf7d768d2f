"""The training loop: a plain torch loop, small enough to read in one sitting.

AdamW with linear warmup and cosine decay, gradient accumulation with the loss
normalised over the whole step, evaluation on the held-out split, a checkpoint that
``--resume`` continues from the exact micro-batch (optimizer, scheduler and RNG state
included), ``train_log.jsonl`` and a loss curve.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from pipeline.errors import InputError
from train.config import TrainConfig
from train.data import IGNORE_INDEX, DataSplits, Example, build_splits, load_records, micro_batches, micro_batches_per_epoch
from train.flops import LoraFlops, attention_context, peak_flops
from train.model import Runtime, add_lora, load_base_model, load_tokenizer, pick_runtime, resolve_base_model
from train.packing import Batch, collate, model_inputs

LOG_FILE = "train_log.jsonl"
CURVE_FILE = "loss_curve.png"
CHECKPOINT_DIR = "checkpoint"
MERGED_DIR = "merged"

# Settings that change the trajectory of a run; --resume refuses when they differ.
# Step counts may change (extending a run), which re-plans the learning-rate schedule.
RESUME_MUST_MATCH = (
    "data", "base_model", "max_seq_len", "batch_size", "grad_accum", "lr", "min_lr_ratio", "warmup_ratio",
    "weight_decay", "max_grad_norm", "lora_r", "lora_alpha", "lora_dropout", "target_modules", "mask_prompt",
    "packing", "eval_fraction", "seed",
)  # fmt: skip


@dataclass
class TrainResult:
    model: object
    tokenizer: object
    runtime: Runtime
    records: list[dict] = field(default_factory=list)
    steps: int = 0
    padding_share: float = 0.0

    def loss_change(self) -> tuple[float, float]:
        """Mean training loss of the first and of the last fifth of the steps (at least one)."""
        losses = [record["loss"] for record in self.records if record.get("loss") is not None]
        window = max(1, min(10, len(losses) // 5))
        return sum(losses[:window]) / window, sum(losses[-window:]) / window


def plan_steps(config: TrainConfig, train_samples: int) -> int:
    if config.max_steps is not None:
        return config.max_steps
    per_epoch = micro_batches_per_epoch(train_samples, config.batch_size) / config.grad_accum
    return max(1, math.ceil(per_epoch * config.epochs))


def warmup_cosine(total_steps: int, warmup_steps: int, min_ratio: float) -> Callable[[int], float]:
    """Learning-rate factor for step s: linear warmup to 1, then cosine down to min_ratio."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return factor


def summed_token_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy summed over the labelled positions; the caller divides by the step's count."""
    shifted_logits = logits[:, :-1].float().reshape(-1, logits.shape[-1])
    shifted_labels = labels[:, 1:].reshape(-1)
    return torch.nn.functional.cross_entropy(shifted_logits, shifted_labels, ignore_index=IGNORE_INDEX, reduction="sum")


def forward_loss(model, batch: Batch, runtime: Runtime) -> torch.Tensor:
    batch = batch.to(runtime.device)
    with runtime.autocast():
        logits = model(**model_inputs(batch)).logits
    return summed_token_loss(logits, batch.inputs["labels"])


@torch.no_grad()
def evaluate(model, examples: list[Example], config: TrainConfig, runtime: Runtime, pad_token_id: int) -> float | None:
    """Mean loss per response token over the eval split, or None when there is none."""
    if not examples:
        return None
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(examples), config.batch_size):
        batch = collate(examples[start : start + config.batch_size], config.packing, pad_token_id, runtime.pin_memory)
        total += float(forward_loss(model, batch, runtime))
        count += batch.label_tokens
    model.train()
    return total / max(1, count)


# --- checkpoint -------------------------------------------------------------------


def rng_state(runtime: Runtime) -> dict:
    state = {"cpu": torch.get_rng_state()}
    if runtime.device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(runtime.device)
    return state


def restore_rng(state: dict, runtime: Runtime) -> None:
    torch.set_rng_state(state["cpu"])
    if "cuda" in state and runtime.device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda"], runtime.device)


def save_checkpoint(out: Path, model, optimizer, scheduler, step: int, rng: dict) -> None:
    """Write OUT/checkpoint atomically: the LoRA weights, optimizer, scheduler, RNG, step."""
    from safetensors.torch import save_file

    target, scratch = out / CHECKPOINT_DIR, out / f"{CHECKPOINT_DIR}.tmp"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    trainable = {name: p.detach().cpu().contiguous() for name, p in model.named_parameters() if p.requires_grad}
    save_file(trainable, scratch / "trainable.safetensors")
    state = {"step": step, "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "rng": rng}
    torch.save(state, scratch / "state.pt")
    shutil.rmtree(target, ignore_errors=True)
    scratch.rename(target)


def load_checkpoint(out: Path, model, optimizer, scheduler, runtime: Runtime) -> tuple[int, dict]:
    from safetensors.torch import load_file

    directory = out / CHECKPOINT_DIR
    if not (directory / "state.pt").is_file():
        raise InputError(f"--resume: no checkpoint in {directory}")
    parameters = dict(model.named_parameters())
    for name, tensor in load_file(directory / "trainable.safetensors").items():
        parameters[name].data.copy_(tensor.to(parameters[name].device))
    state = torch.load(directory / "state.pt", map_location=runtime.device, weights_only=True)
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    rng = {key: value.cpu() for key, value in state["rng"].items()}
    return state["step"], rng


def check_resumable(config: TrainConfig, out: Path) -> None:
    from train.config import load_saved_config

    saved = load_saved_config(out)
    changed = [name for name in RESUME_MUST_MATCH if getattr(saved, name) != getattr(config, name)]
    if changed:
        raise InputError(f"--resume: {', '.join(changed)} differ from the run saved in {out}")


# --- log ---------------------------------------------------------------------------


def read_log(out: Path, up_to_step: int) -> list[dict]:
    path = out / LOG_FILE
    if not path.is_file():
        return []
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [record for record in records if record["step"] <= up_to_step]


def write_log(out: Path, records: list[dict]) -> None:
    (out / LOG_FILE).write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")


def format_record(record: dict, total_steps: int) -> str:
    parts = [f"step {record['step']:>{len(str(total_steps))}}/{total_steps}", f"loss {record['loss']:.4f}"]
    if record.get("eval_loss") is not None:
        parts.append(f"eval {record['eval_loss']:.4f}")
    parts.append(f"lr {record['lr']:.2e}")
    parts.append(f"{record['tokens_per_s']:,.0f} tok/s")
    if record.get("mfu") is not None:
        parts.append(f"mfu {100 * record['mfu']:.1f}%")
    return "  ".join(parts)


def plot_loss(out: Path, records: list[dict]) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # no display on training machines
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4))
    axes.plot([r["step"] for r in records], [r["loss"] for r in records], label="train loss")
    evals = [r for r in records if r.get("eval_loss") is not None]
    if evals:
        axes.plot([r["step"] for r in evals], [r["eval_loss"] for r in evals], "o-", label="eval loss")
    axes.set_xlabel("step")
    axes.set_ylabel("loss per response token")
    axes.legend()
    axes.grid(alpha=0.3)
    figure.tight_layout()
    path = out / CURVE_FILE
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


# --- training ----------------------------------------------------------------------


def prepare_out(config: TrainConfig) -> Path:
    out = Path(config.out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out must be a directory, got a file: {out}")
    if config.resume:
        check_resumable(config, out)
    else:
        # A fresh run must not inherit a previous run's checkpoint or log.
        for stale in (CHECKPOINT_DIR, LOG_FILE, MERGED_DIR):
            path = out / stale
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    return out


def describe_data(splits: DataSplits, config: TrainConfig, log: Callable[[str], None]) -> None:
    log(
        f"data: {splits.records} records -> {len(splits.train)} train, {len(splits.eval)} eval"
        f" (max {config.max_seq_len} tokens: {splits.truncated} truncated, {splits.skipped_too_long} left out)"
    )


def train(config: TrainConfig, log: Callable[[str], None] = print) -> TrainResult:
    records = load_records(config.data)  # bad data fails before the slow model load
    runtime = pick_runtime(config.device)
    source = resolve_base_model(config.base_model)
    out = prepare_out(config)
    tokenizer = load_tokenizer(source)
    splits = build_splits(records, tokenizer, config.max_seq_len, config.mask_prompt, config.eval_fraction, config.seed)
    describe_data(splits, config, log)

    torch.manual_seed(config.seed)  # LoRA's A matrices start random
    log(f"model: {source} on {runtime.device.type} ({str(runtime.weights_dtype).removeprefix('torch.')})")
    model = load_base_model(source, runtime, config.attn_implementation)
    model = add_lora(
        model, config.lora_r, config.lora_alpha, config.lora_dropout, config.target_modules, config.gradient_checkpointing
    )
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    log(f"LoRA: {sum(p.numel() for p in trainable):,} trainable of {sum(p.numel() for p in model.parameters()):,} parameters")

    total_steps = plan_steps(config, len(splits.train))
    optimizer = torch.optim.AdamW(
        trainable, lr=config.lr, weight_decay=config.weight_decay, fused=runtime.device.type == "cuda"
    )
    warmup_steps = max(1, round(config.warmup_ratio * total_steps)) if config.warmup_ratio > 0 else 0
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_cosine(total_steps, warmup_steps, config.min_lr_ratio))

    start_step = 0
    if config.resume:
        start_step, saved_rng = load_checkpoint(out, model, optimizer, scheduler, runtime)
        restore_rng(saved_rng, runtime)
        log(f"resuming from step {start_step}")
    config.save(out)
    records = read_log(out, start_step) if config.resume else []
    write_log(out, records)  # a resumed run drops log lines past its checkpoint

    result = run_steps(model, tokenizer, config, runtime, splits, optimizer, scheduler, out, start_step, total_steps, records, log)
    finish(result, config, out, log)
    return result


def run_steps(model, tokenizer, config, runtime, splits, optimizer, scheduler, out, start_step, total_steps, records, log):
    eval_every = config.eval_every or max(1, total_steps // 5)
    flops = LoraFlops(model)
    peak = peak_flops(runtime.device, config.peak_tflops)
    pad_id = tokenizer.pad_token_id
    lengths = [len(example) for example in splits.train]
    stream = micro_batches(
        lengths, config.batch_size, config.seed, group_by_length=not config.packing, start=start_step * config.grad_accum
    )
    tokens_seen = slots_seen = 0
    window_tokens, window_flops, window_start = 0, 0.0, time.perf_counter()
    completed, completed_rng = start_step, rng_state(runtime)
    try:
        for step in range(start_step, total_steps):
            batches = [
                collate([splits.train[i] for i in next(stream)], config.packing, pad_id, runtime.pin_memory)
                for _ in range(config.grad_accum)
            ]
            # Normalise by the response tokens of the whole step, not per micro-batch:
            # otherwise a short micro-batch would weigh as much as a long one.
            label_tokens = max(1, sum(batch.label_tokens for batch in batches))
            step_loss = 0.0
            for batch in batches:
                loss = forward_loss(model, batch, runtime) / label_tokens
                loss.backward()
                step_loss += float(loss.detach())
            if config.max_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
            lr = optimizer.param_groups[0]["lr"]
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            completed, completed_rng = step + 1, rng_state(runtime)

            step_tokens = sum(batch.tokens for batch in batches)
            tokens_seen += step_tokens
            slots_seen += sum(batch.slots for batch in batches)
            window_tokens += step_tokens
            window_flops += sum(flops(batch.tokens, attention_context(batch.inputs)) for batch in batches)

            eval_loss = None
            if completed % eval_every == 0 or completed == total_steps:
                eval_loss = evaluate(model, splits.eval, config, runtime, pad_id)
            if completed % config.log_every == 0 or eval_loss is not None:
                elapsed = time.perf_counter() - window_start
                record = {
                    "step": completed,
                    "loss": step_loss,
                    "eval_loss": eval_loss,
                    "lr": lr,
                    "tokens_per_s": window_tokens / elapsed,
                    "mfu": window_flops / elapsed / peak if peak else None,
                    "padding_share": 1 - tokens_seen / slots_seen,
                }
                records.append(record)
                log(format_record(record, total_steps))
                with (out / LOG_FILE).open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(record) + "\n")
                window_tokens, window_flops, window_start = 0, 0.0, time.perf_counter()
            if config.save_every and completed % config.save_every == 0 and completed < total_steps:
                save_checkpoint(out, model, optimizer, scheduler, completed, completed_rng)
    except KeyboardInterrupt:
        # Save the state after the last completed step (an interrupted step's partial
        # gradients are dropped), so --resume repeats that step exactly.
        save_checkpoint(out, model, optimizer, scheduler, completed, completed_rng)
        write_log(out, [record for record in records if record["step"] <= completed])
        log(f"interrupted: checkpoint at step {completed} in {out / CHECKPOINT_DIR}; continue with --resume")
        raise
    save_checkpoint(out, model, optimizer, scheduler, completed, completed_rng)
    return TrainResult(
        model=model,
        tokenizer=tokenizer,
        runtime=runtime,
        records=records,
        steps=completed,
        padding_share=1 - tokens_seen / slots_seen if slots_seen else 0.0,
    )


def finish(result: TrainResult, config: TrainConfig, out: Path, log: Callable[[str], None]) -> None:
    result.model.save_pretrained(out)
    result.tokenizer.save_pretrained(out)
    write_log(out, result.records)
    if result.records:
        plot_loss(out, result.records)
        first, last = result.loss_change()
        log(f"loss: {first:.4f} (mean of the first steps) -> {last:.4f} (mean of the last steps)")
    log(f"padding: {100 * result.padding_share:.1f}% of the tokens computed ({'packed' if config.packing else 'padded'})")
    if config.merge:
        merged = result.model.merge_and_unload()
        merged.save_pretrained(out / MERGED_DIR)
        result.tokenizer.save_pretrained(out / MERGED_DIR)
        result.model = merged
        log(f"merged weights: {out / MERGED_DIR}")
    log(f"adapter: {out}")
