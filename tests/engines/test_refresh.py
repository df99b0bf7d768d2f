"""curate refresh: overlap, idempotence, crash safety, config changes."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from pipeline.cli import main
from pipeline.engines.refresh import State, check_version
from tests.conftest import write_jsonl

ROOT = Path(__file__).resolve().parents[2]

# Distinct tasks, each clean under the default rules.
TASKS = [
    ("Name the largest planet in the solar system.", "", "Jupiter is the largest planet in the solar system."),
    ("Translate the phrase into French.", "Good morning, my friend.", "Bonjour, mon ami."),
    ("Give a synonym for the word happy.", "", "A synonym for happy is joyful."),
    ("Explain what photosynthesis does for a plant.", "",
     "Photosynthesis turns light, water and carbon dioxide into sugar that feeds the plant, releasing oxygen."),
    ("Sort the numbers from smallest to largest.", "9, 2, 7, 4", "2, 4, 7, 9"),
    ("Write a haiku about autumn leaves.", "",
     "Red leaves drift and fall,\nwhispering to the cold ground,\nsummer says goodbye."),
    ("Name the chemical symbol for gold.", "", "The chemical symbol for gold is Au."),
    ("Describe the water cycle in two sentences.", "",
     "Water evaporates from seas and lakes, cools into clouds and falls as rain or snow. "
     "It then flows back through rivers and ground water to the sea."),
]
NEAR_SOURCE = ("Summarise the main causes of the French Revolution in a short paragraph.", "",
               "The French Revolution grew out of a deep financial crisis, heavy taxes on the common people, "
               "food shortages after poor harvests, the ideas of the Enlightenment and the resentment of a "
               "privileged nobility and clergy who paid almost nothing.")
NEAR_COPY = (NEAR_SOURCE[0], "", NEAR_SOURCE[2].replace("almost nothing", "nearly nothing"))


def rec(task: tuple[str, str, str]) -> dict:
    return {"instruction": task[0], "input": task[1], "output": task[2]}


def refresh(capsys, state: Path, *inputs: Path, config: Path | None = None) -> str:
    argv = ["refresh", *map(str, inputs), "--state", str(state)] + (["--config", str(config)] if config else [])
    assert main(argv) == 0
    captured = capsys.readouterr()
    return captured.out + captured.err


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """Every file under ``root``: sha256 and mtime (ns); directories too (mtime)."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.name == "LOCK":  # names the last refresh that held the state; not state
            continue
        stat = path.stat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        found[path.relative_to(root).as_posix()] = (digest, stat.st_mtime_ns)
    found["."] = ("dir", root.stat().st_mtime_ns)
    return found


def current(state: Path):
    return State(state).current()


def rejected(state: Path) -> pl.DataFrame:
    return pl.read_parquet(current(state).path / "rejected")


def clean(state: Path) -> pl.DataFrame:
    return pl.read_parquet(current(state).path / "clean")  # one schema across shards


@pytest.fixture
def batches(tmp_path):
    one = write_jsonl(tmp_path / "batch1.jsonl", [rec(t) for t in TASKS[:5]] + [rec(NEAR_SOURCE)])
    # Overlap: two verbatim rows and a near copy of a published row, plus three new ones.
    two = write_jsonl(tmp_path / "batch2.jsonl", [rec(TASKS[1]), rec(TASKS[3]), rec(NEAR_COPY)] + [rec(t) for t in TASKS[5:]])
    return one, two


def test_overlap_of_two_batches_is_rejected_as_duplicate_of_previous(capsys, tmp_path, batches):
    state = tmp_path / "state"
    one, two = batches
    refresh(capsys, state, one)
    assert current(state).number == 1 and clean(state).height == 6
    out = refresh(capsys, state, two)
    version = current(state)
    assert version.number == 2
    dups = rejected(state).filter(pl.col("_reasons").list.contains("duplicate_of_previous"))
    lineage = {(r["_row"], r["_duplicate_of"]["_row"]) for r in dups.to_dicts()}
    assert lineage == {(0, 1), (1, 3), (2, 5)}  # batch 2 row -> the batch 1 row it repeats
    assert set(dups.get_column("_duplicate_of").struct.field("_source")) == {str(one)}
    assert clean(state).height == 6 + 3  # the published rows stayed, the three new ones joined them
    assert version.manifest["refresh"]["rows_seen_before"] == 2
    assert version.manifest["refresh"]["duplicates_of_previous"] == 3
    assert version.manifest["refresh"]["rows_added"] == 3
    counts = version.manifest["counts"]
    assert counts["rows_in"] == 6 == counts["clean"] + counts["rejected"] + counts["quarantined"]
    assert "duplicates of earlier batches" in out and check_version(version) == []


def test_published_row_survives_even_when_a_new_copy_ranks_higher(capsys, tmp_path):
    """The new copy has the longer output, which would win in a full run."""
    state = tmp_path / "state"
    published = ("Explain why the sky is blue.", "", "Sunlight scatters off air molecules, and blue light scatters the most.")
    longer = (published[0], "", published[2] + " So the sky looks blue.")
    refresh(capsys, state, write_jsonl(tmp_path / "a.jsonl", [rec(published)]))
    refresh(capsys, state, write_jsonl(tmp_path / "b.jsonl", [rec(longer), rec(TASKS[0])]))
    assert clean(state).get_column("output").to_list() == [published[2], TASKS[0][2]]
    assert rejected(state).get_column("_reasons").to_list() == [["duplicate_of_previous"]]


def test_duplicates_within_the_new_batch_keep_the_usual_reasons(capsys, tmp_path):
    state = tmp_path / "state"
    refresh(capsys, state, write_jsonl(tmp_path / "a.jsonl", [rec(TASKS[0])]))
    refresh(capsys, state, write_jsonl(tmp_path / "b.jsonl", [rec(TASKS[1]), rec(TASKS[1])]))
    assert rejected(state).get_column("_reasons").to_list() == [["exact_duplicate"]]


def test_repeated_refresh_changes_no_byte(capsys, tmp_path, batches):
    state = tmp_path / "state"
    one, two = batches
    refresh(capsys, state, one)
    refresh(capsys, state, two)
    before = snapshot(state)
    out = refresh(capsys, state, two)
    assert "nothing new" in out
    assert snapshot(state) == before
    refresh(capsys, state, one, two)  # both at once: still nothing new
    assert snapshot(state) == before


def test_rows_are_seen_by_content_not_by_file_name(capsys, tmp_path, batches):
    state = tmp_path / "state"
    one, _ = batches
    refresh(capsys, state, one)
    before = snapshot(state)
    renamed = tmp_path / "elsewhere" / "renamed.json"
    renamed.parent.mkdir()
    renamed.write_text(json.dumps([rec(t) for t in reversed(TASKS[:5] + [NEAR_SOURCE])]), encoding="utf-8")
    assert "nothing new" in refresh(capsys, state, renamed)
    assert snapshot(state) == before


def test_quarantined_lines_count_as_seen(capsys, tmp_path):
    state = tmp_path / "state"
    batch = write_jsonl(tmp_path / "a.jsonl", [rec(TASKS[0]), "{not json"])
    refresh(capsys, state, batch)
    assert current(state).manifest["counts"]["quarantined"] == 1
    before = snapshot(state)
    assert "nothing new" in refresh(capsys, state, batch)
    assert snapshot(state) == before


def test_config_change_recurates_everything_and_says_so(capsys, tmp_path, batches):
    state = tmp_path / "state"
    one, two = batches
    refresh(capsys, state, one)
    refresh(capsys, state, two)
    first_fingerprint = current(state).manifest["config_fingerprint"]
    config = tmp_path / "no_dedup.toml"
    config.write_text("[dedup]\nexact = false\nconflicting_output = false\nnear = false\n", encoding="utf-8")
    out = refresh(capsys, state, one, config=config)  # no new rows: the config alone triggers it
    version = current(state)
    # 6 rows of batch 1, 4 unseen rows of batch 2 (its two verbatim repeats were never stored twice)
    assert "config changed: re-curating all 10 rows seen so far" in out
    assert version.number == 3 and version.manifest["config_fingerprint"] != first_fingerprint
    assert version.manifest["config"]["dedup"]["near"] is False
    # Judged wholly by the new config: without dedup the near copy is clean again.
    assert clean(state).height == 10
    assert rejected(state).is_empty()
    assert version.manifest["refresh"]["config_changed"] is True
    assert check_version(version) == []
    before = snapshot(state)
    assert "nothing new" in refresh(capsys, state, one, two, config=config)
    assert snapshot(state) == before
    # And the re-curated state takes the next batch incrementally.
    extra = ("Name the capital of Japan.", "", "The capital of Japan is Tokyo.")
    out = refresh(capsys, state, write_jsonl(tmp_path / "batch3.jsonl", [rec(extra), rec(TASKS[0])]), config=config)
    assert "config changed" not in out and current(state).number == 4
    assert clean(state).height == 11 and rejected(state).get_column("_reasons").to_list() == [["duplicate_of_previous"]]


def test_rule_switched_off_re_evaluates_rows_it_rejected(capsys, tmp_path):
    state = tmp_path / "state"
    empty = {"instruction": "Name a colour of the rainbow.", "input": "", "output": ""}
    refresh(capsys, state, write_jsonl(tmp_path / "a.jsonl", [rec(TASKS[0]), empty]))
    assert rejected(state).get_column("_reasons").to_list() == [["empty_output"]]
    config = tmp_path / "lenient.toml"
    config.write_text('[severity]\nempty_output = "off"\n', encoding="utf-8")
    refresh(capsys, state, write_jsonl(tmp_path / "b.jsonl", [rec(TASKS[2])]), config=config)
    assert sorted(clean(state).get_column("instruction")) == sorted([TASKS[0][0], empty["instruction"], TASKS[2][0]])
    assert current(state).manifest["refresh"]["rows_added"] == 2


def test_leftover_version_directories_are_removed_and_reported(capsys, tmp_path, batches):
    state = tmp_path / "state"
    one, two = batches
    refresh(capsys, state, one)
    # What a crash between the rename and the switch of CURRENT leaves behind.
    (state / "versions" / "2" / "clean").mkdir(parents=True)
    (state / "versions" / ".building-x").mkdir()
    (state / ".CURRENT.12345").write_text("2\n")
    assert current(state).number == 1
    assert "left by an interrupted refresh" in refresh(capsys, state, two)
    assert current(state).number == 2 and check_version(current(state)) == []
    assert not (state / "versions" / ".building-x").exists() and not (state / ".CURRENT.12345").exists()


# ---------------------------------------------------------------- killed mid-way


@pytest.fixture(scope="module")
def large_batch(tmp_path_factory):
    from pipeline.synthetic import make_corpus, write_jsonl as write_records

    records, _ = make_corpus(12_000, seed=7)
    return write_records(records, tmp_path_factory.mktemp("large") / "large.jsonl")


def assert_is_good_version(state: Path, number: int) -> None:
    version = current(state)
    assert version is not None and version.number == number
    assert check_version(version) == []


def test_refresh_killed_midway_leaves_the_last_good_version(capsys, tmp_path, batches, large_batch):
    state = tmp_path / "state"
    one, _ = batches
    refresh(capsys, state, one)
    good = snapshot(state / "versions" / "1") | {"CURRENT": snapshot(state)["CURRENT"]}
    command = [sys.executable, "-m", "pipeline.cli", "refresh", str(large_batch), "--state", str(state)]
    interrupted = 0
    for delay in (0.3, 1.0, 2.0, 3.5):
        child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        if child.wait() == -signal.SIGKILL:
            interrupted += 1
            assert_is_good_version(state, 1)
            after = snapshot(state / "versions" / "1") | {"CURRENT": snapshot(state)["CURRENT"]}
            assert after == good
        else:  # it finished before the signal: then it must have published version 2 whole
            assert_is_good_version(state, 2)
            break
    assert interrupted >= 2, "the refresh finished too fast to be interrupted"
    if current(state).number == 1:
        # Once more while it writes the new version's files.
        child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while child.poll() is None and not any((state / "versions").glob(".building-*/clean")):
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
        if child.wait() == -signal.SIGKILL:
            assert_is_good_version(state, 1)
            assert snapshot(state / "versions" / "1") | {"CURRENT": snapshot(state)["CURRENT"]} == good
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert_is_good_version(state, 2)
    assert sorted(p.name for p in (state / "versions").iterdir()) == ["1", "2"]  # the leftovers are gone
    assert current(state).manifest["counts"]["rows_in"] == 12_000


def test_clean_folder_stays_one_table_when_a_batch_brings_a_new_field(capsys, tmp_path):
    state = tmp_path / "state"
    refresh(capsys, state, write_jsonl(tmp_path / "a.jsonl", [{**rec(TASKS[0]), "topic": "space"}]))
    refresh(capsys, state, write_jsonl(tmp_path / "b.jsonl", [{**rec(TASKS[1]), "lang": "fr"}]))
    table = clean(state)
    assert table.select("topic", "lang").rows() == [("space", None), (None, "fr")]
    first = State(state).versions / "1"
    assert check_version(State(state).current()) == [] and pl.read_parquet(first / "clean").columns[3] == "topic"
    assert "lang" not in pl.read_parquet(first / "clean").columns  # the published version was not touched


# ---------------------------------------------------------------- dedup with published rows

STORY = ("Once upon a time there was a small dragon who could not fly. Every morning he watched the birds "
         "soar over the mountains and wished that he could join them high up in the clear blue sky.")


@pytest.mark.parametrize(
    "records, published, expected",
    [
        # a published row with an empty output still survives its longer, clean copy
        ([("Write a story.", "", ""), ("Write a story.", "", STORY)], [True, False],
         [None, "duplicate_of_previous"]),
        # without the mask the better row wins, as in a full run
        ([("Write a story.", "", ""), ("Write a story.", "", STORY)], [False, False],
         ["conflicting_output", None]),
        # a near copy of a published row
        ([("Tell a story.", "", STORY), ("Tell a story.", "", STORY.replace("birds", "eagles"))], [True, False],
         [None, "duplicate_of_previous"]),
        # two new copies of each other: the usual reason
        ([("Name it.", "", "Red"), ("Name it.", "", "Red"), ("Other.", "", "Blue")], [False, False, True],
         [None, "exact_duplicate", None]),
        # two published rows are never taken back, even when they are duplicates
        ([("Name it.", "", "Red"), ("Name it.", "", "Red")], [True, True], [None, None]),
    ],
)
def test_published_rows_always_survive(records, published, expected):
    import numpy as np

    from pipeline.config import Config
    from pipeline.dedup.dedup import mark_duplicates
    from pipeline.flow import Context, stages_before

    config = Config()
    frame = pl.DataFrame(records, schema=["instruction", "input", "output"], orient="row").with_columns(
        pl.lit("in.jsonl").alias("_source"), pl.int_range(pl.len()).cast(pl.Int64).alias("_row"),
        pl.int_range(pl.len()).cast(pl.Int64).alias("_order"))
    for stage in stages_before("dedup"):
        frame = stage.apply(frame, Context(config))
    result = mark_duplicates(frame, config, published=np.array(published))
    assert result.get_column("_dedup_reason").to_list() == expected
