"""Model FLOPs utilisation (MFU) of LoRA training, reported on CUDA only.

LoRA FLOP accounting, per trained token (a multiply-add is 2 FLOPs):

- forward through every linear layer, frozen or not: 2 * N, N = weights of all linear
  layers (lm_head included; the embedding is a lookup and costs nothing);
- backward, gradient with respect to activations, needed through every layer: 2 * N;
- backward, gradient with respect to weights, for the LoRA weights only: 2 * N_lora.

So 4 * N + 2 * N_lora (N counts the LoRA weights too), not the 6 * N of full
fine-tuning: the frozen base is never given weight gradients. Attention scores add 4 * layers * attention width * context per
token in the forward (QK^T and the weighted sum of V), times 3 with the backward, where
context is the number of earlier tokens the causal mask lets a token see in its own
sample. Recomputation by gradient checkpointing is not counted: MFU counts the model's
FLOPs, not the hardware's.
"""

from __future__ import annotations

import torch

# Dense bf16 peak of the cards we could name with confidence; others need --peak-tflops.
PEAK_BF16_TFLOPS = {
    "H100 PCIe": 756.0,
    "H100": 989.4,
    "H200": 989.4,
    "A100": 312.0,
    "L40S": 362.0,
    "L4": 121.0,
    "A10": 125.0,
}


def peak_flops(device: torch.device, override_tflops: float | None = None) -> float | None:
    if override_tflops is not None:
        return override_tflops * 1e12
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    for key, tflops in PEAK_BF16_TFLOPS.items():  # "H100 PCIe" is listed before "H100"
        if key in name:
            return tflops * 1e12
    return None


def linear_weights(model) -> tuple[int, int]:
    """(weights in all linear layers, of which LoRA weights)."""
    total = lora = 0
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear):
            total += module.weight.numel()
            if module.weight.requires_grad:
                lora += module.weight.numel()
    return total, lora


def attention_context(inputs: dict[str, torch.Tensor]) -> int:
    """Sum over tokens of how many tokens each attends to (itself included)."""
    if "position_ids" in inputs:
        return int((inputs["position_ids"] + 1).sum())
    return int(inputs["attention_mask"].cumsum(-1).mul(inputs["attention_mask"]).sum())


class LoraFlops:
    """Model FLOPs of one training step, from counts taken once per model."""

    def __init__(self, model):
        self.linear, self.lora = linear_weights(model)
        config = model.config
        heads = config.num_attention_heads
        self.layers = config.num_hidden_layers
        self.attention_width = heads * (getattr(config, "head_dim", None) or config.hidden_size // heads)

    def __call__(self, tokens: int, context: int) -> float:
        dense = (4 * self.linear + 2 * self.lora) * tokens
        attention = 3 * 4 * self.layers * self.attention_width * context
        return float(dense + attention)
