"""LoRA fine-tuning on the clean shards: data, packing, model, loop, generation."""
