"""Batching without waste: padding-free packing, and padding as the baseline.

Packing concatenates the samples of a micro-batch into one row and gives every sample
position ids that restart at 0. How that keeps samples apart, checked on the installed
transformers 5.x source (``masking_utils.create_causal_mask`` and
``_preprocess_mask_arguments``):

- sdpa and eager: when ``attention_mask`` is None *and there is no KV cache*,
  ``find_packed_sequence_indices`` reads sequence boundaries off the position ids (a
  step other than +1 starts a new sequence) and builds a block-diagonal causal mask.
- flash_attention_2: the same position ids become ``cu_seq_lens`` for the varlen kernel.

The catch: Llama's forward creates a ``DynamicCache`` whenever ``use_cache`` is true,
which it is by default (``config.use_cache``), and with a cache present the packed
detection is skipped, so samples silently attend to each other. Every forward pass of
training and evaluation therefore passes ``use_cache=False`` (``model_inputs``), and
``tests/test_train.py`` proves the isolation on logits.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from train.data import IGNORE_INDEX, Example


@dataclass
class Batch:
    """Model inputs plus the token counts needed for loss normalisation and reports."""

    inputs: dict[str, torch.Tensor]
    tokens: int  # real tokens
    slots: int  # positions the model computes on, padding included
    label_tokens: int  # positions that carry loss (after the causal shift)

    @property
    def padding(self) -> int:
        return self.slots - self.tokens

    def to(self, device: torch.device) -> "Batch":
        non_blocking = device.type == "cuda"
        moved = {key: value.to(device, non_blocking=non_blocking) for key, value in self.inputs.items()}
        return Batch(moved, self.tokens, self.slots, self.label_tokens)


def _label_tokens(labels: torch.Tensor) -> int:
    # The model predicts token t+1 at position t, so the first label of a row never counts.
    return int((labels[:, 1:] != IGNORE_INDEX).sum())


def _pin(tensors: dict[str, torch.Tensor], pin_memory: bool) -> dict[str, torch.Tensor]:
    # Page-locked host memory lets the copy to the GPU overlap with compute.
    return {key: value.pin_memory() for key, value in tensors.items()} if pin_memory else tensors


def pack(examples: list[Example], pin_memory: bool = False) -> Batch:
    """All examples in one row of shape (1, total tokens), with no padding at all.

    Position ids restart at 0 for each example, which (with ``use_cache=False``) gives
    a block-diagonal causal mask; each example's first label is already IGNORE_INDEX,
    so no example is trained to predict the next one.
    """
    input_ids = torch.tensor([token for example in examples for token in example.input_ids])
    labels = torch.tensor([label for example in examples for label in example.labels])
    position_ids = torch.cat([torch.arange(len(example)) for example in examples])
    inputs = {"input_ids": input_ids[None], "labels": labels[None], "position_ids": position_ids[None]}
    tokens = len(input_ids)
    return Batch(_pin(inputs, pin_memory), tokens=tokens, slots=tokens, label_tokens=_label_tokens(labels[None]))


def pad(examples: list[Example], pad_token_id: int, pad_to: int | None = None, pin_memory: bool = False) -> Batch:
    """Right-padded rows with an attention mask; ``pad_to`` None pads to the longest example."""
    width = pad_to if pad_to is not None else max(len(example) for example in examples)
    input_ids = torch.full((len(examples), width), pad_token_id)
    labels = torch.full((len(examples), width), IGNORE_INDEX)
    attention_mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, example in enumerate(examples):
        length = len(example)
        input_ids[row, :length] = torch.tensor(example.input_ids)
        labels[row, :length] = torch.tensor(example.labels)
        attention_mask[row, :length] = 1
    inputs = {"input_ids": input_ids, "labels": labels, "attention_mask": attention_mask}
    tokens = int(attention_mask.sum())
    return Batch(_pin(inputs, pin_memory), tokens=tokens, slots=input_ids.numel(), label_tokens=_label_tokens(labels))


def collate(examples: list[Example], packing: bool, pad_token_id: int, pin_memory: bool = False) -> Batch:
    if packing:
        return pack(examples, pin_memory)
    return pad(examples, pad_token_id, pin_memory=pin_memory)


def model_inputs(batch: Batch) -> dict[str, torch.Tensor]:
    """What goes into the model's forward; labels stay out because the loop computes the
    loss itself (summed, then normalised over the whole accumulated step)."""
    inputs = {key: value for key, value in batch.inputs.items() if key != "labels"}
    return {**inputs, "use_cache": False}
