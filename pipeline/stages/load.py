"""Load: turn every INPUT (file, glob, directory, saved or hub dataset) into raw
records that carry their lineage.

Nothing is judged here beyond "did it parse": a JSONL line that is not JSON still
becomes a record (with its parse error) so that validate can quarantine it, and
rows in always equals clean + rejected + quarantined.

A JSON Lines file read in batches (``record_batches`` with a size) comes as
``LineBatch``es: the batch's plain lines parsed by Polars at once
(``plain_lines``), every other line read as a record, as before.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import zlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import polars as pl

from pipeline.errors import InputError
from pipeline.stages import plain_lines, recover
from pipeline.stages.sources import resolve_sources

SUFFIXES = (".json", ".jsonl", ".ndjson", ".parquet", ".csv")
COMPRESSIONS = (".gz", ".zst", ".bz2")  # around any of SUFFIXES: data.jsonl.gz, table.csv.zst
HUB_PREFIX = "hf:"


@dataclass(frozen=True, slots=True)
class RawRecord:
    source: str
    row: int
    value: Any  # the parsed record; None when it did not parse
    raw: str  # the record's text as read (kept for quarantine)
    parse_error: str | None = None
    original: Any = None  # the record as read, when its shape was mapped (quarantine shows this)
    repairs: tuple[str, ...] = ()  # made while reading (invalid UTF-8), before normalise


def expand_inputs(inputs: list[str], exclude: list[str] = ()) -> list[str]:
    """Resolve globs and directories into a list of sources, each file once (see
    ``sources``); ``exclude`` names what the command writes, never read as input.

    A directory saved by ``datasets.save_to_disk`` is one source; any other
    directory contributes every supported file below it.
    """
    return resolve_sources(inputs, is_supported_file, _is_saved_dataset, exclude,
                           f"{', '.join(SUFFIXES)}, each optionally {', '.join(COMPRESSIONS)}")


def is_supported_file(path: Path) -> bool:
    """A record file, compressed or not (directories and globs take these)."""
    return file_format(path)[0] in SUFFIXES


def _is_saved_dataset(path: Path) -> bool:
    return (path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists()


def file_format(path: Path) -> tuple[str, str | None]:
    """(record format suffix, compression suffix or None): ``a.jsonl.gz`` -> (".jsonl", ".gz")."""
    suffix = path.suffix.lower()
    if suffix in COMPRESSIONS:
        return Path(path.stem).suffix.lower(), suffix
    return suffix, None


def read_source(source: str) -> Iterator[RawRecord]:
    """Yield the raw records of one source, in order."""
    if source.startswith(HUB_PREFIX):
        yield from _read_hub(source)
        return
    path = Path(source)
    if path.is_dir():
        yield from _read_saved_dataset(source)
        return
    suffix, compression = file_format(path)
    if not is_supported_file(path):
        raise InputError(f"{source}: unsupported file type {''.join(path.suffixes[-2:]) or '(none)'}; expected one of "
                         f"{', '.join(SUFFIXES)}, each optionally {', '.join(COMPRESSIONS)}")
    try:
        if suffix == ".json":
            yield from _read_json_array(source, recover.as_utf8(_read_bytes(path, compression)))
        elif suffix in (".jsonl", ".ndjson"):
            if compression is None and not _needs_recoding(path):
                yield from _read_json_lines(source, _lines_of(path))  # streamed: a line at a time
            else:
                yield from _read_json_lines(source, recover.as_utf8(_read_bytes(path, compression)).split(b"\n"))
        elif suffix == ".parquet":
            yield from _read_table(source, _read_parquet(io.BytesIO(_read_bytes(path, compression)) if compression else path))
        else:
            yield from _read_csv_source(source, recover.as_utf8(_read_bytes(path, compression)))
    except PermissionError:
        raise InputError(f"cannot read {source}: permission denied") from None
    except OSError as error:
        raise InputError(f"cannot read {source}: {error.strerror or error}") from None


def _read_bytes(path: Path, compression: str | None) -> bytes:
    """The file's bytes, decompressed; a damaged archive is a corrupt file (quarantined)."""
    if compression is None:
        return path.read_bytes()
    try:
        if compression == ".gz":
            return gzip.decompress(path.read_bytes())
        if compression == ".bz2":
            return bz2.decompress(path.read_bytes())
        return _read_zstd(path)
    except PermissionError:
        raise
    except (OSError, EOFError, ValueError, zlib.error) as error:
        raise _CorruptFile(f"not a readable {compression[1:]} file: {_first_line(error)}") from None


def _read_zstd(path: Path) -> bytes:
    import zstandard

    try:
        with zstandard.open(path, "rb") as handle:  # streams: a frame need not state its size
            return handle.read()
    except zstandard.ZstdError as error:
        raise ValueError(str(error)) from None


def _decode(data: bytes) -> str:
    # Invalid UTF-8 must never crash a run: undecodable bytes become U+FFFD and the
    # record goes on to validation like any other.
    return data.decode("utf-8", errors="replace")


def _read_json_array(source: str, data: bytes) -> Iterator[RawRecord]:
    text, replaced = recover.decode(data)
    text = text.lstrip("\ufeff")
    if not text.strip():
        return  # an empty file is an empty, valid source
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        if error.msg == "Extra data" and text.lstrip().startswith("{"):
            yield from _read_json_lines(source, data.split(b"\n"))  # JSON Lines in a file named .json
            return
        # The file as a whole is one unparseable record: record 0 of that source.
        yield RawRecord(source, 0, None, _clip(text), f"file is not valid JSON: {error}")
        return
    except RecursionError:
        yield from _read_json_items(source, text, replaced)
        return
    if isinstance(parsed, dict) and len(parsed) == 1 and isinstance(next(iter(parsed.values())), list):
        parsed = next(iter(parsed.values()))  # {"data": [...]} wrappers are common
    if not isinstance(parsed, list):
        yield RawRecord(source, 0, None, _clip(text), f"expected a JSON array of records, found {type(parsed).__name__}")
        return
    for index, value in enumerate(parsed):
        yield RawRecord(source, index, value, "", repairs=_replaced_in(value, replaced))


def _replaced_in(value, replaced: bool) -> tuple[str, ...]:
    """A file-wide decode cannot say which record held the invalid bytes: those
    whose text now holds U+FFFD did."""
    if replaced and "\ufffd" in json.dumps(value, ensure_ascii=False, default=str):
        return (recover.INVALID_UTF8,)
    return ()


def _read_json_items(source: str, text: str, replaced: bool) -> Iterator[RawRecord]:
    """An array with an element too deep for the parser: every other element still counts."""
    try:
        items = list(recover.json_array_items(text))
    except (ValueError, RecursionError) as error:
        yield RawRecord(source, 0, None, _clip(text), f"file is not valid JSON: {recover.TOO_DEEP} ({error})")
        return
    for index, (value, raw, error) in enumerate(items):
        yield RawRecord(source, index, value, _clip(raw), error, repairs=_replaced_in(value, replaced))


def _needs_recoding(path: Path) -> bool:
    """Whether the file is UTF-16 (``recover.as_utf8`` decides from its first 64 bytes)."""
    with path.open("rb") as handle:
        head = handle.read(64)
    return recover.as_utf8(head) != head


_BLOCK = 1 << 20  # bytes read at a time


def _lines_of(path: Path) -> Iterator[bytes]:
    """The file's lines without their "\\n", read as they are needed: the same pieces
    as ``data.split(b"\\n")`` (less a last empty one) without the whole file in
    memory. Split a block at a time: cheaper than reading a line at a time."""
    with path.open("rb") as handle:
        pending: list[bytes] = []  # the start of a line that goes on in the next block
        while block := handle.read(_BLOCK):
            lines = block.split(b"\n")
            if len(lines) == 1:
                pending.append(block)
                continue
            lines[0] = b"".join([*pending, lines[0]])
            pending = [lines.pop()]
            yield from lines
        last = b"".join(pending)
        if last:
            yield last


def _read_json_lines(source: str, lines: Iterable[bytes]) -> Iterator[RawRecord]:
    yield from _json_line_records(source, enumerate(lines))


def _json_line_records(source: str, numbered: Iterable[tuple[int, bytes]]) -> Iterator[RawRecord]:
    """The records of (line number, line) pairs; blank lines are not records."""
    for index, line in numbered:
        raw, replaced = recover.decode(line)
        raw = raw.removesuffix("\r")
        text = raw.strip().lstrip("\ufeff")
        if not text:
            continue  # blank lines are not records
        repairs = (recover.INVALID_UTF8,) if replaced else ()
        try:
            yield RawRecord(source, index, json.loads(text), raw, repairs=repairs)
        except json.JSONDecodeError as error:
            yield RawRecord(source, index, None, _clip(raw), f"line is not valid JSON: {error}")
        except RecursionError:
            yield RawRecord(source, index, None, _clip(raw), f"line is not valid JSON: {recover.TOO_DEEP}")


def _line_record(source: str, number: int, line: bytes) -> RawRecord:
    """The record of one line that is a record (``_is_record_line``), read as
    ``_json_line_records`` reads it."""
    return next(_json_line_records(source, [(number, line)]))


def _is_record_line(line: bytes) -> bool:
    """Whether a line is a record (not blank), by the test ``_json_line_records``
    makes, without decoding the common line that starts an object."""
    return line.startswith(b"{") or any(True for _ in _json_line_records("", [(0, line)]))


class LineBatch(Sequence[RawRecord]):
    """A batch of JSON Lines records whose plain lines Polars parsed at once
    (``plain_lines``): ``plain`` holds their three fields, a row per plain line in
    order; every other line was read as a ``RawRecord`` (``others``, by position).

    It is still a sequence of ``RawRecord``: a stage that wants the records one by
    one (another shape than Alpaca, a refresh) reads each line as before.
    """

    def __init__(self, source: str, numbers: list[int], lines: list[bytes], is_plain: list[bool],
                 plain: pl.DataFrame, others: dict[int, RawRecord]) -> None:
        self.source, self.numbers, self.lines = source, numbers, lines  # line numbers, and the lines
        self.is_plain, self.plain, self.others = is_plain, plain, others

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, position):
        if isinstance(position, slice):
            return self.records[position]
        position = range(len(self.lines))[position]  # negative positions count from the end
        return self.others.get(position) or self.record_at(position)

    def __iter__(self) -> Iterator[RawRecord]:
        return iter(self.records)

    def record_at(self, position: int) -> RawRecord:
        return _line_record(self.source, self.numbers[position], self.lines[position])

    @cached_property
    def records(self) -> list[RawRecord]:
        return list(_json_line_records(self.source, zip(self.numbers, self.lines)))

    def keys(self) -> list[str]:
        """Every key the records use, in order of first appearance (``shapes.keys_of``):
        a plain line holds the three fields, so only the first one counts."""
        first_plain = next((position for position, plain in enumerate(self.is_plain) if plain), None)
        wanted = sorted([*self.others, *([] if first_plain is None else [first_plain])])
        seen: dict[str, None] = {}
        for position in wanted:
            value = self[position].value
            if isinstance(value, dict):
                seen.update(dict.fromkeys(value))
        return list(seen)


def _json_line_batches(source: str, path: Path, size: int) -> Iterator[list[RawRecord] | LineBatch]:
    """The records of a plain JSON Lines file, ``size`` at a time, each batch a
    ``LineBatch`` (or, where Polars refused one of its plain lines, a list of
    records read line by line)."""
    # Line numbers and lines in two lists: a list of (number, line) pairs would hold
    # a tuple per line for the garbage collector to walk again and again.
    numbers: list[int] = []
    lines: list[bytes] = []
    for index, line in enumerate(_lines_of(path)):
        if _is_record_line(line):
            numbers.append(index)
            lines.append(line)
            if len(lines) == size:
                yield _line_batch(source, numbers, lines)
                numbers, lines = [], []
    if lines:
        yield _line_batch(source, numbers, lines)


def _line_batch(source: str, numbers: list[int], lines: list[bytes]) -> list[RawRecord] | LineBatch:
    is_plain = plain_lines.plain_mask(lines)
    plain = plain_lines.parse_plain([line for line, ok in zip(lines, is_plain) if ok]) if any(is_plain) else None
    if plain is None:
        return list(_json_line_records(source, zip(numbers, lines)))
    others = {position: _line_record(source, numbers[position], lines[position])
              for position, ok in enumerate(is_plain) if not ok}
    return LineBatch(source, numbers, lines, is_plain, plain, others)


def _read_parquet(path: Path | io.BytesIO) -> pl.DataFrame:
    try:
        return pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as error:
        raise _CorruptFile(f"not a readable Parquet file: {_first_line(error)}") from None


def _read_csv_source(source: str, data: bytes) -> Iterator[RawRecord]:
    """Polars reads a well-formed file; one it refuses is read record by record, so
    a ragged row or an unclosed quote quarantines that record alone."""
    text, replaced = recover.decode(data)
    try:
        frame = _read_csv(data)
    except _CorruptFile:
        for index, (value, raw, error) in enumerate(recover.csv_records(text.lstrip("\ufeff"))):
            if value is not None:
                value.update({c: value[c] or "" for c in ("instruction", "input", "output") if c in value})
            yield RawRecord(source, index, value, _clip(raw), error, repairs=_replaced_in(value, replaced))
        return
    for index, value in enumerate(frame.iter_rows(named=True)):
        yield RawRecord(source, index, value, "", repairs=_replaced_in(value, replaced))


def _read_csv(data: bytes) -> pl.DataFrame:
    try:
        # Every cell as text: CSV cannot tell a number from a string, so types are
        # not judged here.
        frame = pl.read_csv(data, infer_schema=False, encoding="utf8-lossy")
    except pl.exceptions.NoDataError:
        return pl.DataFrame()
    except pl.exceptions.PolarsError as error:
        raise _CorruptFile(f"not a readable CSV file: {_first_line(error)}") from None
    # CSV cannot tell an empty cell from a missing value: both are "" for our fields,
    # so an empty output reaches the rules (rejected: empty_output) instead of quarantine.
    return frame.with_columns(pl.col(c).fill_null("") for c in ("instruction", "input", "output") if c in frame.columns)


class _CorruptFile(Exception):
    pass


def _read_table(source: str, frame: pl.DataFrame) -> Iterator[RawRecord]:
    for index, value in enumerate(frame.iter_rows(named=True)):
        yield RawRecord(source, index, value, "")


def _read_saved_dataset(source: str) -> Iterator[RawRecord]:
    import datasets

    try:
        loaded = datasets.load_from_disk(source)
    except Exception as error:
        raise InputError(f"cannot load saved dataset {source}: {error}") from None
    yield from _read_dataset_rows(source, loaded)


def _read_hub(source: str) -> Iterator[RawRecord]:
    """``hf:NAME`` or ``hf:NAME:SPLIT`` through ``datasets.load_dataset``."""
    import datasets

    name, _, split = source[len(HUB_PREFIX) :].partition(":")
    if not name:
        raise InputError(f"{source}: expected hf:NAME or hf:NAME:SPLIT")
    try:
        loaded = datasets.load_dataset(name, split=split or "train")
    except Exception as error:
        raise InputError(f"cannot load {source} from the Hugging Face hub: {_first_line(error)}") from None
    yield from _read_dataset_rows(source, loaded)


def _read_dataset_rows(source: str, loaded) -> Iterator[RawRecord]:
    import datasets

    if isinstance(loaded, datasets.DatasetDict):
        if "train" not in loaded:
            raise InputError(f"{source}: dataset has splits {', '.join(loaded)}; none is 'train'")
        loaded = loaded["train"]
    for index, value in enumerate(loaded):
        yield RawRecord(source, index, value, "")


def load_records(sources: list[str], say: Callable[[str], None] = print) -> list[RawRecord]:
    """Every raw record of every source, in source order then record order."""
    return [record for batch in record_batches(sources, None, say) for record in batch]


def record_batches(sources: list[str], size: int | None,
                   say: Callable[[str], None] = print) -> Iterator[list[RawRecord]]:
    """The raw records of every source in load order, at most ``size`` at a time
    (all of a source at once when None); a batch never mixes two sources."""
    for number, source in enumerate(sources, start=1):
        say(f"  reading {source} ({number}/{len(sources)})")
        if size is not None and _is_plain_json_lines(source):
            try:
                yield from _json_line_batches(source, Path(source), size)
            except PermissionError:
                raise InputError(f"cannot read {source}: permission denied") from None
            except OSError as error:
                raise InputError(f"cannot read {source}: {error.strerror or error}") from None
            continue
        batch: list[RawRecord] = []
        try:
            for record in read_source(source):
                batch.append(record)
                if len(batch) == size:
                    yield batch
                    batch = []
        except _CorruptFile as error:
            # Raised before any record of the source is read: the whole file is one record.
            try:
                raw = _clip(_decode(Path(source).read_bytes()[:2000]))
            except OSError as reading:
                raise InputError(f"cannot read {source}: {reading.strerror or reading}") from None
            batch.append(RawRecord(source, 0, None, raw, str(error)))
        if batch:
            yield batch


def _is_plain_json_lines(source: str) -> bool:
    """A JSON Lines file that ``read_source`` streams as it is (not compressed, not UTF-16)."""
    path = Path(source)
    if source.startswith(HUB_PREFIX) or path.is_dir() or file_format(path) not in ((".jsonl", None), (".ndjson", None)):
        return False
    try:
        return not _needs_recoding(path)
    except OSError:
        return False  # read_source says what is wrong


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _clip(text: str, limit: int = 2000) -> str:
    """Quarantine keeps the raw text, but not megabytes of it for one broken file."""
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit} more characters]"
