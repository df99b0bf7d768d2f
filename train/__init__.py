"""LoRA fine-tuning on the clean shards."""
