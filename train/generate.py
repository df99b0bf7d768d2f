"""Answer an instruction with a trained adapter, through the same Alpaca template."""

from __future__ import annotations

from pathlib import Path

import torch

from train.config import load_saved_config
from train.errors import InputError
from train.model import load_adapter, pick_runtime, resolve_base_model
from train.template import prompt_ids as template_prompt_ids
from train.tokenizer import load_tokenizer


def load_tuned(adapter_dir: str | Path, device: str = "auto"):
    """(model, tokenizer, runtime) of a saved adapter on the base model it was trained on."""
    adapter_dir = Path(adapter_dir)
    if not adapter_dir.is_dir():
        raise InputError(f"adapter directory not found: {adapter_dir}")
    config = load_saved_config(adapter_dir)
    if not (adapter_dir / "adapter_config.json").is_file():
        raise InputError(f"no adapter_config.json in {adapter_dir}: did training finish?")
    runtime = pick_runtime(device)
    tokenizer = load_tokenizer(str(adapter_dir))  # saved with the adapter by training
    model = load_adapter(adapter_dir, resolve_base_model(config.base_model), runtime, config.attn_implementation)
    return model, tokenizer, runtime


def prompt_ids(tokenizer, instruction: str, input: str = "") -> torch.Tensor:
    """Token ids of the prompt exactly as training encoded it (train.template)."""
    return torch.tensor([template_prompt_ids(tokenizer.backend, instruction, input)])


@torch.no_grad()
def generate(model, tokenizer, runtime, instruction: str, input: str = "", max_new_tokens: int = 128) -> str:
    """Greedy decoding up to EOS: the same answer every time, which is what a check wants."""
    ids = prompt_ids(tokenizer, instruction, input).to(runtime.device)
    with runtime.autocast():
        output = model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            eos_token_id=tokenizer.eos_id,
            pad_token_id=tokenizer.pad_id,
        )
    return tokenizer.decode(output[0, ids.shape[1] :].tolist()).strip()
