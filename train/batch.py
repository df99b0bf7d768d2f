"""Micro-batches from transformers' collators, with the token counts the loop needs.

Packed (the default): ``DataCollatorWithFlattening`` concatenates the samples of a
micro-batch into one row with position ids restarting at 0 per sample, and no padding
at all. How that keeps samples apart, checked on the installed transformers 5.x source
(``masking_utils.create_causal_mask`` and ``_preprocess_mask_arguments``):

- sdpa and eager: when ``attention_mask`` is None *and there is no KV cache*,
  ``find_packed_sequence_indices`` reads sequence boundaries off the position ids (a
  step other than +1 starts a new sequence) and builds a block-diagonal causal mask.
- flash_attention_2: the same position ids become ``cu_seq_lens`` for the varlen kernel.

The catch: Llama's forward creates a ``DynamicCache`` whenever ``use_cache`` is true,
which it is by default (``config.use_cache``), and with a cache present the packed
detection is skipped, so samples silently attend to each other. Every forward pass of
training and evaluation therefore passes ``use_cache=False`` (``model_inputs``), and
``tests/test_train.py`` proves the isolation on logits.

Padded (``--no-packing``): ``DataCollatorForSeq2Seq`` right-pads each micro-batch to its
longest sample, labels with IGNORE_INDEX.
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


class Collator:
    """Examples -> Batch, packed or padded, through transformers' collators."""

    def __init__(self, packing: bool, tokenizer, pin_memory: bool = False):
        from transformers import DataCollatorForSeq2Seq, DataCollatorWithFlattening

        self.pin_memory = pin_memory
        if packing:
            # separator_id: the first label of every sample is ignored, so no sample is
            # trained to predict the next one (encode_record already sets it).
            self.collate = DataCollatorWithFlattening(return_position_ids=True, separator_id=IGNORE_INDEX)
        else:
            self.collate = DataCollatorForSeq2Seq(tokenizer.for_transformers(), label_pad_token_id=IGNORE_INDEX)

    def __call__(self, examples: list[Example]) -> Batch:
        inputs = dict(self.collate([example.features() for example in examples], return_tensors="pt"))
        if self.pin_memory:  # page-locked host memory lets the copy to the GPU overlap with compute
            inputs = {key: value.pin_memory() for key, value in inputs.items()}
        labels = inputs["labels"]
        return Batch(
            inputs,
            tokens=sum(len(example) for example in examples),
            slots=inputs["input_ids"].numel(),
            # The model predicts token t+1 at position t, so the first label of a row never counts.
            label_tokens=int((labels[:, 1:] != IGNORE_INDEX).sum()),
        )


def model_inputs(batch: Batch) -> dict[str, torch.Tensor]:
    """What goes into the model's forward; labels stay out because the loop computes the
    loss itself (summed, then normalised over the whole accumulated step)."""
    inputs = {key: value for key, value in batch.inputs.items() if key != "labels"}
    return {**inputs, "use_cache": False}
