"""Column names shared by the stages.

The names below, and those starting with ``INTERNAL_PREFIXES``, belong to the
pipeline; everything else is the user's data and passes through untouched, also a
user's own ``_id`` or ``_meta``.
"""

FIELDS = ("instruction", "input", "output")

SOURCE = "_source"  # the input path as given
ROW = "_row"  # 0-based record index inside that source
ORDER = "_order"  # global load order; the deterministic tie-breaker everywhere
REPAIRS = "_repairs"  # list of repairs normalise made
FLAGS = "_flags"  # list of flag-severity rules that fired
REASONS = "_reasons"  # list of drop reasons (rules and dedup)
RAW = "_raw"  # quarantine: the raw record text
ERROR = "_error"  # quarantine: what was wrong
CLUSTER = "_cluster"  # duplicate cluster id
DUPLICATE_OF = "_duplicate_of"  # survivor's lineage {_source, _row}
DEDUP_REASON = "_dedup_reason"  # internal: exact_duplicate, near_duplicate, ...
BENCHMARK = "_benchmark"  # decontamination: name of the benchmark the row shares text with
BENCHMARK_ROW = "_benchmark_row"  # decontamination: that benchmark's row (0-based record index)
BENCHMARK_FIELD = "_benchmark_field"  # internal: the row's field holding the shared text
BENCHMARK_SPAN = "_benchmark_span"  # internal: [first, end) word index of the shared text in that field

RESERVED = frozenset({SOURCE, ROW, ORDER, REPAIRS, FLAGS, REASONS, RAW, ERROR, CLUSTER, DUPLICATE_OF, DEDUP_REASON,
                      BENCHMARK, BENCHMARK_ROW, BENCHMARK_FIELD, BENCHMARK_SPAN})

RULE_PREFIX = "_rule_"  # internal: one boolean column per rule, True = problem

# What a curate run writes beside the user's fields in clean/ and rejected/: a
# record carrying the clean/ ones comes from a curated set being curated again.
BOOKKEEPING = (SOURCE, ROW, REPAIRS, FLAGS, REASONS, CLUSTER, DUPLICATE_OF)
CURATED_MARK = frozenset({SOURCE, ROW, REPAIRS, FLAGS})
# Temporary columns of the stages and of refresh's index.
INTERNAL = frozenset({"_seen", "_status", "_content", "_prompt", "_bands", "_root"})
INTERNAL_PREFIXES = (RULE_PREFIX, "_tokens_", "_nfc_", "_invisible_chars_", "_whitespace_", "_rank_")


def is_pipeline_column(name: str) -> bool:
    return name in RESERVED or name in INTERNAL or name.startswith(INTERNAL_PREFIXES)


def rule_column(name: str) -> str:
    return f"{RULE_PREFIX}{name}"
