"""Validate: check each raw record against the Alpaca record schema.

Good records become rows of a Polars frame with lineage; bad ones become
quarantine rows holding the raw text and an error that names the field.

The pydantic model is the definition. A ``LineBatch`` is checked a column at a
time: its plain lines that surely pass the model become rows at once, and every
other record goes through ``check`` (the model) one by one.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError, field_validator

from pipeline import columns as C
from pipeline.report.examples import clip
from pipeline.report.model import QuarantineFacts
from pipeline.stages.fields import ExtraFieldTypes, encodable, value_problem
from pipeline.stages.load import LineBatch, RawRecord

QUARANTINE_SCHEMA = {C.SOURCE: pl.String, C.ROW: pl.Int64, C.RAW: pl.String, C.ERROR: pl.String}
CORE_SCHEMA = {"instruction": pl.String, "input": pl.String, "output": pl.String}


class InstructionRecord(BaseModel):
    """One Alpaca record. Extra fields are allowed and pass through untouched.

    ``input`` may be missing or null (it becomes ""); ``output`` must be present,
    but may be empty: an empty output is a quality problem for the rules, not a
    schema error, so it lands in rejected/ with a reason people can count.
    """

    model_config = ConfigDict(extra="allow", strict=True)

    instruction: StrictStr
    input: StrictStr | None = None
    output: StrictStr

    @field_validator("instruction")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


_CORE = frozenset(C.FIELDS)


def _describe(error: ValidationError) -> str:
    parts = []
    for problem in error.errors():
        field = ".".join(str(p) for p in problem["loc"]) or "record"
        message = problem["msg"].removeprefix("Value error, ")  # pydantic's prefix for our own checks
        parts.append(f"{field}: {message}")
    return "; ".join(parts)


def _raw_text(record: RawRecord) -> str:
    if record.raw:
        return record.raw
    value = record.value if record.original is None else record.original
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (RecursionError, ValueError):
        return repr(value)[:2000]
    # A lone surrogate cannot be written: such text keeps its \uXXXX escapes.
    return text if encodable(text) else json.dumps(value, default=str)


def _without_bookkeeping(value: dict) -> dict:
    """A row of a curated set (clean/ or rejected/ of an earlier run) is curated
    again: its earlier lineage, repairs and reasons give way to this run's."""
    if C.CURATED_MARK <= value.keys():
        return {key: item for key, item in value.items() if key not in C.BOOKKEEPING}
    return value


@lru_cache(maxsize=4096)
def _reserved_among(keys: tuple) -> list[str]:
    """The pipeline's own column names among a record's keys, sorted. Records of a
    source mostly share their keys, so each set of keys is looked at once."""
    return sorted(str(key) for key in keys if C.is_pipeline_column(str(key)))


def check(record: RawRecord, extras: ExtraFieldTypes | None = None) -> tuple[dict[str, Any] | None, str | None]:
    """The validated row, or the reason it goes to quarantine."""
    if record.parse_error is not None:
        return None, record.parse_error
    if not isinstance(record.value, dict):
        return None, f"record is not a JSON object (found {type(record.value).__name__})"
    value = _without_bookkeeping(record.value)
    clashes = _reserved_among(tuple(value))
    if clashes:
        return None, f"field name(s) reserved for the pipeline's own columns: {', '.join(clashes)}"
    problem = value_problem(value)
    if problem is not None:
        return None, problem
    try:
        model = InstructionRecord.model_validate(value)
    except ValidationError as error:
        return None, _describe(error)
    if extras is not None and len(value.keys() - _CORE):
        # In the record's own order, so that the conflict named is the same in every run.
        conflict = extras.admit({key: item for key, item in value.items() if key not in _CORE})
        if conflict is not None:
            return None, conflict
    row = dict(value)
    row["input"] = model.input or ""
    return row, None


def validate(records: list[RawRecord], extras: ExtraFieldTypes | None = None,
             first_order: int = 0) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """Split raw records into (valid rows with lineage, quarantine rows). ``extras``
    carries the extra fields' types from batch to batch (and from a refresh's
    published rows); without it, the types are this call's own. ``first_order``
    is the load order of ``records[0]`` (a later batch of a streamed run)."""
    extras = ExtraFieldTypes() if extras is None else extras
    if isinstance(records, LineBatch):
        checked = _validate_line_batch(records, first_order)
        if checked is not None:
            return checked
    valid: list[dict[str, Any]] = []
    quarantined: list[dict[str, Any]] = []
    for order, record in enumerate(records, start=first_order):
        row, error = check(record, extras)
        if error is None:
            row[C.SOURCE], row[C.ROW], row[C.ORDER] = record.source, record.row, order
            if record.repairs:
                row[C.REPAIRS] = list(record.repairs)
            valid.append(row)
        else:
            quarantined.append({C.SOURCE: record.source, C.ROW: record.row, C.RAW: _raw_text(record), C.ERROR: error})
    return _frame(valid).lazy(), pl.DataFrame(quarantined, schema=QUARANTINE_SCHEMA)


# A plain line (``plain_lines``) whose instruction holds a printable ASCII character
# other than a space (so it is not blank) and whose output is not null passes
# ``check``: it is a flat record of the three fields, strings or a null input.
# Every other record goes through ``check`` itself.
_PASSES_CHECK = (pl.col("instruction").str.contains("[!-~]") & pl.col("output").is_not_null()).fill_null(False)


def _validate_line_batch(batch: LineBatch, first_order: int) -> tuple[pl.LazyFrame, pl.DataFrame] | None:
    """``validate`` for a batch of JSON Lines whose plain lines Polars parsed: the
    same rows and quarantine, ``check`` run only on the lines that are not plain
    or that may fail it. None where a valid record holds more than the three
    fields (their types are judged record by record, in ``validate``) or a repair."""
    plain_positions = pl.Series([p for p, plain in enumerate(batch.is_plain) if plain], dtype=pl.Int64)
    passes = batch.plain.select(_PASSES_CHECK).to_series()
    to_check = sorted([*batch.others, *plain_positions.filter(~passes).to_list()])
    checked: dict[int, dict[str, Any]] = {}
    quarantined: list[dict[str, Any]] = []
    for position in to_check:
        record = batch[position]
        # No extra field types: a record with extra fields leaves this path before any is admitted.
        row, error = check(record)
        if error is not None:
            quarantined.append({C.SOURCE: record.source, C.ROW: record.row, C.RAW: _raw_text(record), C.ERROR: error})
        elif row.keys() != _CORE or record.repairs:
            return None
        else:
            checked[position] = row
    rows = batch.plain.with_columns(_position=plain_positions).filter(passes)
    if checked:
        rows = pl.concat([rows, pl.DataFrame({**{f: [row[f] for row in checked.values()] for f in C.FIELDS},
                                              "_position": list(checked)}, schema=rows.schema)]).sort("_position")
    quarantine = pl.DataFrame(quarantined, schema=QUARANTINE_SCHEMA)
    if rows.is_empty():
        return _frame([]).lazy(), quarantine
    # The columns in the order ``_frame`` gives them: the first valid record's keys.
    first = rows["_position"][0]
    fields = list(checked.get(first) or check(batch[first])[0])
    line_numbers = pl.Series(batch.numbers, dtype=pl.Int64)
    valid = rows.select(
        *(pl.col(f).fill_null("") if f == "input" else pl.col(f) for f in fields),
        pl.lit(batch.source, pl.String).alias(C.SOURCE),
        line_numbers.gather(rows["_position"]).alias(C.ROW),
        (pl.col("_position") + first_order).alias(C.ORDER),
    )
    return valid.lazy(), quarantine


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    lineage = {C.SOURCE: pl.String, C.ROW: pl.Int64, C.ORDER: pl.Int64}
    if not rows:
        return pl.DataFrame(schema={**CORE_SCHEMA, **lineage})
    # Extra fields differ from source to source: a field missing in some rows is
    # null there, and a field with mixed types is widened rather than failing.
    frame = pl.DataFrame(rows, infer_schema_length=None, strict=False)
    return frame.with_columns(pl.col(name).cast(dtype) for name, dtype in {**CORE_SCHEMA, **lineage}.items())


QUARANTINE_EXAMPLES = 10


def error_kind(error: pl.Expr) -> pl.Expr:
    """The error without its particulars, for counting: "output: Field required",
    "line is not valid JSON", "record is not a JSON object"."""
    first = error.str.split("; ").list.first()
    general = first.str.replace(r"\s*\(.*", "").str.split(": ").list.first()
    is_field = first.str.contains(r"^(instruction|input|output): ")
    return pl.when(is_field).then(first).otherwise(general)


def quarantine_facts(quarantine: pl.DataFrame) -> QuarantineFacts:
    """How many records were quarantined, per kind of error, and the first few."""
    kinds = quarantine.select(error_kind(pl.col(C.ERROR)).alias("kind"))["kind"].value_counts()
    return QuarantineFacts(
        count=quarantine.height,
        by_error={str(kind): int(n) for kind, n in kinds.iter_rows()},
        examples=[{**row, C.RAW: clip(row[C.RAW])} for row in quarantine.head(QUARANTINE_EXAMPLES).to_dicts()],
    )
