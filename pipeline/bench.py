"""``make bench``: speed, memory and dedup quality on a planted corpus.

    python -m pipeline.bench [--rows 52000] [--workdir data/bench] [--only SECTION ...]

The benchmark is a list of named sections (``SECTIONS``) run in order; each gets
the shared ``Bench`` (its options, the corpus, earlier sections' results) and
prints its own lines. Another benchmark is one more entry in that list.

The corpus is synthetic (``pipeline/synthetic.py``) so that its duplicates are known.

The decontamination and real-text sections use real text instead
(``real_text_corpus``: the Alpaca sample and the dev/ sets of ../shared/data with
reworded copies): matching real text against real benchmarks needs real words, and
real records are longer and harder for the rules than synthetic ones.

The pipeline runs in a child process so that its peak resident memory
(``VmHWM``) is its own, not the benchmark's. Targets are printed PASS or
MISS; the exit status does not depend on them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import polars as pl

from pipeline import columns as C
from pipeline.real_data import SHARED_DATA, real_data_present, real_records
from pipeline.synthetic import recase, repunctuate, respace, make_corpus, write_jsonl

DEDUP_REASONS = ("exact_duplicate", "near_duplicate", "conflicting_output")
MEMORY_ROWS = (100_000, 1_000_000)  # the memory section's corpus sizes
MEMORY_LIMIT_MB = 2.5 * 1024

# ---------------------------------------------------------------- scoring


def score(truth: pl.DataFrame, removed_rows: pl.Series) -> dict:
    """Precision and recall of dedup against the planted groups.

    A group of k rows should lose exactly k - 1. Removing more than that from a
    group (none of it survives) removed a unique row; removing fewer missed
    duplicates. ``removed_rows`` are the ``row`` numbers dedup removed.
    """
    marked = truth.with_columns(pl.col("row").is_in(removed_rows.implode()).alias("removed"))
    groups = marked.group_by("group").agg(size=pl.len(), removed=pl.col("removed").sum(), template=(pl.col("kind") == "template").any())
    expected = groups.select((pl.col("size") - 1).sum()).item()
    correct = groups.select(pl.min_horizontal(pl.col("removed"), pl.col("size") - 1).sum()).item()
    removed = groups.select(pl.col("removed").sum()).item()
    lost = groups.filter(pl.col("removed") >= pl.col("size"))
    return {
        "planted_duplicates": int(expected),
        "removed": int(removed),
        "correctly_removed": int(correct),
        "precision": correct / removed if removed else 1.0,
        "recall": correct / expected if expected else 1.0,
        "unique_rows_removed": lost.height,
        "templated_rows": int(marked.filter(pl.col("kind") == "template").height),
        "templated_rows_removed": int(marked.filter((pl.col("kind") == "template") & pl.col("removed")).height),
    }


def removed_by_dedup(out: Path) -> pl.DataFrame:
    """``_row`` and dedup reason of the rows a finished run rejected as duplicates."""
    rejected = pl.read_parquet(out / "rejected")
    reasons = pl.col(C.REASONS).list.eval(pl.element().filter(pl.element().is_in(list(DEDUP_REASONS)))).list.first()
    return rejected.select(pl.col(C.ROW).alias("row"), reasons.alias("reason")).drop_nulls("reason")


# ---------------------------------------------------------------- child processes


def _peak_mb() -> float:
    """This process's peak resident memory, in MB.

    ``VmHWM`` belongs to the process's own address space, which ``exec`` starts
    afresh. ``ru_maxrss`` is not used where ``VmHWM`` exists: Linux carries it
    over from the parent at fork, so a child of a large benchmark process would
    report at least the parent's size.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(argv: list[str], checkout: Path | None = None) -> dict:
    """Run ``python -m pipeline.bench --child ...`` and return the JSON it prints;
    with ``checkout``, that checkout's code (first on the path) with this environment."""
    environment = None
    if checkout is not None:
        environment = {**os.environ, "PYTHONPATH": str(checkout), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-m", "pipeline.bench", "--child", *argv], capture_output=True, text=True,
                          cwd=checkout, env=environment)
    if done.returncode != 0:
        raise RuntimeError(f"bench child {argv} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def child_main(argv: list[str]) -> None:
    started = time.perf_counter()
    from pipeline.config import Config
    from pipeline.engines.local import run

    if argv[0] == "idle":
        print(json.dumps({"peak_mb": _peak_mb()}))
        return
    if argv[0] == "refresh":
        from pipeline.engines.refresh import refresh

        ran = time.perf_counter()
        outcome = refresh(argv[1:-1], argv[-1], Config(), quiet=True)
        print(json.dumps({"pipeline_s": time.perf_counter() - ran, "peak_mb": _peak_mb(),
                          "counts": outcome.report["counts"] if outcome.report else None,
                          "refresh": outcome.report["refresh"] if outcome.report else None}))
        return
    if argv[0] == "rules":
        frame, context = rules_input(Path(argv[1]))
        print(json.dumps({"rows": frame.height, "rules_s": time_each_rule(frame, context)}))
        return
    corpus, out, benchmarks = argv[1], argv[2], argv[3:]
    ran, cpu_before = time.perf_counter(), _cpu_seconds()
    if argv[0] == "run-ray":
        from pipeline.engines.ray import run_ray

        report = run_ray([corpus], out, Config(), quiet=True)
    else:
        report = run([corpus], out, Config().with_benchmarks(benchmarks), quiet=True)
    print(json.dumps({
        "timings_s": report["timings_s"],
        "pipeline_s": time.perf_counter() - ran,
        "pipeline_cpu_s": _cpu_seconds() - cpu_before,
        "process_s": time.perf_counter() - started,
        "peak_mb": _peak_mb(),
        "dedup": report.get("dedup", {}).get("rows_removed"),
        "counts": report["counts"],
        "rejected_by_reason": report["rejected_by_reason"],
    }))


# ---------------------------------------------------------------- the real-text corpus

BENCHMARK_FILES = ("benchmarks/alpaca_eval_davinci003.json", "benchmarks/humaneval.jsonl.gz", "dev/gsm8k_test.jsonl")
_LEAD_INS = ["Please ", "Task: ", "Kindly ", "Now, ", "Question: "]


def _reworded(record: dict, rng: random.Random) -> dict:
    """A near copy: one or two edits of the kinds real near duplicates show (a
    lead-in, case, spacing, end punctuation, two words swapped, a word dropped)."""
    copy = dict(record)
    for _ in range(rng.choice([1, 2])):
        name = rng.choice(["instruction", "instruction", "output"])
        text = copy[name]
        words = text.split(" ")
        edit = rng.choice(["lead-in", "case", "space", "punctuation", "swap", "drop"])
        if edit == "lead-in":
            text = rng.choice(_LEAD_INS) + text[:1].lower() + text[1:]
        elif edit == "case":
            text = recase(text, rng)
        elif edit == "space" and text:
            text = respace(text, rng)
        elif edit == "punctuation":
            text = repunctuate(text, rng)
        elif edit == "swap" and len(words) > 3:
            i = rng.randrange(len(words) - 1)
            words[i], words[i + 1] = words[i + 1], words[i]
            text = " ".join(words)
        elif edit == "drop" and len(words) > 3:
            del words[rng.randrange(len(words))]
            text = " ".join(words)
        copy[name] = text
    return copy


def real_text_corpus(out: Path, data: Path = SHARED_DATA, least_rows: int = 60_000,
                     least_bytes: int = 50_000_000, seed: int = 0) -> Path | None:
    """Write a corpus of real text built from ``data`` (None when it is absent):
    every real record once, then reworded copies of all of them (so it holds near
    duplicates) until it has at least ``least_rows`` rows and ``least_bytes`` bytes
    of JSONL; rows shuffled with ``seed``. Reused by every real-text section."""
    if not real_data_present(data):
        return None
    base = real_records(data)
    base_bytes = sum(len(json.dumps(r, ensure_ascii=False).encode()) + 1 for r in base)
    copies = max(-(-least_rows // len(base)), -(-least_bytes // base_bytes))
    rng = random.Random(seed)
    records = list(base) + [_reworded(record, rng) for _ in range(copies - 1) for record in base]
    rng.shuffle(records)
    return write_jsonl(records, out)


# ---------------------------------------------------------------- one stage, one rule at a time


def rules_input(corpus: Path) -> tuple[pl.DataFrame, "Context"]:
    """The rules stage's input frame for ``corpus`` and the context it runs with
    (corpus-wide length statistics settled): every stage before it, on one batch."""
    from pipeline.config import Config
    from pipeline.engines.local import StageTimer, read_sources
    from pipeline.flow import STAGES, Context, stages_before

    frame, _, _ = read_sources([str(corpus)], StageTimer(quiet=True))
    context = Context(Config())
    for stage in stages_before("rules"):
        frame = stage.apply(frame, context)
    rules_stage = next(stage for stage in STAGES if stage.name == "rules")
    return frame, rules_stage.settled(context, [rules_stage.needs.part(frame)])


def _cpu_seconds() -> float:
    """CPU seconds (user and system, every thread) this process has used so far."""
    times = os.times()
    return times.user + times.system


def time_each_rule(frame: pl.DataFrame, context: "Context") -> dict[str, tuple[float, float]]:
    """(wall, CPU) seconds of each active rule alone on ``frame`` (its column
    computed and collected); run it in a fresh process, so that no rule finds
    another's caches warm. CPU time says more than wall time on a shared machine."""
    from rules import RULES

    config = context.config
    seconds = {}
    for name in config.active_rules():
        started, cpu = time.perf_counter(), _cpu_seconds()
        frame.lazy().select(RULES[name].expr(config.rules)).collect()
        seconds[name] = (time.perf_counter() - started, _cpu_seconds() - cpu)
    return seconds


# ---------------------------------------------------------------- sections


@dataclass
class Bench:
    rows: int
    workdir: Path
    corpus: Path | None = None
    truth: pl.DataFrame | None = None
    results: dict[str, dict] = field(default_factory=dict)
    targets: list[tuple[str, bool, str]] = field(default_factory=list)
    refresh_rows: int = 55_000
    memory_rows: tuple[int, ...] = MEMORY_ROWS
    baseline: Path | None = None  # a checkout whose pipeline the memory section also measures

    def target(self, name: str, met: bool, figure: str) -> None:
        self.targets.append((name, met, figure))

    def ensure_corpus(self) -> None:
        if self.corpus is None:
            corpus_section(self)


def say(line: str = "") -> None:
    print(line, flush=True)


def corpus_section(bench: Bench) -> dict:
    started = time.perf_counter()
    records, truth = make_corpus(bench.rows)
    bench.corpus = write_jsonl(records, bench.workdir / f"corpus_{bench.rows}.jsonl")
    bench.truth = truth
    kinds = dict(truth.group_by("kind").len().sort("kind").iter_rows())
    say(f"  {bench.rows:,} records -> {bench.corpus} ({time.perf_counter() - started:.1f} s)")
    say("  " + ", ".join(f"{kind} {n:,}" for kind, n in kinds.items()))
    return {"rows": bench.rows, "kinds": kinds}


def pipeline_section(bench: Bench) -> dict:
    bench.ensure_corpus()
    idle = _child(["idle"])
    result = _child(["run", str(bench.corpus), str(bench.workdir / "out")])
    for name, seconds in result["timings_s"].items():
        if name != "total":
            say(f"  {name:<12} {seconds:7.2f} s")
    total = result["timings_s"]["total"]
    say(f"  {'total':<12} {total:7.2f} s   ({bench.rows / total:,.0f} rows/s; process with imports {result['process_s']:.2f} s)")
    say(f"  peak memory  {result['peak_mb']:7.0f} MB  (an idle interpreter with the pipeline imported: {idle['peak_mb']:.0f} MB)")
    bench.target(f"whole pipeline on {bench.rows:,} rows <= 10 s", total <= 10, f"{total:.2f} s")
    bench.target("peak memory < 2 GB", result["peak_mb"] < 2048, f"{result['peak_mb']:.0f} MB")
    dedup_s = result["timings_s"].get("dedup", float("nan"))
    bench.target("dedup stage <= 2.5 s", dedup_s <= 2.5, f"{dedup_s:.2f} s")
    return result


def _shingle_strings(record: dict, n: int) -> list[bytes]:
    """The shingles the pipeline hashes, as strings, the way a plain datasketch user builds them."""
    shingles = []
    for name in C.FIELDS:
        words = re.findall(r"\w+", record[name].lower())
        if words:
            shingles += [f"{name}:{' '.join(words[i:i + n])}".encode() for i in range(max(len(words) - n + 1, 1))]
    return shingles


def minhash_section(bench: Bench) -> dict:
    """Signatures for every record, against datasketch's per-record update loop
    timed on a subset of the same records (extrapolated per row)."""
    from datasketch import MinHash

    from pipeline.dedup import minhash
    from pipeline.config import DedupConfig

    bench.ensure_corpus()
    config = DedupConfig()
    frame = pl.read_ndjson(bench.corpus)
    started = time.perf_counter()
    shingles, _ = minhash.record_shingles(frame, C.FIELDS, config.ngram)
    minhash.signatures(shingles, config.num_perm, config.seed)
    ours = time.perf_counter() - started
    ours_rate = frame.height / ours

    subset = frame.head(min(3000, frame.height)).to_dicts()
    permutations = MinHash(num_perm=config.num_perm, seed=config.seed).permutations
    started = time.perf_counter()
    for record in subset:
        sketch = MinHash(num_perm=config.num_perm, seed=config.seed, permutations=permutations, scheme="affine32")
        for shingle in _shingle_strings(record, config.ngram):
            sketch.update(shingle)
    loop_rate = len(subset) / (time.perf_counter() - started)
    started = time.perf_counter()
    for record in subset:
        sketch = MinHash(num_perm=config.num_perm, seed=config.seed, permutations=permutations, scheme="affine32")
        sketch.update_batch(_shingle_strings(record, config.ngram))
    batch_rate = len(subset) / (time.perf_counter() - started)

    say(f"  vectorised (tokens, shingles, {config.num_perm} permutations), all {frame.height:,} rows: {ours:.2f} s, {ours_rate:,.0f} rows/s")
    say(f"  datasketch MinHash.update per shingle, first {len(subset):,} rows: {loop_rate:,.0f} rows/s "
        f"(all rows would take ~{frame.height / loop_rate:.0f} s)")
    say(f"  datasketch MinHash.update_batch per record, same rows:   {batch_rate:,.0f} rows/s")
    say(f"  speed-up: {ours_rate / loop_rate:.1f}x over the update loop, {ours_rate / batch_rate:.1f}x over update_batch")
    bench.target("MinHash signatures >= 10x datasketch update loop", ours_rate >= 10 * loop_rate, f"{ours_rate / loop_rate:.1f}x")
    return {"rows_per_s": ours_rate, "baseline_rows_per_s": loop_rate, "update_batch_rows_per_s": batch_rate}


def quality_section(bench: Bench) -> dict:
    out = bench.workdir / "out"
    if "pipeline" not in bench.results:
        bench.results["pipeline"] = pipeline_section(bench)
    removed = removed_by_dedup(out)
    result = score(bench.truth, removed.get_column("row"))
    say(f"  planted duplicates {result['planted_duplicates']:,}; removed {result['removed']:,}, "
        f"of them correctly {result['correctly_removed']:,}")
    say(f"  precision {result['precision']:.4f}   recall {result['recall']:.4f}   "
        f"unique rows removed {result['unique_rows_removed']}")
    say(f"  templated-but-different rows kept: {result['templated_rows'] - result['templated_rows_removed']:,} "
        f"of {result['templated_rows']:,}")
    confusion = bench.truth.join(removed, on="row", how="left").group_by("kind", "reason").len().sort("kind", "reason")
    for kind, reason, count in confusion.iter_rows():
        say(f"    {kind:<12} -> {reason or 'kept':<20} {count:7,}")
    bench.target("recall >= 0.99", result["recall"] >= 0.99, f"{result['recall']:.4f}")
    bench.target("no unique row removed", result["unique_rows_removed"] == 0, f"{result['unique_rows_removed']}")
    bench.target("templated-but-different tasks kept", result["templated_rows_removed"] == 0,
                 f"{result['templated_rows_removed']} removed")
    return result


def memory_section(bench: Bench) -> dict:
    """Peak memory and wall time of the whole pipeline at each of ``--memory-rows``;
    with ``--baseline DIR``, also of the pipeline of the checkout in DIR on the same
    corpus, in the same invocation (the machine may be shared: compare these two)."""
    idle = _child(["idle"])["peak_mb"]
    measured = {}
    for rows in bench.memory_rows:
        records, _ = make_corpus(rows)
        corpus = write_jsonl(records, bench.workdir / f"scaling_{rows}.jsonl").resolve()
        del records
        result = _child(["run", str(corpus), str((bench.workdir / f"out_{rows}").resolve())])
        measured[rows] = {"peak_mb": result["peak_mb"], "wall_s": result["pipeline_s"]}
        say(f"  {rows:>9,} rows: peak {result['peak_mb']:6.0f} MB, wall {result['pipeline_s']:6.1f} s "
            f"(idle process: {idle:.0f} MB)")
        if bench.baseline is not None:
            base = _child(["run", str(corpus), str((bench.workdir / f"baseline_out_{rows}").resolve())], checkout=bench.baseline)
            measured[rows]["baseline"] = {"peak_mb": base["peak_mb"], "wall_s": base["pipeline_s"]}
            say(f"  {'':>9} baseline ({bench.baseline}): peak {base['peak_mb']:6.0f} MB, wall {base['pipeline_s']:6.1f} s")
    small, large = min(measured), max(measured)
    bench.target(f"peak memory at {large:,} rows <= 2.5 GiB", measured[large]["peak_mb"] <= MEMORY_LIMIT_MB,
                 f"{measured[large]['peak_mb']:.0f} MB")
    growth = measured[large]["peak_mb"] / measured[small]["peak_mb"]
    bench.target(f"memory growth {small:,} -> {large:,} rows under 2x", growth < 2, f"{growth:.2f}x")
    if bench.baseline is not None:
        ours, theirs = measured[large]["wall_s"], measured[large]["baseline"]["wall_s"]
        bench.target(f"wall at {large:,} rows no worse than the baseline", ours <= theirs, f"{ours:.1f} s vs {theirs:.1f} s")
    return measured


def refresh_section(bench: Bench) -> dict:
    """A refresh adding a batch (1/11 of ``--refresh-rows``) to a state holding the
    rest, against a full run over all of them. The new batch is the corpus's tail, so
    it holds planted copies of rows already in the state, as a real new batch would."""
    import shutil

    total = bench.refresh_rows
    new_rows = total // 11
    records, truth = make_corpus(total, seed=11)
    base = write_jsonl(records[:-new_rows], bench.workdir / f"refresh_base_{total - new_rows}.jsonl")
    batch = write_jsonl(records[-new_rows:], bench.workdir / f"refresh_new_{new_rows}.jsonl")
    everything = write_jsonl(records, bench.workdir / f"refresh_all_{total}.jsonl")
    state = bench.workdir / "refresh_state"
    shutil.rmtree(state, ignore_errors=True)
    built = _child(["refresh", str(base), str(state)])
    added = _child(["refresh", str(batch), str(state)])
    full = _child(["run", str(everything), str(bench.workdir / "refresh_full")])
    ratio = full["pipeline_s"] / added["pipeline_s"]
    say(f"  state of {total - new_rows:,} rows built by a first refresh: {built['pipeline_s']:.2f} s")
    say(f"  refresh adding {new_rows:,} rows: {added['pipeline_s']:.2f} s "
        f"({added['refresh']['rows_added']:,} added, {added['refresh']['duplicates_of_previous']:,} duplicates of the state)")
    say(f"  full run over all {total:,} rows: {full['pipeline_s']:.2f} s   ({ratio:.1f}x the refresh)")
    # Planted duplicate groups: one row of each should be left in clean/, both ways.
    version = (state / "CURRENT").read_text().strip()
    offset = pl.when(pl.col(C.SOURCE) == str(batch)).then(total - new_rows).otherwise(0)
    kept = {
        "refresh": pl.read_parquet(state / "versions" / version / "clean").select((pl.col(C.ROW) + offset).alias("row")),
        "full": pl.read_parquet(bench.workdir / "refresh_full" / "clean").select(pl.col(C.ROW).alias("row")),
    }
    groups = truth.filter(pl.len().over("group") > 1)
    left = {name: groups.join(rows, on="row", how="semi").group_by("group").len().select((pl.col("len") - 1).sum()).item()
            for name, rows in kept.items()}
    say(f"  planted duplicates left in clean: refresh {left['refresh']:,}, full run {left['full']:,} "
        f"(of {groups.height - groups.get_column('group').n_unique():,} planted)")
    bench.target(f"refresh of {new_rows:,} rows faster than a full run of {total:,}", ratio > 1, f"{ratio:.1f}x")
    return {"state_s": built["pipeline_s"], "refresh_s": added["pipeline_s"], "full_s": full["pipeline_s"], "ratio": ratio,
            "duplicates_left_by_refresh": left["refresh"], "duplicates_left_by_full_run": left["full"]}


def train_section(bench: Bench) -> dict:
    """Real tokens/s of `curate train` against TRL's SFTTrainer on the curated sample (train.bench)."""
    from pipeline.config import load_config
    from pipeline.engines.local import run
    from train.bench import bench_training

    curated = bench.workdir / "train_sample"
    if not (curated / "manifest.json").is_file():
        run([str(Path(__file__).resolve().parents[1] / "data" / "sample")], str(curated), load_config(None), quiet=True)
    results = bench_training(curated / "clean")
    if results:
        bench.target("curate train tokens/s >= TRL SFTTrainer's", results["ratio"] >= 1, f"{results['ratio']:.2f}x")
    return results


def _rows_per_second(engine: str, corpus: Path, out: Path, rows: int) -> tuple[float, float]:
    """(seconds for the whole run, rows/s) of one engine in a child process; for
    Ray the run includes starting and stopping the local two-CPU instance."""
    seconds = _child([engine, str(corpus), str(out)])["pipeline_s"]
    return seconds, rows / seconds


def ray_section(bench: Bench) -> dict:
    """The Ray engine on a local two-CPU instance against the local engine, on
    the same corpus and on a quarter of it; a straight line through the two
    sizes gives each engine's fixed cost and cost per row, hence the size from
    which Ray would pay off on this machine."""
    try:
        import ray  # noqa: F401
    except ImportError:
        say("  skipped: Ray is not installed (pip install '.[ray]')")
        return {}
    bench.ensure_corpus()
    quarter = bench.rows // 4
    small = write_jsonl(make_corpus(quarter)[0], bench.workdir / f"ray_{quarter}.jsonl")
    measured = {}
    for engine in ("run", "run-ray"):
        for rows, corpus in ((quarter, small), (bench.rows, bench.corpus)):
            measured[engine, rows] = _rows_per_second(engine, corpus, bench.workdir / f"out_{engine}_{rows}", rows)
    names = {"run": "local", "run-ray": "ray (2 local workers)"}
    for (engine, rows), (seconds, speed) in measured.items():
        say(f"  {names[engine]:<22} {rows:>7,} rows  {seconds:7.2f} s  {speed:9,.0f} rows/s")
    ratio = measured["run-ray", bench.rows][1] / measured["run", bench.rows][1]
    say(f"  ray / local at {bench.rows:,} rows: {ratio:.2f}x the throughput")
    lines = {}
    for engine in ("run", "run-ray"):
        (t_small, _), (t_full, _) = measured[engine, quarter], measured[engine, bench.rows]
        per_row = (t_full - t_small) / (bench.rows - quarter)
        lines[engine] = (t_small - per_row * quarter, per_row)
        say(f"  {names[engine]:<22} fixed {lines[engine][0]:6.2f} s + {per_row * 1e6:7.1f} s per million rows")
    (local_fixed, local_per_row), (ray_fixed, ray_per_row) = lines["run"], lines["run-ray"]
    if ray_per_row < local_per_row:
        even = (ray_fixed - local_fixed) / (local_per_row - ray_per_row)
        say(f"  on this machine Ray pays off from about {max(even, 0):,.0f} rows")
    else:
        say("  on this machine Ray never pays off: its cost per row is not below the local engine's")
    say("  why: much of the local engine already uses both cores (Polars is multi-threaded), so two Ray workers on the")
    say("  same two cores add no compute; Ray adds its start-up (the local instance and worker imports), Arrow")
    say("  serialisation through the object store, a second read of the inputs, and per-stage shuffles. Ray")
    say("  pays off when the workers are on more machines than one (more cores and memory than one host has),")
    say("  and the fixed cost above is then spread over tens of millions of rows.")
    return {"ratio": ratio, "lines": {names[e]: v for e, v in lines.items()}}


def _decontamination_step(corpus: Path, benchmarks: list[str]) -> dict:
    """Seconds of the decontamination step alone on the validated corpus: hashing
    the benchmarks (what a cold cache costs) and marking the rows (cache warm)."""
    from pipeline.config import Config
    from pipeline.flow import Context
    from pipeline.stages import decontaminate as D
    from pipeline.stages.load import load_records
    from pipeline.stages.validate import validate

    frame = validate(load_records([str(corpus)], say=lambda _: None))[0].collect()
    config = Config().with_benchmarks(benchmarks)
    started = time.perf_counter()
    for path in benchmarks:
        D._tables(D.benchmark_texts(Path(path)), config.decontamination)
    hashing = time.perf_counter() - started
    D.benchmarks_for(config.decontamination)  # fills the on-disk cache if it is cold
    runs = []
    for _ in range(2):
        started = time.perf_counter()
        marked = D.mark_benchmark_overlap(frame.lazy(), Context(config)).collect()
        runs.append(time.perf_counter() - started)
    return {"rows": frame.height, "hash_benchmarks_s": hashing, "mark_s": min(runs),
            "matched": marked.get_column(C.BENCHMARK).is_not_null().sum(),
            "text_mb": sum(frame.get_column(f).str.len_bytes().sum() for f in C.FIELDS) / 1e6}


def decontamination_section(bench: Bench) -> dict:
    """The decontamination step's speed on the real-text corpus against the three
    benchmark files of ../shared/data, and the whole pipeline with and without it
    (each twice, alternating, best of two: the machine is shared)."""
    benchmarks = [str(SHARED_DATA / name) for name in BENCHMARK_FILES]
    corpus = bench.workdir / "real_text.jsonl"
    if not all(Path(b).exists() for b in benchmarks) or real_text_corpus(corpus) is None:
        say(f"  skipped: the real data is not present ({SHARED_DATA})")
        return {}
    size_mb = corpus.stat().st_size / 1e6
    step = _decontamination_step(corpus, benchmarks)
    say(f"  corpus {corpus}: {step['rows']:,} rows, {size_mb:.1f} MB JSONL, {step['text_mb']:.1f} MB of field text")
    say(f"  hashing the three benchmarks (cold cache)      {step['hash_benchmarks_s']:7.2f} s")
    say(f"  decontamination step (warm cache)              {step['mark_s']:7.2f} s   "
        f"({step['rows'] / step['mark_s']:,.0f} rows/s, {step['text_mb'] / step['mark_s']:.1f} MB/s; {step['matched']:,} rows matched)")
    seconds: dict[str, list[float]] = {"without": [], "with": []}
    results = {}
    for _ in range(2):
        for kind, extra in (("without", []), ("with", benchmarks)):
            results[kind] = _child(["run", str(corpus), str(bench.workdir / f"out_real_{kind}"), *extra])
            seconds[kind].append(results[kind]["timings_s"]["total"])
    without, with_ = min(seconds["without"]), min(seconds["with"])
    ratio = with_ / without
    say(f"  whole pipeline without decontamination         {without:7.2f} s   (runs: {', '.join(f'{s:.2f}' for s in seconds['without'])})")
    say(f"  whole pipeline with the three benchmarks       {with_:7.2f} s   (runs: {', '.join(f'{s:.2f}' for s in seconds['with'])}; "
        f"stage {results['with']['timings_s'].get('decontaminate', float('nan')):.2f} s)")
    say(f"  with / without: {ratio:.3f} ({(ratio - 1) * 100:+.1f} %); rejected as benchmark_overlap: "
        f"{results['with']['rejected_by_reason'].get('benchmark_overlap', 0):,}")
    bench.target("decontamination costs <= 15 % more time (real text)", ratio <= 1.15, f"{(ratio - 1) * 100:+.1f} %")
    return {"step": step, "without_s": seconds["without"], "with_s": seconds["with"], "ratio": ratio}


REAL_TEXT_TARGET_S = 8.0
REAL_TEXT_FLOOR_RATIO = 8.0
REAL_TEXT_PEAK_MB = 1024.0
REPORT_SHARE = 0.05


def io_floor(corpus: Path, out: Path) -> float:
    """Seconds to read the JSONL corpus and write it back as Parquet (the shards'
    codec): what any tool must spend on it; best of two (the machine may be shared)."""
    from pipeline.config import OutputConfig

    runs = []
    for _ in range(2):
        started = time.perf_counter()
        pl.read_ndjson(corpus).write_parquet(out, compression=OutputConfig().compression)
        runs.append(time.perf_counter() - started)
    return min(runs)


def real_text_section(bench: Bench) -> dict:
    """The whole pipeline on real instruction text (``real_text_corpus``), in a
    child process, twice (the faster run's figures, the larger peak): per-stage
    and per-rule times (each active rule alone, on the rules stage's input, in
    another child), throughput, peak memory, and the ratio to the I/O floor
    measured here just before."""
    corpus = bench.workdir / "real_text.jsonl"
    started = time.perf_counter()
    if real_text_corpus(corpus, data=SHARED_DATA) is None:
        say(f"  skipped: the real data is not present ({SHARED_DATA})")
        return {}
    size_mb = corpus.stat().st_size / 1e6
    say(f"  corpus {corpus}: {size_mb:.1f} MB JSONL (built in {time.perf_counter() - started:.1f} s)")
    floor = io_floor(corpus, bench.workdir / "real_text_floor.parquet")
    # Best of two, like the floor: on a shared machine one run's total swings by seconds.
    runs = [_child(["run", str(corpus.resolve()), str((bench.workdir / "out_real_text").resolve())]) for _ in range(2)]
    result = min(runs, key=lambda run: run["timings_s"]["total"])
    timings = result["timings_s"]
    rows = result["counts"]["rows_in"]
    total = timings["total"]
    for name, seconds in timings.items():
        if name != "total":
            say(f"  {name:<14} {seconds:7.2f} s  {seconds / total:6.1%}")
    totals = ", ".join(f"{run['timings_s']['total']:.2f}" for run in runs)
    say(f"  {'total':<14} {total:7.2f} s   {rows:,} rows: {rows / total:,.0f} rows/s, {size_mb / total:.1f} MB/s "
        f"(process with imports {result['process_s']:.2f} s; the faster of runs of {totals} s)")
    say(f"  CPU {result['pipeline_cpu_s']:.2f} s over {result['pipeline_s']:.2f} s of wall: "
        f"{result['pipeline_cpu_s'] / result['pipeline_s']:.2f} of {os.cpu_count()} cores busy on average")
    say(f"  I/O floor (read the JSONL, write it as Parquet) {floor:.2f} s: the pipeline takes {total / floor:.1f}x that")
    peak_mb = max(run["peak_mb"] for run in runs)
    say(f"  peak memory {peak_mb:.0f} MB (the larger of the two runs')")
    rules = _child(["rules", str(corpus.resolve())])["rules_s"]
    say(f"  each rule alone on the rules stage's input ({rows:,} rows): wall, CPU")
    for name, (wall, cpu) in sorted(rules.items(), key=lambda item: -item[1][0]):
        say(f"    {name:<28} {wall:7.2f} s {cpu:7.2f} s")
    report_share = timings.get("report", float("nan")) / total
    bench.target(f"real text: whole pipeline <= {REAL_TEXT_TARGET_S:.0f} s", total <= REAL_TEXT_TARGET_S, f"{total:.2f} s")
    bench.target(f"real text: <= {REAL_TEXT_FLOOR_RATIO:.0f}x the I/O floor", total <= REAL_TEXT_FLOOR_RATIO * floor,
                 f"{total / floor:.1f}x")
    bench.target("real text: peak memory <= 1 GiB", peak_mb <= REAL_TEXT_PEAK_MB, f"{peak_mb:.0f} MB")
    bench.target(f"real text: report < {REPORT_SHARE:.0%} of the run", report_share < REPORT_SHARE, f"{report_share:.1%}")
    return {"rows": rows, "mb": size_mb, "floor_s": floor, "timings_s": timings, "peak_mb": peak_mb,
            "cpu_s": result["pipeline_cpu_s"], "rules_s": rules}


Section = Callable[[Bench], dict]
SECTIONS: list[tuple[str, Section]] = [
    ("corpus", corpus_section),
    ("pipeline", pipeline_section),
    ("minhash", minhash_section),
    ("dedup quality", quality_section),
    ("memory scaling", memory_section),
    ("refresh", refresh_section),
    ("train", train_section),
    ("ray", ray_section),
    ("decontamination", decontamination_section),
    ("real text", real_text_section),
]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        child_main(argv[1:])
        return 0
    parser = argparse.ArgumentParser(prog="python -m pipeline.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=52_000, help="corpus size (default 52,000)")
    parser.add_argument("--workdir", type=Path, default=Path("data/bench"), help="where corpora and outputs go")
    parser.add_argument("--only", nargs="*", choices=[name for name, _ in SECTIONS], help="run these sections only")
    parser.add_argument("--refresh-rows", type=int, default=55_000,
                        help="refresh section: state plus new batch (1/11 of it), default 55,000")
    parser.add_argument("--memory-rows", type=int, nargs="+", default=list(MEMORY_ROWS),
                        help="memory section: corpus sizes (default 100,000 and 1,000,000)")
    parser.add_argument("--baseline", type=Path, metavar="DIR",
                        help="memory section: also run the pipeline of the checkout in DIR (e.g. a `git worktree` of main)")
    options = parser.parse_args(argv)
    bench = Bench(rows=options.rows, workdir=options.workdir, refresh_rows=options.refresh_rows,
                  memory_rows=tuple(options.memory_rows), baseline=options.baseline.resolve() if options.baseline else None)
    for name, section in SECTIONS:
        if options.only and name not in options.only:
            continue
        say(f"== {name}")
        bench.results[name] = section(bench)
    say("== targets")
    for name, met, figure in bench.targets:
        say(f"  {'PASS' if met else 'MISS'}  {name:<50} {figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
