"""Report dictionaries and tiny runs that the report tests render; not a test module."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import Config
from pipeline.engines.local import run
from tests.conftest import write_jsonl


def lineage(n: int, **fields) -> dict:
    return {"_source": "/data/in/alpaca.jsonl", "_row": n, "instruction": "Say hi.", "input": "", "output": "Hi.", **fields}


def full_report(rows_in: int = 1_000, examples: int = 3, languages: int = 20, clusters: int = 8) -> dict:
    """A report with every section a complete run can have, the optional ones included.

    ``examples``, ``languages`` and ``clusters`` let a test inflate the lists the
    way a much larger run would, to check the page does not grow with them.
    """
    quarantined, rejected = rows_in // 100, rows_in // 10
    clean = rows_in - quarantined - rejected
    return {
        "inputs": ["/data/in/alpaca.jsonl"],
        "counts": {"rows_in": rows_in, "clean": clean, "rejected": rejected, "quarantined": quarantined, "reconciled": True},
        "rejected_by_reason": {"mentions_url": rejected // 2, "near_duplicate": rejected - rejected // 2},
        "flagged_by_rule": {"long_output": 7},
        "rules": [
            {"rule": "mentions_url", "severity": "drop", "description": "Refers to a web page.", "count": rejected // 2,
             "share": 0.05, "highlight": r"https?://\S+",
             "examples": [lineage(i, instruction=f"Summarise https://example.com/page{i} <script>alert(1)</script>")
                          for i in range(examples)]},
            {"rule": "long_output", "severity": "flag", "description": "Output is very long.", "count": 7,
             "share": 0.007, "highlight": None, "examples": [lineage(i, output="word " * 200) for i in range(examples)]},
            {"rule": "control_chars", "severity": "drop", "description": "Stray control characters.", "count": 0,
             "share": 0.0, "highlight": r"\p{Cc}", "examples": []},
        ],
        "repairs": {"empty_input_spelling": 64, "invisible_chars_output": 1},
        "quarantine": {
            "count": quarantined,
            "by_error": {"output": quarantined},
            "examples": [{"_source": "/data/in/alpaca.jsonl", "_row": 900 + i, "_raw": '{"output": 5}',
                          "_error": "output: expected a string, got int"} for i in range(max(examples, 10))],
        },
        "lengths": {"unit": "characters", "rows": rows_in - quarantined,
                    "fields": {f: {"p50": 40, "p90": 90, "p99": 300, "max": 2_000, "mean": 51.5}
                               for f in ("instruction", "input", "output", "total")},
                    "histograms": {f: {"edges": [0.0, 1.0, 2.0, 4.0, 8.0, 16.0], "counts": [5, 10, 20, 30, 1]}
                                   for f in ("instruction", "input", "output", "total")}},
        "tokens": {
            "tokenizer": "SmolLM2-135M-Instruct", "max_seq_len": 512,
            "fields": {f: {"p50": 20, "p90": 80, "p99": 400, "max": 1_500, "mean": 31.0}
                       for f in ("instruction", "input", "output", "prompt", "total")},
            "truncated_share": {"256": 0.04, "512": 0.0123, "1024": 0.001, "2048": 0.0},
            "histograms": {f: {"edges": [1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0], "counts": [3, 30, 300, 90, 9, 1]}
                           for f in ("instruction", "input", "output", "total")},
            "outlier_thresholds": {f: {"low": 2.0, "high": 900.0} for f in ("instruction", "input", "output", "total")},
        },
        "languages": {"en": rows_in - 100, "unknown": 40, **{f"l{i:02d}": 1 + i for i in range(languages)}},
        "dedup": {
            "clusters": clusters, "rows_removed": {"exact_duplicate": 10, "near_duplicate": 40, "conflicting_output": 2},
            "cluster_sizes": {"2": clusters - 1, "5": 1}, "config": {"threshold": 0.8, "num_perm": 128},
            "examples": [{"cluster": c, "reason": "near_duplicate",
                          "survivor": lineage(c, output="The capital of France is Paris."),
                          "removed": [{**lineage(c + 1000 + k, output="Paris is the capital of France."), "similarity": 0.86}
                                      for k in range(1 + examples)]}
                         for c in range(clusters)],
        },
        "refresh": {"version": 3, "previous_version": 2, "rows_added": 120, "rejected_by_reason": {"near_duplicate": 9},
                    "duplicates_of_previous": 9, "rows_seen_before": 880},
        "shapes": [{"source": "/data/in/alpaca.jsonl", "shape": "gpteacher", "turns": None, "records": rows_in - 10,
                    "multi_turn": 0, "mapping": {"instruction": "instruction", "input": "input", "output": "response"}},
                   {"source": "/data/in/chat.jsonl.gz", "shape": "sharegpt", "turns": "conversations", "records": 10,
                    "multi_turn": 4, "mapping": {}}],
        "timings_s": {"load": 0.5, "validate": 0.2, "rules": 1.25, "write": 0.1, "total": 2.1},
        "config": {"dedup": {"exact": True}, "severity": {}},
        "versions": {"python": "3.11.7", "curate": "0.1.0"},
    }


def minimal_report() -> dict:
    """What a run without the optional stages writes (tokens, languages, dedup, refresh absent)."""
    report = full_report()
    for key in ("tokens", "languages", "dedup", "refresh", "lengths", "shapes"):
        del report[key]
    return report


def tiny_run(tmp_path: Path, record) -> Path:
    """A run with something in every count: clean rows, a rejected empty output,
    an exact duplicate, and a quarantined line."""
    write_jsonl(tmp_path / "in.jsonl", [
        record(),
        record(instruction="Translate 'cat' into German.", output="Katze"),
        record(instruction="Write a haiku.", output=""),
        record(instruction="Translate 'cat' into German.", output="Katze"),
        '{"instruction": "broken", "output": ',
        record(instruction="List two planets.", input="<noinput>", output="Mars and Venus."),
    ])
    out = tmp_path / "out"
    run([str(tmp_path / "in.jsonl")], out, Config(), quiet=True)
    return out
