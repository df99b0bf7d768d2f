"""The training loop: a torch loop on accelerate, small enough to read in one sitting.

accelerate places the model, runs it under bf16 autocast on CUDA, wraps it in DDP when
started by ``accelerate launch`` or ``torchrun``, and skips the gradient all-reduce on
all but the last micro-batch of a step (``Accelerator.accumulate``). The loop keeps what
is the project's own: AdamW with linear warmup and cosine decay, the loss normalised by
the response tokens of the whole step on all processes, evaluation on the held-out
split, a checkpoint that ``--resume`` continues from the exact micro-batch (optimizer,
scheduler and RNG state included), LoRA-aware MFU, ``train_log.jsonl`` and a loss curve.

Every process computes the same micro-batch stream (a pure function of the seed) and
keeps every num_processes-th micro-batch, so no sampler state has to be shared or saved
for ``--resume``. The main process alone evaluates, logs and writes files.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import torch

from train.batch import Batch, Collator, model_inputs
from train.config import TrainConfig, settle_data_contract
from train.data import IGNORE_INDEX, DataSplits, Example, build_splits, load_records, micro_batches, micro_batches_per_epoch
from train.errors import InputError
from train.flops import LoraFlops, attention_context, peak_flops
from train.manifest import manifest_of, read_training_keys
from train.model import ModelSource, Runtime, add_lora, load_base_model, pick_runtime, resolve_base_model
from train.tokenizer import TextTokenizer, load_tokenizer

LOG_FILE = "train_log.jsonl"
CURVE_FILE = "loss_curve.png"
CHECKPOINT_DIR = "checkpoint"
MERGED_DIR = "merged"

# Settings that change the trajectory of a run; --resume refuses when they differ.
# Step counts may change (extending a run), which re-plans the learning-rate schedule.
RESUME_MUST_MATCH = (
    "data", "base_model", "max_seq_len", "batch_size", "grad_accum", "lr", "min_lr_ratio", "warmup_ratio",
    "weight_decay", "max_grad_norm", "lora_r", "lora_alpha", "lora_dropout", "target_modules", "mask_prompt",
    "packing", "eval_fraction", "seed", "tokenizer", "template",
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

    def eval_change(self) -> tuple[float, float] | None:
        """Eval loss before training (step 0) and at the end, when there is an eval split."""
        losses = [record["eval_loss"] for record in self.records if record.get("eval_loss") is not None]
        return (losses[0], losses[-1]) if len(losses) >= 2 else None


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
    # Shift the labels, not the logits (as transformers' own loss does): slicing the logits
    # would copy all of them, a vocabulary-sized row per token, on every step.
    shifted_labels = torch.nn.functional.pad(labels, (0, 1), value=IGNORE_INDEX)[:, 1:].reshape(-1)
    flat_logits = logits.float().reshape(-1, logits.shape[-1])
    return torch.nn.functional.cross_entropy(flat_logits, shifted_labels, ignore_index=IGNORE_INDEX, reduction="sum")


def forward_loss(model, batch: Batch, device: torch.device) -> torch.Tensor:
    """Summed loss of a batch; a model prepared by accelerate runs its own autocast."""
    batch = batch.to(device)
    logits = model(**model_inputs(batch)).logits
    return summed_token_loss(logits, batch.inputs["labels"])


@torch.no_grad()
def evaluate(model, examples: list[Example], config: TrainConfig, runtime: Runtime, collate: Collator) -> float | None:
    """Mean loss per response token over the eval split, or None when there is none."""
    if not examples:
        return None
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(examples), config.batch_size):
        batch = collate(examples[start : start + config.batch_size])
        total += float(forward_loss(model, batch, runtime.device))
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


def save_checkpoint(out: Path, model, optimizer, scheduler, step: int, rng: dict, world_size: int = 1) -> None:
    """Write OUT/checkpoint atomically: the LoRA weights, optimizer, scheduler, RNG, step."""
    from safetensors.torch import save_file

    target, scratch = out / CHECKPOINT_DIR, out / f"{CHECKPOINT_DIR}.tmp"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    trainable = {name: p.detach().cpu().contiguous() for name, p in model.named_parameters() if p.requires_grad}
    save_file(trainable, scratch / "trainable.safetensors")
    state = {
        "step": step,
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "rng": rng,
        "world_size": world_size,  # the data position depends on it
    }
    torch.save(state, scratch / "state.pt")
    shutil.rmtree(target, ignore_errors=True)
    scratch.rename(target)


def load_checkpoint(out: Path, model, optimizer, scheduler, runtime: Runtime, world_size: int = 1) -> tuple[int, dict]:
    from safetensors.torch import load_file

    directory = out / CHECKPOINT_DIR
    if not (directory / "state.pt").is_file():
        raise InputError(f"--resume: no checkpoint in {directory}")
    parameters = dict(model.named_parameters())
    for name, tensor in load_file(directory / "trainable.safetensors").items():
        parameters[name].data.copy_(tensor.to(parameters[name].device))
    state = torch.load(directory / "state.pt", map_location=runtime.device, weights_only=True)
    if state.get("world_size", 1) != world_size:
        raise InputError(f"--resume: the run in {out} used {state['world_size']} processes, this one {world_size}")
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
    parts = [f"step {record['step']:>{len(str(total_steps))}}/{total_steps}"]
    if record.get("loss") is not None:
        parts.append(f"loss {record['loss']:.4f}")
    if record.get("eval_loss") is not None:
        parts.append(f"eval {record['eval_loss']:.4f}")
    if record.get("lr") is not None:
        parts.append(f"lr {record['lr']:.2e}")
    if record.get("tokens_per_s") is not None:
        parts.append(f"{record['tokens_per_s']:,.0f} tok/s")
    if record.get("mfu") is not None:
        parts.append(f"mfu {100 * record['mfu']:.1f}%")
    return "  ".join(parts)


def plot_loss(out: Path, records: list[dict]) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # no display on training machines
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4))
    trained = [r for r in records if r.get("loss") is not None]
    steps, losses = [r["step"] for r in trained], [r["loss"] for r in trained]
    axes.plot(steps, losses, alpha=0.35, label="train loss")
    # Per-step losses swing with the samples drawn; a running mean shows the trend.
    window = max(1, min(10, len(losses) // 4))
    running = [sum(losses[max(0, i - window + 1) : i + 1]) / len(losses[max(0, i - window + 1) : i + 1]) for i in range(len(losses))]
    axes.plot(steps, running, color="C0", label=f"train loss, mean of {window} steps")
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


def baseline_record(model, splits: DataSplits, config: TrainConfig, runtime: Runtime, collate: Collator) -> dict:
    """Step 0: the eval loss of the untouched base model, the point the curve starts from."""
    eval_loss = evaluate(model, splits.eval, config, runtime, collate)
    return {"step": 0, "loss": None, "eval_loss": eval_loss, "lr": None, "tokens": 0, "tokens_per_s": None, "mfu": None}


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


def make_accelerator(config: TrainConfig) -> tuple[object, Runtime]:
    """The Accelerator of this process and the runtime it settled on (device, dtypes).

    ``pick_runtime`` decides CPU or CUDA and bf16 once, for training and inference alike;
    accelerate gets that decision and picks this process's GPU under DDP."""
    from accelerate import Accelerator

    runtime = pick_runtime(config.device)
    accelerator = Accelerator(
        cpu=runtime.device.type == "cpu",
        mixed_precision=runtime.mixed_precision,
        gradient_accumulation_steps=config.grad_accum,
    )
    return accelerator, replace(runtime, device=accelerator.device)


def check_vocabulary(tokenizer: TextTokenizer, model, source: ModelSource) -> None:
    """A tokenizer with ids the model has no embedding for would fail deep inside torch."""
    rows = model.get_input_embeddings().weight.shape[0]
    if len(tokenizer) > rows:
        raise InputError(
            f"tokenizer {tokenizer.name} has {len(tokenizer)} tokens but base model {source} has {rows} embeddings: "
            "curate with the base model's tokenizer, or pass --tokenizer"
        )


def train(config: TrainConfig, log: Callable[[str], None] = print) -> TrainResult:
    dataset = load_records(config.data)  # bad data fails before the slow model load
    source = resolve_base_model(config.base_model)
    config, contract = settle_data_contract(
        config, read_training_keys(config.data), source.tokenizer_name, str(manifest_of(config.data))
    )
    accelerator, runtime = make_accelerator(config)
    main = accelerator.is_main_process
    log = log if main else (lambda line: None)
    log(contract)
    out = prepare_out(config) if main else Path(config.out)
    accelerator.wait_for_everyone()  # the other processes read OUT only after the main one has prepared it
    tokenizer = load_tokenizer(config.tokenizer)
    splits = build_splits(dataset, tokenizer, config.max_seq_len, config.mask_prompt, config.eval_fraction, config.seed)
    describe_data(splits, config, log)

    torch.manual_seed(config.seed)  # LoRA's A matrices start random, the same in every process
    processes = accelerator.num_processes
    log(f"model: {source} on {runtime.device.type} ({str(runtime.weights_dtype).removeprefix('torch.')})"
        + (f", {processes} processes (DDP)" if processes > 1 else ""))
    model = load_base_model(source, runtime, config.attn_implementation)
    check_vocabulary(tokenizer, model, source)
    model = add_lora(
        model, config.lora_r, config.lora_alpha, config.lora_dropout, config.target_modules, config.gradient_checkpointing
    )
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    log(f"LoRA: {sum(p.numel() for p in trainable):,} trainable of {sum(p.numel() for p in model.parameters()):,} parameters")

    total_steps = plan_steps(config, len(splits.train) // processes)
    optimizer = torch.optim.AdamW(
        trainable, lr=config.lr, weight_decay=config.weight_decay, fused=runtime.device.type == "cuda"
    )
    warmup_steps = max(1, round(config.warmup_ratio * total_steps)) if config.warmup_ratio > 0 else 0
    # The scheduler stays outside accelerate: prepared, it would step once per process.
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_cosine(total_steps, warmup_steps, config.min_lr_ratio))
    wrapped, optimizer = accelerator.prepare(model, optimizer)
    model = accelerator.unwrap_model(wrapped)
    collate = Collator(config.packing, tokenizer, runtime.pin_memory)

    start_step, records = 0, []
    if config.resume:
        start_step, saved_rng = load_checkpoint(out, model, optimizer, scheduler, runtime, processes)
        restore_rng(saved_rng, runtime)
        # The saved learning rate belongs to the saved schedule; when --max-steps extends
        # the run, the next step must follow the re-planned one.
        for group, base_lr in zip(optimizer.param_groups, scheduler.base_lrs):
            group["lr"] = base_lr * scheduler.lr_lambdas[0](start_step)
        log(f"resuming from step {start_step}")
        records = read_log(out, start_step)  # drops log lines past the checkpoint
    elif main:
        records = [baseline_record(model, splits, config, runtime, collate)]
        log(format_record(records[0], total_steps))
    if main:
        config.save(out)
        write_log(out, records)

    steps = Steps(model, wrapped, accelerator, collate, config, runtime, splits, out)
    result = steps.run(optimizer, scheduler, start_step, total_steps, records, log)
    result.tokenizer = tokenizer
    if main:
        finish(result, config, source, out, log)
    accelerator.end_training()
    return result


@dataclass
class Steps:
    """The optimizer steps of one run; ``wrapped`` is the model as accelerate prepared it
    (under DDP when there are several processes), ``model`` the peft model inside."""

    model: object
    wrapped: object
    accelerator: object
    collate: Collator
    config: TrainConfig
    runtime: Runtime
    splits: DataSplits
    out: Path

    def total(self, value: float) -> float:
        """The sum of a number over all processes (the number itself in a single process)."""
        tensor = torch.tensor([float(value)], dtype=torch.float64, device=self.runtime.device)
        return float(self.accelerator.reduce(tensor, reduction="sum"))

    def step_batches(self, stream) -> list[Batch]:
        """This process's micro-batches of one step: every num_processes-th of the shared stream."""
        batches = []
        for _ in range(self.config.grad_accum):
            for process in range(self.accelerator.num_processes):
                indices = next(stream)
                if process == self.accelerator.process_index:
                    batches.append(self.collate([self.splits.train[i] for i in indices]))
        return batches

    def forward_backward(self, batches: list[Batch]) -> float:
        """Accumulate the gradients of one step; returns the step's mean loss per label token."""
        # Normalise by the response tokens of the whole step in all processes, not per
        # micro-batch: otherwise a short micro-batch would weigh as much as a long one.
        # accelerate's backward divides by grad_accum and DDP averages over processes,
        # so both factors are put back: the step's gradient is then exactly the gradient
        # of (summed loss of the step / label tokens of the step).
        label_tokens = max(1.0, self.total(sum(batch.label_tokens for batch in batches)))
        scale = self.accelerator.gradient_accumulation_steps * self.accelerator.num_processes
        step_loss = 0.0
        for batch in batches:
            with self.accelerator.accumulate(self.wrapped):
                loss = forward_loss(self.wrapped, batch, self.runtime.device) / label_tokens
                self.accelerator.backward(loss * scale)
            step_loss += float(loss.detach())
        if not self.accelerator.sync_gradients:  # the step counter and ours must agree
            raise RuntimeError("accelerate did not end the accumulation on the step's last micro-batch")
        return self.total(step_loss)

    def save(self, optimizer, scheduler, step: int, rng: dict) -> None:
        if self.accelerator.is_main_process:
            save_checkpoint(self.out, self.model, optimizer, scheduler, step, rng, self.accelerator.num_processes)

    def run(self, optimizer, scheduler, start_step: int, total_steps: int, records: list[dict], log) -> TrainResult:
        config, runtime, accelerator = self.config, self.runtime, self.accelerator
        eval_every = config.eval_every or max(1, total_steps // 5)
        flops = LoraFlops(self.model)
        peak = peak_flops(runtime.device, config.peak_tflops)
        lengths = [len(example) for example in self.splits.train]
        per_step = config.grad_accum * accelerator.num_processes
        stream = micro_batches(
            lengths, config.batch_size, config.seed, group_by_length=not config.packing, start=start_step * per_step
        )
        tokens_seen = slots_seen = 0.0
        window_tokens, window_flops, window_seconds = 0.0, 0.0, 0.0  # training time only, eval excluded
        completed, completed_rng = start_step, rng_state(runtime)
        try:
            for step in range(start_step, total_steps):
                step_start = time.perf_counter()
                batches = self.step_batches(stream)
                step_loss = self.forward_backward(batches)
                if config.max_grad_norm is not None:
                    accelerator.clip_grad_norm_(self.wrapped.parameters(), config.max_grad_norm)
                lr = optimizer.param_groups[0]["lr"]
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                completed, completed_rng = step + 1, rng_state(runtime)
                # CUDA work queued by optimizer.step is waited for by the next float(loss),
                # so over a logging window the time is right.
                window_seconds += time.perf_counter() - step_start

                step_tokens = self.total(sum(batch.tokens for batch in batches))
                tokens_seen += step_tokens
                slots_seen += self.total(sum(batch.slots for batch in batches))
                window_tokens += step_tokens
                window_flops += sum(flops(batch.tokens, attention_context(batch.inputs)) for batch in batches)

                if not accelerator.is_main_process:
                    continue
                eval_loss = None
                if completed % eval_every == 0 or completed == total_steps:
                    eval_loss = evaluate(self.model, self.splits.eval, config, runtime, self.collate)
                if completed % config.log_every == 0 or eval_loss is not None:
                    record = {
                        "step": completed,
                        "loss": step_loss,
                        "eval_loss": eval_loss,
                        "lr": lr,
                        "tokens": window_tokens,  # real tokens since the last record, all processes
                        "tokens_per_s": window_tokens / window_seconds,
                        # the main process's FLOPs against one device's peak: the per-device utilisation
                        "mfu": window_flops / window_seconds / peak if peak else None,
                        "padding_share": 1 - tokens_seen / slots_seen,
                    }
                    records.append(record)
                    log(format_record(record, total_steps))
                    with (self.out / LOG_FILE).open("a", encoding="utf-8") as handle:
                        handle.write(json.dumps(record) + "\n")
                    window_tokens, window_flops, window_seconds = 0.0, 0.0, 0.0
                if config.save_every and completed % config.save_every == 0 and completed < total_steps:
                    self.save(optimizer, scheduler, completed, completed_rng)
        except KeyboardInterrupt:
            # Save the state after the last completed step (an interrupted step's partial
            # gradients are dropped), so --resume repeats that step exactly.
            self.save(optimizer, scheduler, completed, completed_rng)
            if accelerator.is_main_process:
                write_log(self.out, [record for record in records if record["step"] <= completed])
            log(f"interrupted: checkpoint at step {completed} in {self.out / CHECKPOINT_DIR}; continue with --resume")
            raise
        self.save(optimizer, scheduler, completed, completed_rng)
        return TrainResult(
            model=self.model,
            tokenizer=None,
            runtime=runtime,
            records=records,
            steps=completed,
            padding_share=1 - tokens_seen / slots_seen if slots_seen else 0.0,
        )


def finish(result: TrainResult, config: TrainConfig, source: ModelSource, out: Path, log: Callable[[str], None]) -> None:
    # The adapter names its base by a name that means the same on another machine (the
    # hub id of the shipped GGUF's model), never by this machine's path.
    result.model.peft_config["default"].base_model_name_or_path = source.portable_name
    # The embeddings were not trained; do not let peft try to find out from a GGUF directory.
    result.model.save_pretrained(out, save_embedding_layers=False)
    result.tokenizer.for_transformers().save_pretrained(out)
    write_log(out, result.records)
    if result.records:
        plot_loss(out, result.records)
        first, last = result.loss_change()
        log(f"train loss: {first:.4f} (mean of the first steps) -> {last:.4f} (mean of the last steps)")
        if result.eval_change():
            before, after = result.eval_change()
            log(f"eval loss:  {before:.4f} (before training) -> {after:.4f} (after {result.steps} steps)")
    log(f"padding: {100 * result.padding_share:.1f}% of the tokens computed ({'packed' if config.packing else 'padded'})")
    if config.merge:
        merged = result.model.merge_and_unload()
        merged.save_pretrained(out / MERGED_DIR)
        result.tokenizer.for_transformers().save_pretrained(out / MERGED_DIR)
        result.model = merged
        log(f"merged weights: {out / MERGED_DIR}")
    log(f"adapter: {out}")
