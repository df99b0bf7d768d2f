"""``make eval``: how far to trust each rule, measured by reading real data.

Runs the pipeline through its command line (``curate run FILE --out DIR``) on every
dataset in ``../shared/data`` (``alpaca_5000.json`` and ``dev/``), reads back which
rows each rule fired on (``_reasons`` in rejected/, ``_flags`` in both), and compares
them with the labels under ``labels/``: one line per (dataset, row, rule) written by
a person who read the row (``right``: the row has the problem the rule names;
``wrong``: it does not). Prints per dataset and per rule: rows fired, labels read,
right, precision; writes the pooled figures to ``rules/precision.json``, which the
report shows next to each rule.

Labels are about the row, not about one version of a rule: a label for ``refusal``
also counts for ``refusal_v2`` (the versioned rule judges the same defect). Fired
rows without a label are counted as unread, never as right.

Clean rows read for misses carry the rule ``-`` (``ok``: nothing missed) or the rule
that should have fired (``miss``); they do not enter precision.

Skips with a message (exit 0) when ``../shared/data`` is absent.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
LABELS = ROOT / "labels"
SUMMARY = ROOT / "rules" / "precision.json"
LABEL_FIELDS = ("dataset", "row", "rule", "verdict", "note")
VERDICTS = ("right", "wrong", "ok", "miss")


def datasets(data: Path = DATA) -> dict[str, Path]:
    """Dataset name (file name without extensions) -> path: alpaca_5000 and every file of dev/."""
    files = [data / "alpaca_5000.json", *sorted((data / "dev").iterdir())]
    return {path.name.split(".")[0]: path for path in files if path.is_file()}




def curate(source: Path, out: Path) -> None:
    """``curate run SOURCE --out OUT`` as a user would type it: the shape of each
    dataset (GPTeacher, question/answer, prompt/completion) is detected by the CLI,
    and ``_row`` indexes the source file."""
    script = Path(sys.executable).with_name("curate")
    program = [str(script)] if script.exists() else [sys.executable, "-m", "pipeline.cli"]
    command = [*program, "run", str(source), "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"eval: curate failed on {source}: {done.stderr.strip()}")


def _shards(out: Path, part: str) -> pl.DataFrame:
    files = sorted((out / part).glob("*.parquet"))
    return pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed") if files else pl.DataFrame()


def fired(out: Path) -> pl.DataFrame:
    """(row, rule, severity) for every rule that fired on a row of a finished run."""
    parts = []
    for part, column, severity in (("rejected", "_reasons", "drop"), ("rejected", "_flags", "flag"), ("clean", "_flags", "flag")):
        frame = _shards(out, part)
        if frame.is_empty() or column not in frame.columns:
            continue
        parts.append(
            frame.select(pl.col("_row").cast(pl.Int64).alias("row"), pl.col(column).alias("rule"))
            .explode("rule")
            .drop_nulls("rule")
            .with_columns(pl.lit(severity).alias("severity"))
        )
    if not parts:
        return pl.DataFrame(schema={"row": pl.Int64, "rule": pl.String, "severity": pl.String})
    return pl.concat(parts).unique().sort("rule", "row")


def base_rule(name: str) -> str:
    """``refusal_v2`` -> ``refusal``: labels judge the defect, which versions share."""
    head, _, tail = name.rpartition("_v")
    return head if head and tail.isdigit() else name


def read_labels(folder: Path = LABELS) -> pl.DataFrame:
    """Every label file (CSV with the columns ``LABEL_FIELDS``) in ``folder``."""
    rows = []
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for line, record in enumerate(csv.DictReader(handle), start=2):
                if record.get("verdict") not in VERDICTS:
                    raise SystemExit(f"eval: {path.name}:{line}: verdict must be one of {VERDICTS}")
                rows.append({k: record[k] for k in LABEL_FIELDS} | {"row": int(record["row"])})
    schema = {"dataset": pl.String, "row": pl.Int64, "rule": pl.String, "verdict": pl.String, "note": pl.String}
    return pl.DataFrame(rows, schema=schema)


@dataclass
class Line:
    dataset: str
    rule: str
    severity: str
    fired: int
    read: int
    right: int

    @property
    def precision(self) -> float | None:
        return self.right / self.read if self.read else None


def score(dataset: str, hits: pl.DataFrame, labels: pl.DataFrame) -> list[Line]:
    """One line per rule that fired: fired rows, how many of them carry a label, how many are right."""
    judged = labels.filter(pl.col("dataset") == dataset, pl.col("verdict").is_in(["right", "wrong"]))
    judged = judged.unique(["row", "rule"], keep="last")
    lines = []
    for (name, severity), group in hits.group_by("rule", "severity", maintain_order=True):
        read = group.join(judged.filter(pl.col("rule") == base_rule(name)), on="row", how="inner")
        right = int((read.get_column("verdict") == "right").sum())
        lines.append(Line(dataset, name, severity, group.height, read.height, right))
    return lines


@dataclass
class Misses:
    read: int  # rows read for misses
    missed: int  # of which a rule should have fired
    caught: int  # of those, rows the rule now fires on
    new_drops: int  # rows read as fine that a drop rule now fires on

    def __str__(self) -> str:
        return (f"{self.read} rows read for misses: {self.missed} should be caught, {self.caught} of them now are; "
                f"{self.new_drops} rows read as fine are now dropped")


def misses(dataset: str, hits: pl.DataFrame, labels: pl.DataFrame) -> Misses:
    """What the rows read for misses say about the rules as they are now."""
    read = labels.filter(pl.col("dataset") == dataset, pl.col("verdict").is_in(["ok", "miss"]))
    fired_on = hits.with_columns(pl.col("rule").map_elements(base_rule, return_dtype=pl.String).alias("base"))
    missed = read.filter(pl.col("verdict") == "miss")
    caught = missed.join(fired_on, left_on=["row", "rule"], right_on=["row", "base"], how="semi")
    fine = read.filter(pl.col("verdict") == "ok")
    new_drops = fine.join(fired_on.filter(pl.col("severity") == "drop"), on="row", how="semi")
    return Misses(read.height, missed.height, caught.height, new_drops.height)


def render(lines: list[Line], missed: dict[str, Misses]) -> str:
    out = [f"{'dataset':<32} {'rule':<28} {'sev':<5} {'fired':>6} {'read':>5} {'right':>5} {'precision':>9}"]
    for line in lines:
        shown = "-" if line.precision is None else f"{line.precision:.0%}"
        out.append(f"{line.dataset:<32} {line.rule:<28} {line.severity:<5} {line.fired:>6} {line.read:>5} {line.right:>5} {shown:>9}")
    for dataset, found in missed.items():
        if found.read:
            out.append(f"{dataset}: {found}")
    return "\n".join(out)


def summary(lines: list[Line]) -> dict:
    """rule -> read, right, precision pooled over datasets, and the per-dataset lines."""
    pooled: dict[str, dict] = {}
    for line in lines:
        if not line.read:
            continue
        entry = pooled.setdefault(line.rule, {"read": 0, "right": 0, "datasets": {}})
        entry["read"] += line.read
        entry["right"] += line.right
        entry["datasets"][line.dataset] = {"fired": line.fired, "read": line.read, "right": line.right}
    for entry in pooled.values():
        entry["precision"] = round(entry["right"] / entry["read"], 4)
    return dict(sorted(pooled.items()))


def evaluate(data: Path, keep: Path | None) -> tuple[list[Line], dict[str, Misses]]:
    labels = read_labels()
    lines, missed = [], {}
    with tempfile.TemporaryDirectory(prefix="curate-eval-") as scratch:
        work = keep or Path(scratch)
        for name, path in datasets(data).items():
            out = work / name
            if not (keep and (out / "report.json").exists()):
                curate(path, out)
            hits = fired(out)
            lines += score(name, hits, labels)
            missed[name] = misses(name, hits, labels)
    return lines, missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder (default ../shared/data)")
    parser.add_argument("--keep", type=Path, help="keep the run outputs in this folder; a dataset already curated there "
                        "is read back, not run again (empty the folder after changing a rule)")
    args = parser.parse_args(argv)
    if not (args.data / "alpaca_5000.json").is_file():
        print(f"eval: skipped, no reference data at {args.data}")
        return 0
    lines, missed = evaluate(args.data, args.keep)
    print(render(lines, missed))
    SUMMARY.write_text(json.dumps(summary(lines), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {SUMMARY.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
