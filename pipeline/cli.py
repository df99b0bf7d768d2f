"""The ``curate`` command line. Bad input ends with one line on stderr and exit 2."""

from __future__ import annotations

import argparse
import sys

from pipeline.errors import InputError
from pipeline.write import EXPORT_FORMATS
from train.cli import add_commands as add_train_commands  # argparse only; torch loads on first use


def _run(args: argparse.Namespace) -> int:
    from pipeline.config import load_config
    from pipeline.run import run
    from pipeline.summary import print_summary

    if args.ray_address and args.engine != "ray":
        raise InputError("--ray-address needs --engine ray")
    config = load_config(args.config).with_benchmarks(args.decontaminate)
    if args.engine == "ray":
        from pipeline.engine_ray import run_ray

        if config.decontamination.benchmarks:
            raise InputError("decontamination (--decontaminate, [decontamination] benchmarks) is not available with --engine ray yet")
        report = run_ray(args.inputs, args.out, config, export=args.export, address=args.ray_address)
    else:
        report = run(args.inputs, args.out, config, export=args.export)
    print_summary(report, args.out)
    return 0


def _report(args: argparse.Namespace) -> int:
    from pipeline.summary import rebuild_report

    print(rebuild_report(args.dir))
    return 0


def _refresh(args: argparse.Namespace) -> int:
    from pipeline.config import load_config
    from pipeline.refresh import refresh
    from pipeline.summary import print_refresh_summary

    outcome = refresh(args.inputs, args.state, load_config(args.config).with_benchmarks(args.decontaminate))
    if outcome.report is None:
        print(f"curate: {outcome.message}")
    else:
        print_refresh_summary(outcome.report, outcome.version)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="curate",
        description="Curate Alpaca-style instruction data into clean, deduplicated, train-ready shards "
        "with a report of every decision, and fine-tune a model on them with LoRA.",
        epilog="Exit status: 0 on success, 2 for a usage or input problem (one line on stderr).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="curate INPUT... into clean/, rejected/ and quarantine/ shards")
    run.add_argument("inputs", nargs="+", metavar="INPUT", help=".json, .jsonl, .parquet, .csv, a glob, a directory, or hf:NAME[:SPLIT]")
    run.add_argument("--out", required=True, metavar="DIR", help="output directory (replaced atomically)")
    run.add_argument("--config", metavar="FILE", help="TOML config (default: built-in defaults, see config/default.toml)")
    run.add_argument("--export", choices=EXPORT_FORMATS, help="also write the clean set as Alpaca JSON or JSONL")
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
    except KeyboardInterrupt:
        print("curate: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
