"""Base model, LoRA, and the device/dtype picked at run time.

CPU and CUDA share one code path; only the ``Runtime`` differs: on CUDA the frozen base
weights are held in bf16 and the forward runs under bf16 autocast (LoRA weights stay in
float32, peft's default), on the CPU everything is float32 and autocast is disabled.
Training hands the same choice to accelerate (``Runtime.mixed_precision``); inference
(`curate generate`) uses ``Runtime.autocast`` directly.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from train.errors import InputError
from train.tokenizer import DEFAULT_BASE_MODEL_ID, DEFAULT_TOKENIZER, default_gguf, is_default_gguf, looks_like_hub_id

# Linear layers LoRA adapts, per model_type: attention and MLP projections, which is
# where LoRA gains most per parameter (QLoRA's finding). Unknown architectures fall back
# to peft's own table (attention only) or ask for --target-modules.
TARGET_MODULES = {
    **dict.fromkeys(
        ("llama", "mistral", "mixtral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3_text", "smollm3", "olmo", "olmo2"),
        ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    ),
    "phi3": ["qkv_proj", "o_proj", "gate_up_proj", "down_proj"],
    "gpt2": ["c_attn", "c_proj", "c_fc"],
    "gpt_neox": ["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"],
    "opt": ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"],
}


@dataclass(frozen=True)
class Runtime:
    device: torch.device
    weights_dtype: torch.dtype
    autocast_dtype: torch.dtype | None  # None: no autocast

    def autocast(self):
        return torch.autocast(
            device_type=self.device.type,
            dtype=self.autocast_dtype or torch.bfloat16,
            enabled=self.autocast_dtype is not None,
        )

    @property
    def pin_memory(self) -> bool:
        return self.device.type == "cuda"

    @property
    def mixed_precision(self) -> str:
        """accelerate's name for the autocast this runtime uses."""
        return "bf16" if self.autocast_dtype == torch.bfloat16 else "no"


def pick_runtime(device: str = "auto") -> Runtime:
    """The device and dtypes of this process (under DDP, accelerate then picks which GPU)."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda":
        if not torch.cuda.is_available():
            raise InputError("--device cuda: no CUDA device is available")
        # bf16 needs Ampere or newer; older GPUs fall back to float32 rather than to fp16,
        # which would need loss scaling.
        if torch.cuda.is_bf16_supported():
            return Runtime(torch.device("cuda"), torch.bfloat16, torch.bfloat16)
        return Runtime(torch.device("cuda"), torch.float32, None)
    return Runtime(torch.device("cpu"), torch.float32, None)


@dataclass(frozen=True)
class ModelSource:
    """Where a base model comes from: a HF id or directory, plus a GGUF file name inside it."""

    name_or_path: str
    gguf_file: str | None = None

    def kwargs(self) -> dict:
        return {"gguf_file": self.gguf_file} if self.gguf_file else {}

    def __str__(self) -> str:
        return str(Path(self.name_or_path) / self.gguf_file) if self.gguf_file else self.name_or_path

    @property
    def tokenizer_name(self) -> str:
        """The model's own tokenizer, as ``train.tokenizer.load_tokenizer`` names it."""
        if self.gguf_file and is_default_gguf(Path(self.name_or_path) / self.gguf_file):
            return DEFAULT_TOKENIZER
        return str(self)

    @property
    def portable_name(self) -> str:
        """How an adapter names its base so that it loads on another machine: the hub id of
        the shipped GGUF's model, or the hub id given; a local model by its own name (the
        file or folder name), since this machine's path means nothing elsewhere."""
        if self.gguf_file and is_default_gguf(Path(self.name_or_path) / self.gguf_file):
            return DEFAULT_BASE_MODEL_ID
        if not self.gguf_file and looks_like_hub_id(self.name_or_path):
            return self.name_or_path
        return Path(str(self)).name


def resolve_base_model(name: str | None) -> ModelSource:
    """None -> the shipped SmolLM2 GGUF; a ``.gguf`` path -> that file; else a HF id or directory."""
    path = default_gguf() if name is None else Path(name)
    if path.suffix == ".gguf":
        if not path.is_file():
            raise InputError(f"base model GGUF file not found: {path}")
        return ModelSource(str(path.parent), path.name)
    return ModelSource(str(name))


def load_base_model(source: ModelSource, runtime: Runtime, attn_implementation: str = "sdpa"):
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # our own log says what loads; stderr is for errors

    try:
        model = AutoModelForCausalLM.from_pretrained(
            source.name_or_path,
            dtype=runtime.weights_dtype,
            attn_implementation=attn_implementation,
            **source.kwargs(),
        )
    except (OSError, ValueError, ImportError) as error:
        raise InputError(f"cannot load base model {source}: {error}") from None
    return model.to(runtime.device)


def target_modules_for(model, override: list[str] | None = None) -> list[str]:
    if override:
        return list(override)
    model_type = model.config.model_type
    if model_type in TARGET_MODULES:
        return TARGET_MODULES[model_type]
    from peft.utils.constants import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as PEFT_DEFAULTS

    if model_type in PEFT_DEFAULTS:
        return list(PEFT_DEFAULTS[model_type])
    raise InputError(f"no default LoRA target modules for model type {model_type!r}; pass --target-modules")


def add_lora(model, r: int, alpha: int, dropout: float, target_modules: list[str] | None, gradient_checkpointing: bool):
    from peft import LoraConfig, get_peft_model

    if gradient_checkpointing:
        # Non-reentrant checkpointing works with frozen embeddings, so inputs need no
        # requires_grad hook.
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    config = LoraConfig(
        r=r,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules=target_modules_for(model, target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )
    try:
        with warnings.catch_warnings():  # peft calls a transformers API deprecated in 5.x; not ours to fix
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
            return get_peft_model(model, config)
    except ValueError as error:  # peft names the module it could not find
        raise InputError(f"--target-modules: {error}") from None


def load_adapter(adapter_dir: str | Path, source: ModelSource, runtime: Runtime, attn_implementation: str = "sdpa"):
    """The base model with a saved adapter on top, ready for inference."""
    from peft import PeftModel

    base = load_base_model(source, runtime, attn_implementation)
    with warnings.catch_warnings():  # the same deprecated-API warning as in add_lora
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        model = PeftModel.from_pretrained(base, str(adapter_dir))
    return model.to(runtime.device).eval()
