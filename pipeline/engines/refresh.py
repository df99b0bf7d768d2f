"""Incremental, idempotent, crash-safe refresh of a curated state.

    STATE/CURRENT                 the published version's number (replaced atomically)
    STATE/versions/N/manifest.json   files (rows, sha256), counts, config fingerprint, parent
    STATE/versions/N/clean/       the whole published clean set at version N: earlier
                                  shards hard-linked, plus this version's new shard(s)
    STATE/versions/N/rejected/    this version's own rejected rows
    STATE/versions/N/quarantine/  this version's own quarantined records
    STATE/versions/N/index/       keys-*.parquet: every row ever seen (content hash,
                                  status, lineage; for clean rows also the dedup
                                  hashes and LSH band keys) and rows-*.parquet: every
                                  valid row ever seen, as validated (for re-curation)

What people get wrong:

- **Seen** means the same content (the comparable hash of instruction, input,
  output), whatever the file or line it came from. A seen row is not processed
  again: it goes to rejected/ as ``duplicate_of_previous`` (its earlier copy is
  in clean/) or ``rejected_before``, with the earlier row's lineage. An input in
  which every record was seen publishes nothing and writes nothing.
- **Published rows never change.** New rows are deduplicated against the stored
  hashes and band keys of every accepted row; only the few accepted rows a new
  row may duplicate are read back (to verify the pair exactly). Such an accepted
  row always survives, and the new row is ``duplicate_of_previous``.
- **A changed rule or dedup config** re-curates every valid row seen so far and
  says so; a version is always judged by one config (its manifest records it).
- **Crash safety.** Version N+1 is built in ``versions/.building-*`` and renamed
  into place, then CURRENT is switched. Any version directory above CURRENT, or
  a ``.building-*`` one, is what a crash left behind: the next refresh removes it.
- **One refresh at a time.** A refresh holds ``STATE/LOCK`` (an OS file lock) from
  before it reads CURRENT until it has switched it, so what it removes as left
  behind can only be a dead refresh's; a second refresh exits naming the first.
- **A damaged state is an error, not a fresh start:** CURRENT that is not a
  number, a version or manifest that is missing or unreadable, a file the manifest
  lists that is gone, or a ``curate run`` output given as ``--state``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipeline import columns as C
from pipeline.config import Config
from pipeline.flow import Context
from pipeline.stages.decide import split
from pipeline.dedup.dedup import PREVIOUS, band_key_lists, content_hash, hash_texts, record_keys
from pipeline.errors import InputError
from pipeline.publish.lock import LOCK_NAME, exclusive
from pipeline.stages.fields import ExtraFieldTypes
from pipeline.stages.load import expand_inputs
from pipeline.dedup.minhash import LARGE_BUCKET, PIVOTS
from pipeline.report.build import Report, build_report, most_first
from pipeline.report.model import DecideFacts, count_items, merge
from pipeline.engines.local import StageTimer, check_reconciled, judge, read_sources, whole_run_facts
from pipeline.publish.write import clean_columns, rejected_columns, sha256_of, write_run_record, write_shards

REJECTED_BEFORE = "rejected_before"  # a seen row whose earlier copy was rejected
CLEAN, REJECTED, QUARANTINED = "clean", "rejected", "quarantined"
SEEN = "_seen"  # internal: content hash of the row as validated (raw text for quarantine)
STATUS = "_status"
KEYS_SCHEMA = {SEEN: pl.String, STATUS: pl.String, C.SOURCE: pl.String, C.ROW: pl.Int64,
               "_content": pl.String, "_prompt": pl.String, "_bands": pl.List(pl.UInt64)}


def fingerprint(config: Config) -> str:
    """sha256 of the canonical JSON of everything that judges a row (not the
    output settings: shard size and compression change no decision)."""
    judging = config.model_dump(mode="json", include={"severity", "rules", "dedup", "tokens"})
    if config.decontamination.benchmarks:  # only then, so states curated before keep their fingerprint
        judging["decontamination"] = config.decontamination.model_dump(mode="json")
    return hashlib.sha256(json.dumps(judging, sort_keys=True).encode()).hexdigest()


# ---------------------------------------------------------------- the state on disk


@dataclass(frozen=True)
class Version:
    number: int
    path: Path
    manifest: dict

    def files(self, folder: str) -> list[Path]:
        return sorted((self.path / folder).glob("*.parquet"))

    def keys(self) -> pl.DataFrame:
        parts = [pl.read_parquet(p) for p in sorted((self.path / "index").glob("keys-*.parquet"))]
        return pl.concat(parts, how="vertical_relaxed") if parts else pl.DataFrame(schema=KEYS_SCHEMA)

    def rows(self) -> pl.DataFrame:
        """Every valid row seen so far, as validated, in the order first seen."""
        parts = [pl.read_parquet(p) for p in sorted((self.path / "index").glob("rows-*.parquet"))]
        return pl.concat(parts, how="diagonal_relaxed") if parts else pl.DataFrame()


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class State:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.versions = root / "versions"

    def check_root(self) -> None:
        """Refuse what is not a refresh state before touching it."""
        if self.root.exists() and not self.root.is_dir():
            raise InputError(f"--state {self.root} is a file, not a state directory")
        if (self.root / "manifest.json").exists():
            raise InputError(f"--state {self.root} is the output of curate run, not a refresh state")
        if self.root.is_dir() and not (self.root / "CURRENT").exists():
            strangers = sorted(p.name for p in self.root.iterdir()
                               if p.name not in {"versions", LOCK_NAME} and not p.name.startswith(".CURRENT."))
            if strangers:
                raise InputError(f"--state {self.root} is not a refresh state (it holds {', '.join(strangers[:3])}); "
                                 "give a new or empty directory")

    def current_number(self) -> int | None:
        try:
            text = (self.root / "CURRENT").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            raise InputError(f"damaged state {self.root}: cannot read CURRENT: {error}") from None
        if not text.isdigit():
            raise InputError(f"damaged state {self.root}: CURRENT holds {text[:40]!r}, not a version number")
        return int(text)

    def current(self) -> Version | None:
        number = self.current_number()
        if number is None:
            return None
        path = self.versions / str(number)
        try:
            manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"damaged state {self.root}: CURRENT names version {number}, "
                             f"but {path / 'manifest.json'} is missing") from None
        except (OSError, ValueError) as error:
            raise InputError(f"damaged state {self.root}: cannot read {path / 'manifest.json'}: {error}") from None
        missing = _missing_files(path, manifest)
        if missing:
            raise InputError(f"damaged state {self.root}: version {number} lacks {missing}")
        return Version(number, path, manifest)

    def garbage(self) -> list[Path]:
        """Version directories a crash left behind: being built, or never switched to."""
        pointers = sorted(self.root.glob(".CURRENT.*"))  # a switch of CURRENT cut short
        if not self.versions.is_dir():
            return pointers
        current = self.current_number() or 0
        return pointers + sorted(p for p in self.versions.iterdir()
                                 if not (p.name.isdigit() and int(p.name) <= current))

    def building(self) -> Path:
        self.versions.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".building-", dir=self.versions))
        scratch.chmod(0o755)
        (scratch / "index").mkdir()
        return scratch

    def publish(self, scratch: Path, number: int) -> Path:
        """Rename the finished version into place, then switch CURRENT to it.
        Each step is atomic; a crash between them leaves CURRENT on the old version."""
        for path in scratch.rglob("*"):
            if path.is_file():
                _fsync(path)
        target = self.versions / str(number)
        os.rename(scratch, target)
        _fsync(self.versions)
        pointer = self.root / f".CURRENT.{os.getpid()}"
        pointer.write_text(f"{number}\n", encoding="utf-8")
        _fsync(pointer)
        os.replace(pointer, self.root / "CURRENT")
        _fsync(self.root)
        return target


def _missing_files(path: Path, manifest) -> str | None:
    """The first problem with a manifest's shape or with the files it lists (presence
    only: hashing every shard on each refresh would cost a full read)."""
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list) \
            or "config_fingerprint" not in manifest or not isinstance(manifest.get("refresh"), dict):
        return "a valid manifest.json (files, refresh, config_fingerprint)"
    for entry in manifest["files"]:
        if not isinstance(entry, dict) or not (path / str(entry.get("path", ""))).is_file():
            return str(entry.get("path") if isinstance(entry, dict) else entry)
    if not any(str(e["path"]).startswith("index/keys-") for e in manifest["files"]):
        return "an index (index/keys-*.parquet)"
    return None


def link_or_copy(source: Path, target: Path) -> None:
    """Published files are immutable, so a hard link shares them safely between versions."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


# ---------------------------------------------------------------- seen rows


def seen_hashes(raw: pl.DataFrame, quarantine: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``_seen`` on valid rows (their content) and on quarantined ones (their raw text)."""
    return (raw.with_columns(content_hash().alias(SEEN)),
            quarantine.with_columns(hash_texts([pl.col(C.RAW)]).alias(SEEN)))


def first_seen(keys: pl.DataFrame) -> pl.DataFrame:
    """One row per seen hash: the clean copy if there is one, else the first rejected
    or quarantined one, with its lineage and status."""
    priority = pl.col(STATUS).replace_strict({CLEAN: 0, REJECTED: 1, QUARANTINED: 2}, return_dtype=pl.Int8)
    return (keys.select(SEEN, STATUS, C.SOURCE, C.ROW)
            .with_row_index("_index").sort(priority, "_index").unique(SEEN, keep="first").drop("_index"))


def seen_as_rejected(seen: pl.DataFrame, earlier: pl.DataFrame) -> pl.DataFrame:
    """Rows seen before, as rejected rows naming the earlier copy (not processed again,
    so their text is as read)."""
    joined = seen.join(earlier.rename({C.SOURCE: "_e_source", C.ROW: "_e_row"}), on=SEEN, how="left", maintain_order="left")
    reason = pl.when(pl.col(STATUS) == CLEAN).then(pl.lit(PREVIOUS)).otherwise(pl.lit(REJECTED_BEFORE))
    return joined.with_columns(
        pl.concat_list(reason).alias(C.REASONS),
        pl.lit([], pl.List(pl.String)).alias(C.REPAIRS),
        pl.lit([], pl.List(pl.String)).alias(C.FLAGS),
        pl.lit(None, pl.Int64).alias(C.CLUSTER),
        pl.struct(pl.col("_e_source").alias(C.SOURCE), pl.col("_e_row").alias(C.ROW)).alias(C.DUPLICATE_OF),
    ).drop("_e_source", "_e_row", STATUS)


# ---------------------------------------------------------------- dedup against published rows


def involved_published(new_keys: pl.DataFrame, new_bands: pl.Series | None, keys: pl.DataFrame,
                       config: Config) -> pl.DataFrame:
    """Lineage of the published rows a new row may duplicate: the same content or
    prompt, or a shared LSH band. A band shared with more than ``LARGE_BUCKET``
    published rows (a template) pairs with ``PIVOTS`` of them, as in a full run."""
    accepted = keys.filter(pl.col(STATUS) == CLEAN)
    found = [accepted.clear().select(C.SOURCE, C.ROW)]
    if config.dedup.exact:  # unseen raw rows can still normalise into a published row's content
        found.append(accepted.filter(pl.col("_content").is_in(new_keys.get_column("content").implode())).select(C.SOURCE, C.ROW))
    if config.dedup.conflicting_output:
        found.append(accepted.filter(pl.col("_prompt").is_in(new_keys.get_column("prompt").implode())).select(C.SOURCE, C.ROW))
    if config.dedup.near and new_bands is not None:
        wanted = new_bands.explode(empty_as_null=False, keep_nulls=False).unique().implode()
        banded = (accepted.select(C.SOURCE, C.ROW, pl.col("_bands").alias("key")).explode("key")
                  .filter(pl.col("key").is_in(wanted)))
        size = pl.len().over("key")
        rank = pl.int_range(pl.len()).over("key")
        found.append(banded.filter((size <= LARGE_BUCKET) | (rank < PIVOTS)).select(C.SOURCE, C.ROW))
    return pl.concat(found).unique(maintain_order=True)


def published_rows(previous: Version, lineage: pl.DataFrame) -> pl.DataFrame:
    """The texts of the given published rows, read back from clean/."""
    if lineage.is_empty():
        return pl.DataFrame(schema={**{f: pl.String for f in C.FIELDS}, C.SOURCE: pl.String, C.ROW: pl.Int64})
    shards = pl.scan_parquet(previous.files("clean"), missing_columns="insert", extra_columns="ignore")
    wanted = shards.select(*C.FIELDS, C.SOURCE, pl.col(C.ROW).cast(pl.Int64))
    return wanted.join(lineage.lazy(), on=[C.SOURCE, C.ROW], how="semi", maintain_order="left").collect()


@dataclass(frozen=True)
class Published:
    """The rows ``version`` published, as the dedup stage compares new rows with
    them (``pipeline.flow.PublishedRows``): found by the stored hashes and band
    keys, and only those few read back from clean/."""

    version: Version
    keys: pl.DataFrame
    config: Config

    def near(self, keys: pl.DataFrame, bands: pl.Series | None) -> pl.DataFrame:
        return published_rows(self.version, involved_published(keys, bands, self.keys, self.config))


# ---------------------------------------------------------------- the refresh


@dataclass(frozen=True)
class Batch:
    """One refresh's input, split by what the state has seen."""

    new: pl.DataFrame  # valid rows not seen before: these are judged
    seen: pl.DataFrame  # valid rows seen before: rejected, naming the earlier copy
    earlier: pl.DataFrame  # the state's first copy of each seen hash (see ``first_seen``)
    quarantine: pl.DataFrame  # every quarantined record of the input
    new_quarantine: pl.DataFrame  # those not seen before (they join the index)
    keys: pl.DataFrame  # the state's whole index


@dataclass
class Outcome:
    report: dict | None  # None: nothing new, nothing written
    version: Path | None
    message: str


def index_keys(judged: pl.DataFrame, clean: pl.DataFrame, config: Config) -> pl.DataFrame:
    """Index rows of the judged (valid) rows: seen hash, status, lineage, dedup keys,
    and band keys for the clean ones."""
    keys = judged.select(
        pl.col(SEEN), C.SOURCE, pl.col(C.ROW).cast(pl.Int64),
        pl.when(pl.col(C.REASONS).list.len() > 0).then(pl.lit(REJECTED)).otherwise(pl.lit(CLEAN)).alias(STATUS),
    ).with_columns(record_keys(judged).rename({"content": "_content", "prompt": "_prompt"}))
    bands = band_key_lists(clean, config.dedup) if clean.height else pl.Series("bands", [], pl.List(pl.UInt64))
    with_bands = clean.select(C.SOURCE, pl.col(C.ROW).cast(pl.Int64)).with_columns(bands.alias("_bands"))
    keys = keys.join(with_bands, on=[C.SOURCE, C.ROW], how="left", maintain_order="left")
    return keys.select(list(KEYS_SCHEMA)).cast(KEYS_SCHEMA)


def quarantine_keys(quarantine: pl.DataFrame) -> pl.DataFrame:
    return quarantine.select(SEEN, pl.lit(QUARANTINED).alias(STATUS), C.SOURCE, C.ROW).with_columns(
        pl.lit(None, pl.String).alias("_content"), pl.lit(None, pl.String).alias("_prompt"),
        pl.lit(None, pl.List(pl.UInt64)).alias("_bands")).cast(KEYS_SCHEMA)


def refresh(inputs: list[str], state_dir: str | Path, config: Config, quiet: bool = False) -> Outcome:
    state = State(Path(state_dir))
    state.check_root()
    with exclusive(state.root):
        return _refresh(inputs, state, config, quiet)


def _refresh(inputs: list[str], state: State, config: Config, quiet: bool) -> Outcome:
    """The refresh, under the state's lock: whatever is left behind is a dead refresh's."""
    timer = StageTimer(quiet)
    started = time.perf_counter()
    for leftover in state.garbage():
        timer.say(f"curate: removing {leftover} (left by an interrupted refresh; never published)")
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
    previous = state.current()
    sources = expand_inputs(inputs, exclude=[str(state.root)])
    timer.say(f"curate: refresh {len(sources)} source(s) -> {state.root}"
              + (f" (version {previous.number})" if previous else " (new state)"))
    # Extra fields keep the types of the published rows: a value of another type is
    # quarantined rather than turning the published values into text.
    extras = ExtraFieldTypes.from_json(previous.manifest.get("extra_fields") if previous else None)
    raw, quarantine, shapes = read_sources(sources, timer, config.fields.mapping(), extras)
    raw, quarantine = seen_hashes(raw, quarantine)
    keys = previous.keys() if previous else pl.DataFrame(schema=KEYS_SCHEMA)
    earlier = first_seen(keys)
    is_seen = pl.col(SEEN).is_in(earlier.get_column(SEEN).implode())
    batch = Batch(raw.filter(~is_seen), raw.filter(is_seen), earlier, quarantine, quarantine.filter(~is_seen), keys)
    config_changed = previous is not None and previous.manifest["config_fingerprint"] != fingerprint(config)
    if not config_changed and batch.new.is_empty() and batch.new_quarantine.is_empty():
        where = f"version {previous.number}" if previous else "empty"
        return Outcome(None, None, f"nothing new: all {raw.height + quarantine.height:,} records were seen before; "
                                   f"state unchanged ({where})")
    number = (previous.number if previous else 0) + 1
    scratch = state.building()
    try:
        build = _recurate if config_changed else _increment
        report = build(previous, batch, config, timer, scratch, number)
        report.inputs = inputs
        report.shapes = shapes
        report.timings_s["total"] = round(time.perf_counter() - started, 4)
        write_version(scratch, report.as_json(), previous, extras.to_json())
        target = state.publish(scratch, number)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return Outcome(report.as_json(), target, f"published version {number}")


def clean_schema(previous: Version | None, new_clean: pl.DataFrame) -> pl.Schema:
    """One schema for every shard of clean/, so that readers can take the folder as
    one table: the published columns, widened where the new rows need it, plus
    any extra field the new rows bring (null in the earlier rows)."""
    if previous is None:
        return new_clean.schema
    published = pl.DataFrame(schema=pl.read_parquet_schema(previous.files("clean")[0]))
    joined = pl.concat([published, new_clean.clear()], how="diagonal_relaxed")
    return joined.select(clean_columns(joined)).schema


def conform(frame: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    return frame.select(pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype).alias(name)
                        for name, dtype in schema.items())


def extend_clean(previous: Version, directory: Path, schema: pl.Schema, config: Config) -> None:
    """The published shards in the new version: hard links while the schema stays
    the same; rewritten (same rows, new columns null) when it grew."""
    directory.mkdir(parents=True, exist_ok=True)
    for path in previous.files("clean"):
        if pl.read_parquet_schema(path) == schema:
            link_or_copy(path, directory / path.name)
        else:
            conform(pl.read_parquet(path), schema).write_parquet(
                directory / path.name, compression=config.output.compression, statistics=True)


def _raw_valid(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.drop(C.ORDER, SEEN, strict=False)


def _increment(previous: Version | None, batch: Batch, config: Config, timer: StageTimer, scratch: Path,
               number: int) -> Report:
    """Judge only the new rows (dedup against the published ones) and add them to
    the published clean set."""
    published = Published(previous, batch.keys, config) if previous else None
    judged = judge(batch.new, Context(config, published), timer)
    clean, rejected_new = split(judged)
    seen_rejected = seen_as_rejected(batch.seen, batch.earlier)
    rejected = pl.concat([rejected_new, seen_rejected], how="diagonal_relaxed")
    with timer("write"):
        first_shard = len(previous.files("clean")) if previous else 0
        new_clean = clean.select(clean_columns(clean))
        schema = clean_schema(previous, new_clean)
        if previous:
            extend_clean(previous, scratch / "clean", schema, config)
            for path in sorted((previous.path / "index").glob("*.parquet")):
                link_or_copy(path, scratch / "index" / path.name)
        if clean.height or first_shard == 0:
            write_shards(conform(new_clean, schema), scratch / "clean", config.output, first=first_shard)
        write_shards(rejected.select(rejected_columns(rejected)), scratch / "rejected", config.output)
        write_shards(batch.quarantine.drop(SEEN), scratch / "quarantine", config.output)
        keys_new = pl.concat([index_keys(judged, clean, config), quarantine_keys(batch.new_quarantine)])
        keys_new.write_parquet(scratch / "index" / f"keys-v{number:05d}.parquet")
        _raw_valid(batch.new).write_parquet(scratch / "index" / f"rows-v{number:05d}.parquet")
    facts = whole_run_facts(judged, batch.quarantine.drop(SEEN), Context(config))
    # Seen rows were not judged, but they are in rejected/.
    seen = DecideFacts(rejected=seen_rejected.height, rejected_by_reason=count_items(seen_rejected, C.REASONS))
    facts.decide = merge(facts.decide, seen)
    report = build_report(facts, config, timer.seconds, [], [])
    check_reconciled(report.counts)
    clean_total = (previous.manifest["refresh"]["clean_total"] if previous else 0) + clean.height
    report.refresh = _refresh_section(number, previous, clean.height, 0, rejected, batch.seen.height, False,
                                         clean_total, config)
    return report


def _recurate(previous: Version, batch: Batch, config: Config, timer: StageTimer, scratch: Path, number: int) -> Report:
    """Judge every valid row seen so far, and the new ones, by the new config: a
    whole new clean set. Quarantined records stay as they were (no config judges them)."""
    everything = pl.concat([previous.rows(), _raw_valid(batch.new)], how="diagonal_relaxed")
    timer.say(f"curate: config changed: re-curating all {everything.height:,} rows seen so far")
    everything = everything.with_columns(pl.int_range(pl.len()).cast(pl.Int64).alias(C.ORDER))
    everything = everything.with_columns(content_hash().alias(SEEN))
    judged = judge(everything, Context(config), timer)
    clean, rejected = split(judged)
    with timer("write"):
        write_shards(clean.select(clean_columns(clean)), scratch / "clean", config.output)
        write_shards(rejected.select(rejected_columns(rejected)), scratch / "rejected", config.output)
        write_shards(batch.quarantine.drop(SEEN), scratch / "quarantine", config.output)
        for path in sorted((previous.path / "index").glob("rows-*.parquet")):
            link_or_copy(path, scratch / "index" / path.name)
        _raw_valid(batch.new).write_parquet(scratch / "index" / f"rows-v{number:05d}.parquet")
        carried = batch.keys.filter(pl.col(STATUS) == QUARANTINED).cast(KEYS_SCHEMA)
        all_keys = pl.concat([index_keys(judged, clean, config), carried, quarantine_keys(batch.new_quarantine)])
        all_keys.write_parquet(scratch / "index" / f"keys-v{number:05d}.parquet")
    report = build_report(whole_run_facts(judged, batch.quarantine.drop(SEEN), Context(config)), config, timer.seconds, [], [])
    check_reconciled(report.counts)
    before = pl.concat([pl.read_parquet(p, columns=[C.SOURCE, C.ROW]) for p in previous.files("clean")])
    after = clean.select(C.SOURCE, pl.col(C.ROW).cast(pl.Int64))
    added = after.join(before, on=[C.SOURCE, C.ROW], how="anti").height
    removed = before.join(after, on=[C.SOURCE, C.ROW], how="anti").height
    report.refresh = _refresh_section(number, previous, added, removed, rejected, batch.seen.height, True, clean.height, config)
    report.refresh["rows_recurated"] = everything.height
    return report


def _refresh_section(number, previous, added, removed, rejected, seen, recurated, clean_total, config) -> dict:
    by_reason = most_first(count_items(rejected, C.REASONS))
    return {
        "config_fingerprint": fingerprint(config),
        "version": number,
        "previous_version": previous.number if previous else None,
        "rows_added": added,
        "rows_removed": removed,
        "rejected_by_reason": by_reason,
        "duplicates_of_previous": by_reason.get(PREVIOUS, 0),
        "rows_seen_before": seen,
        "config_changed": recurated,
        "clean_total": clean_total,
    }


def write_version(directory: Path, report: dict, previous: Version | None, extra_fields: dict | None = None) -> None:
    """report.json/html/md and the manifest. Files linked from the previous version
    keep its manifest entries (same bytes) instead of being hashed again."""
    identity = {
        "version": report["refresh"]["version"],
        "parent": report["refresh"]["previous_version"],
        "inputs": report["inputs"],
        "refresh": report["refresh"],
        "config_fingerprint": report["refresh"]["config_fingerprint"],
        "extra_fields": extra_fields,  # the types the next refresh holds new rows to
    }
    earlier = (previous.path, previous.manifest["files"]) if previous else None
    write_run_record(directory, report, identity=identity, earlier=earlier)


def check_version(version: Version) -> list[str]:
    """Problems with a published version: files whose sha256 or presence differ from its manifest."""
    problems = []
    for entry in version.manifest["files"]:
        path = version.path / entry["path"]
        if not path.is_file():
            problems.append(f"missing {entry['path']}")
        elif sha256_of(path) != entry["sha256"]:
            problems.append(f"changed {entry['path']}")
    return problems
