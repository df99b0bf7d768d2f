"""Attacks a hostile user tried (issue 15), one test per failure found: no crash on
one record, no lost file, no corrupted state, errors in one line.

Each test names its item. Item 1 (two refreshes at once) is in
tests/engines/test_refresh_concurrency.py.
"""

from __future__ import annotations

import errno
import json
import os
import time
from pathlib import Path

import polars as pl
import pytest

from pipeline.cli import main
from pipeline.publish import write as publish_write
from tests.conftest import write_jsonl

GOOD = [
    {"instruction": "Name the largest planet in the solar system.", "input": "",
     "output": "Jupiter is the largest planet in the solar system."},
    {"instruction": "Give a synonym for the word happy.", "input": "", "output": "A synonym for happy is joyful."},
    {"instruction": "Name the chemical symbol for gold.", "input": "", "output": "The chemical symbol for gold is Au."},
]


def curate(capsys, *argv) -> tuple[int, str]:
    """Exit status and stderr of one in-process command."""
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


def counts(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))["counts"]


def shard(out: Path, part: str) -> pl.DataFrame:
    return pl.concat([pl.read_parquet(p) for p in sorted((out / part).glob("*.parquet"))], how="diagonal_relaxed")


def errors(out: Path) -> list[str]:
    return shard(out, "quarantine").get_column("_error").to_list()


def reconciled(out: Path, rows_in: int) -> dict:
    found = counts(out)
    assert found["rows_in"] == rows_in == found["clean"] + found["rejected"] + found["quarantined"]
    return found


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("curate") and "error" in lines[0], err
    assert "Traceback" not in err
    return lines[0]


# ------------------------------------------------------------------ item 2: one record must not crash the run

DEEP = "[" * 5000 + "]" * 5000
HOSTILE_LINES = {
    "lone surrogate": ('{"instruction": "Say \\ud800 hi", "output": "Hello."}', "lone surrogate"),
    "empty object": ('{"instruction": "Say hi.", "output": "Hello.", "meta": {}}', "empty object"),
    "deep line": ('{"instruction": "Say hi.", "output": "Hello.", "x": ' + DEEP + "}", "nested too deeply"),
    "deep extra field": ('{"instruction": "Say hi.", "output": "Hello.", "x": ' + "[" * 100 + "]" * 100 + "}",
                         "nested deeper than"),
    "huge integer": ('{"instruction": "Say hi.", "output": "Hello.", "n": ' + "9" * 400 + "}", "64-bit range"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_LINES))
def test_item2_one_hostile_line_is_quarantined_alone(capsys, tmp_path, name):
    line, reason = HOSTILE_LINES[name]
    path = write_jsonl(tmp_path / "in.jsonl", [*GOOD, line])
    code, err = curate(capsys, "run", path, "--out", tmp_path / "out")
    assert code == 0, err
    found = reconciled(tmp_path / "out", 4)
    assert found["quarantined"] == 1 and reason in errors(tmp_path / "out")[0]


def test_item2_an_extra_field_object_then_string_then_list_keeps_the_first_type(capsys, tmp_path):
    rows = [{**GOOD[0], "meta": {"a": 1}}, {**GOOD[1], "meta": "text"}, {**GOOD[2], "meta": [1]}]
    code, err = curate(capsys, "run", write_jsonl(tmp_path / "in.jsonl", rows), "--out", tmp_path / "out")
    assert code == 0, err
    reconciled(tmp_path / "out", 3)
    assert shard(tmp_path / "out", "clean").get_column("meta").to_list() == [{"a": 1}]
    assert errors(tmp_path / "out") == [
        "extra field 'meta' is a string here but an object in earlier records",
        "extra field 'meta' is a list here but an object in earlier records",
    ]


def test_item2_a_json_file_with_one_element_too_deep_keeps_the_others(capsys, tmp_path):
    path = tmp_path / "in.json"
    path.write_text("[" + json.dumps(GOOD[0]) + ', {"instruction": "x", "output": "y", "z": ' + DEEP + "}, "
                    + json.dumps(GOOD[1]) + "]", encoding="utf-8")
    code, err = curate(capsys, "run", path, "--out", tmp_path / "out")
    assert code == 0, err
    assert reconciled(tmp_path / "out", 3)["clean"] == 2
    assert errors(tmp_path / "out") == ["nested too deeply to parse"]


@pytest.mark.parametrize("instruction", [
    "Calculate " + "(" * 300 + "1+1" + ")" * 300,
    "Calculate " + "^".join(["1"] * 1000),
])
def test_item2_arithmetic_rule_survives_an_expression_built_to_recurse(capsys, tmp_path, instruction):
    path = write_jsonl(tmp_path / "in.jsonl", [{"instruction": instruction, "input": "", "output": "2"}])
    code, err = curate(capsys, "run", path, "--out", tmp_path / "out")
    assert code == 0, err
    reconciled(tmp_path / "out", 1)


# ------------------------------------------------------------------ item 3: symlink loops

def test_item3_links_back_to_the_directory_end_the_walk_and_read_each_file_once(capsys, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    write_jsonl(data / "in.jsonl", GOOD)
    os.symlink(".", data / "loop1")
    os.symlink(".", data / "loop2")
    os.symlink(data, data / "again")
    started = time.monotonic()
    code, err = curate(capsys, "run", data, "--out", tmp_path / "out")
    assert code == 0, err
    assert time.monotonic() - started < 60
    reconciled(tmp_path / "out", 3)


# ------------------------------------------------------------------ item 4: an input inside --out

def test_item4_an_input_inside_out_is_refused_and_kept(capsys, tmp_path):
    out = tmp_path / "run1"
    assert curate(capsys, "run", write_jsonl(tmp_path / "in.jsonl", GOOD), "--out", out)[0] == 0
    new = write_jsonl(out / "new.jsonl", GOOD)
    code, err = curate(capsys, "run", new, "--out", out)
    assert code == 2 and "inside" in one_error_line(err)
    assert new.exists() and (out / "manifest.json").exists()


# ------------------------------------------------------------------ item 5: refresh keeps published values

def test_item5_refresh_never_rewrites_a_published_value_of_another_type(capsys, tmp_path):
    state = tmp_path / "state"
    first = write_jsonl(tmp_path / "one.jsonl", [{**GOOD[0], "a": 42}])
    assert curate(capsys, "refresh", first, "--state", state)[0] == 0
    published = next((state / "versions" / "1" / "clean").glob("*.parquet"))
    before = published.read_bytes()
    second = write_jsonl(tmp_path / "two.jsonl", [{**GOOD[1], "a": "text"}, {**GOOD[2], "a": 7}])
    assert curate(capsys, "refresh", second, "--state", state)[0] == 0
    third = write_jsonl(tmp_path / "three.jsonl", [{**GOOD[0], "instruction": "Name a red fruit.", "a": [1]}])
    assert curate(capsys, "refresh", third, "--state", state)[0] == 0  # a list after a string: no crash
    clean = shard(state / "versions" / "3", "clean")
    assert clean.get_column("a").to_list() == [42, 7] and clean.schema["a"] == pl.Int64
    assert (state / "versions" / "3" / "clean" / published.name).read_bytes() == before
    quarantined = shard(state / "versions" / "3", "quarantine").get_column("_error").to_list()
    assert quarantined == ["extra field 'a' is a list here but an integer in earlier records"]


# ------------------------------------------------------------------ item 6: the user's own _fields

def test_item6_underscore_fields_that_are_not_the_pipelines_are_kept(capsys, tmp_path):
    rows = [{**GOOD[0], "_id": 7, "_meta": {"k": "v"}}, {**GOOD[0], "_id": 8, "_meta": {"k": "w"}}]
    code, err = curate(capsys, "run", write_jsonl(tmp_path / "in.jsonl", rows), "--out", tmp_path / "out")
    assert code == 0, err
    assert shard(tmp_path / "out", "clean").select("_id", "_meta").to_dicts() == [{"_id": 7, "_meta": {"k": "v"}}]
    assert shard(tmp_path / "out", "rejected").select("_id", "_meta").to_dicts() == [{"_id": 8, "_meta": {"k": "w"}}]


def test_item6_a_field_named_like_a_pipeline_column_is_quarantined_with_its_name(capsys, tmp_path):
    rows = [{**GOOD[0], "_tokens_total": 3}]
    assert curate(capsys, "run", write_jsonl(tmp_path / "in.jsonl", rows), "--out", tmp_path / "out")[0] == 0
    assert "_tokens_total" in errors(tmp_path / "out")[0]


# ------------------------------------------------------------------ item 7: records counted one by one

def _lines_in_json(path: Path) -> int:
    path.write_text("\n".join([json.dumps(GOOD[0]), "{not json", json.dumps(GOOD[1])]) + "\n", encoding="utf-8")
    return 3


def _ragged_csv(path: Path) -> int:
    path.write_text("instruction,input,output\nName a colour.,,Red is a colour.\nRagged,row,with,four\n"
                    "Short row\nName a fruit.,,An apple is a fruit.\n", encoding="utf-8")
    return 4


def _unclosed_quote_csv(path: Path) -> int:
    path.write_text('instruction,input,output\nName a colour.,,Red is a colour.\n"Unclosed quote,,oops\n'
                    "Name a fruit.,,An apple is a fruit.\n", encoding="utf-8")
    return 3


@pytest.mark.parametrize("name, write, bad", [
    ("lines.json", _lines_in_json, 1),
    ("ragged.csv", _ragged_csv, 2),
    ("quote.csv", _unclosed_quote_csv, 1),
])
def test_item7_one_bad_record_is_one_quarantine_row(capsys, tmp_path, name, write, bad):
    rows_in = write(tmp_path / name)
    code, err = curate(capsys, "run", tmp_path / name, "--out", tmp_path / "out")
    assert code == 0, err
    found = reconciled(tmp_path / "out", rows_in)
    assert found["quarantined"] == bad and found["clean"] == 2


# ------------------------------------------------------------------ item 8: the tool's own output

def test_item8_a_run_never_reads_its_own_output(capsys, tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    write_jsonl(project / "in.jsonl", GOOD)
    for _ in range(3):
        code, err = curate(capsys, "run", project, "--out", project / "curated")
        assert code == 0, err
        reconciled(project / "curated", 3)


def test_item8_a_curated_set_curates_again(capsys, tmp_path):
    assert curate(capsys, "run", write_jsonl(tmp_path / "in.jsonl", GOOD), "--out", tmp_path / "one")[0] == 0
    code, err = curate(capsys, "run", tmp_path / "one" / "clean", "--out", tmp_path / "two")
    assert code == 0, err
    assert reconciled(tmp_path / "two", 3)["clean"] == 3


def test_item8_a_curate_output_given_whole_says_to_give_its_clean_folder(capsys, tmp_path):
    assert curate(capsys, "run", write_jsonl(tmp_path / "in.jsonl", GOOD), "--out", tmp_path / "one")[0] == 0
    code, err = curate(capsys, "run", tmp_path / "one", "--out", tmp_path / "two")
    assert code == 2 and "clean" in one_error_line(err)


# ------------------------------------------------------------------ item 9: one file, three spellings

def test_item9_one_file_given_three_ways_is_read_once(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "f.jsonl", GOOD)
    os.symlink(tmp_path / "f.jsonl", tmp_path / "link.jsonl")
    code, err = curate(capsys, "run", "f.jsonl", "./f.jsonl", tmp_path / "f.jsonl", "link.jsonl", "--out", "out")
    assert code == 0, err
    reconciled(tmp_path / "out", 3)
    assert set(shard(tmp_path / "out", "clean").get_column("_source")) == {"f.jsonl"}


# ------------------------------------------------------------------ item 11: config checked before the work

@pytest.mark.parametrize("toml, named", [
    ("[dedup]\nseed = -1\n", "dedup.seed"),
    ("[dedup]\nseed = 99999999999\n", "dedup.seed"),
    ('[output]\ncompression = "bogus"\n', "output.compression"),
    ('[rules]\nlanguages = ["xx-bogus"]\n', "rules.languages"),
])
def test_item11_bad_config_values_fail_before_any_work(capsys, tmp_path, toml, named):
    config = tmp_path / "c.toml"
    config.write_text(toml, encoding="utf-8")
    code, err = curate(capsys, "run", write_jsonl(tmp_path / "in.jsonl", GOOD), "--out", tmp_path / "out",
                       "--config", config)
    assert code == 2 and named in one_error_line(err)
    assert not (tmp_path / "out").exists()


def test_item11_languages_fr_drops_english_rows(capsys, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[rules]\nlanguages = ["fr"]\n', encoding="utf-8")
    french = {"instruction": "Décris la ville de Paris en une phrase.", "input": "",
              "output": "Paris est la capitale de la France, célèbre pour ses musées et ses monuments."}
    english = {"instruction": "Describe the city of London in one sentence, please.", "input": "",
               "output": "London is the capital of England, known for its museums, parks and long history."}
    path = write_jsonl(tmp_path / "in.jsonl", [french, english])
    assert curate(capsys, "run", path, "--out", tmp_path / "out", "--config", config)[0] == 0
    assert shard(tmp_path / "out", "clean").get_column("instruction").to_list() == [french["instruction"]]
    assert shard(tmp_path / "out", "rejected").get_column("_reasons").to_list() == [["non_english"]]


# ------------------------------------------------------------------ item 12: scratch of killed runs

def test_item12_scratch_of_a_killed_run_is_removed_and_a_live_ones_kept(capsys, tmp_path):
    dead = tmp_path / ".out.building-999999999-abc"  # no such pid
    stale_previous = tmp_path / ".out.previous-999999999"
    live = tmp_path / f".out.building-{os.getppid()}-xyz"
    for path in (dead, stale_previous, live):
        (path / "clean").mkdir(parents=True)
    code, err = curate(capsys, "run", write_jsonl(tmp_path / "in.jsonl", GOOD), "--out", tmp_path / "out")
    assert code == 0, err
    assert not dead.exists() and not stale_previous.exists() and live.exists()


# ------------------------------------------------------------------ item 13: environment failures in one line

@pytest.mark.parametrize("given", ["a.jsonl", "."])
def test_item13_looping_file_symlink_is_one_line(capsys, tmp_path, given):
    data = tmp_path / "data"
    data.mkdir()
    os.symlink(data / "b.jsonl", data / "a.jsonl")
    os.symlink(data / "a.jsonl", data / "b.jsonl")
    code, err = curate(capsys, "run", data / given, "--out", tmp_path / "out")
    assert code == 2 and "a.jsonl" in one_error_line(err)


def test_item13_out_under_a_file_fails_before_the_work(capsys, tmp_path):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    code, err = curate(capsys, "run", write_jsonl(tmp_path / "in.jsonl", GOOD), "--out", tmp_path / "file" / "out")
    assert code == 2 and "not a directory" in one_error_line(err)  # one line: no progress was printed


def test_item13_full_disk_is_one_line_and_keeps_the_previous_output(capsys, tmp_path, monkeypatch):
    path = write_jsonl(tmp_path / "in.jsonl", GOOD)
    assert curate(capsys, "run", path, "--out", tmp_path / "out")[0] == 0
    before = (tmp_path / "out" / "manifest.json").read_bytes()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "out"))

    monkeypatch.setattr(publish_write, "write_json", full)
    code, err = curate(capsys, "run", path, "--out", tmp_path / "out")
    assert code == 2 and "No space left on device" in err.strip().splitlines()[-1] and "Traceback" not in err
    assert (tmp_path / "out" / "manifest.json").read_bytes() == before
    assert not list(tmp_path.glob(".out.building-*"))


def _garbage_current(state: Path) -> None:
    (state / "CURRENT").write_text("garbage\n", encoding="utf-8")


def _missing_version(state: Path) -> None:
    (state / "CURRENT").write_text("7\n", encoding="utf-8")


def _corrupt_manifest(state: Path) -> None:
    (state / "versions" / "1" / "manifest.json").write_text("{not json", encoding="utf-8")


def _missing_index(state: Path) -> None:  # item 15
    for path in (state / "versions" / "1" / "index").glob("keys-*"):
        path.unlink()


@pytest.mark.parametrize("damage, said", [
    (_garbage_current, "CURRENT"),
    (_missing_version, "version 7"),
    (_corrupt_manifest, "manifest.json"),
    (_missing_index, "keys-"),
])
def test_item13_item15_a_damaged_state_is_one_line_not_a_fresh_start(capsys, tmp_path, damage, said):
    state = tmp_path / "state"
    assert curate(capsys, "refresh", write_jsonl(tmp_path / "one.jsonl", GOOD[:1]), "--state", state)[0] == 0
    damage(state)
    code, err = curate(capsys, "refresh", write_jsonl(tmp_path / "two.jsonl", GOOD[1:]), "--state", state)
    assert code == 2 and said in one_error_line(err)


def test_item13_state_that_is_a_file_is_one_line(capsys, tmp_path):
    (tmp_path / "state").write_text("x", encoding="utf-8")
    code, err = curate(capsys, "refresh", write_jsonl(tmp_path / "in.jsonl", GOOD), "--state", tmp_path / "state")
    assert code == 2 and "is a file" in one_error_line(err)


@pytest.mark.parametrize("report", [{"counts": {}}, {"counts": {"rows_in": "many"}}, {"counts": {"clean": 1}, "rules": 5}])
def test_item13_report_on_a_damaged_report_json_is_one_line(capsys, tmp_path, report):
    assert curate(capsys, "run", write_jsonl(tmp_path / "in.jsonl", GOOD), "--out", tmp_path / "out")[0] == 0
    (tmp_path / "out" / "report.json").write_text(json.dumps(report), encoding="utf-8")
    code, err = curate(capsys, "report", tmp_path / "out")
    assert code == 2 and "report.json" in one_error_line(err)


# ------------------------------------------------------------------ item 14: encodings

def test_item14_invalid_utf8_is_repaired_and_says_so(capsys, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"instruction": "Name the caf\xe9 dish.", "output": "Soup of the day."}\n'
                     + json.dumps(GOOD[0]).encode() + b"\n")
    assert curate(capsys, "run", path, "--out", tmp_path / "out")[0] == 0
    clean = shard(tmp_path / "out", "clean").sort("_row")
    assert clean.get_column("_repairs").to_list() == [["invalid_utf8"], []]
    assert clean.get_column("instruction")[0] == "Name the caf\ufffd dish."


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_item14_utf16_input_is_read_as_utf16(capsys, tmp_path, encoding):
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in GOOD) + "\n", encoding=encoding)
    assert curate(capsys, "run", path, "--out", tmp_path / "out")[0] == 0
    assert reconciled(tmp_path / "out", 3)["clean"] == 3


# ------------------------------------------------------------------ item 15: what is not a state

def test_item15_a_curate_run_output_is_not_a_state(capsys, tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", GOOD)
    assert curate(capsys, "run", path, "--out", tmp_path / "out")[0] == 0
    code, err = curate(capsys, "refresh", path, "--state", tmp_path / "out")
    assert code == 2 and "curate run" in one_error_line(err)


# ------------------------------------------------------------------ item 16: report.md and hostile file names

def test_item16_report_md_shows_a_hostile_file_name_as_text(capsys, tmp_path):
    path = write_jsonl(tmp_path / "a`b<img src=x onerror=alert(1)>.jsonl", GOOD)
    assert curate(capsys, "run", path, "--out", tmp_path / "out")[0] == 0
    heading = (tmp_path / "out" / "report.md").read_text(encoding="utf-8").splitlines()[0]
    assert heading == "## Data-quality report: `` a`b<img src=x onerror=alert(1)>.jsonl ``"


# ------------------------------------------------------------------ item 17: one line, first

def test_item17_usage_errors_are_one_line_without_the_usage_text(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--out"])
    assert exit_.value.code == 2
    line = one_error_line(capsys.readouterr().err)
    assert "usage:" not in line and "--help" in line


@pytest.mark.parametrize("name", ["notes.txt", "a.jsonl.bak"])
def test_item17_an_input_that_cannot_be_read_is_the_only_line(capsys, tmp_path, name):
    (tmp_path / name).write_text("hello", encoding="utf-8")
    code, err = curate(capsys, "run", write_jsonl(tmp_path / "in.jsonl", GOOD), tmp_path / name, "--out", tmp_path / "out")
    assert code == 2 and "unsupported file type" in one_error_line(err)  # no progress line before it


def test_item13_a_state_whose_lock_cannot_be_opened_is_one_line(capsys, tmp_path):
    state = tmp_path / "state"
    (state / "LOCK").mkdir(parents=True)  # opening it for writing fails, even for root
    code, err = curate(capsys, "refresh", write_jsonl(tmp_path / "in.jsonl", GOOD), "--state", state)
    assert code == 2 and "cannot lock state" in one_error_line(err)


def test_item13_out_in_a_read_only_directory_fails_before_the_work(capsys, tmp_path, monkeypatch):
    """Simulated: the tests may run as root, for whom no directory is read-only."""

    def read_only(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(publish_write.tempfile, "mkdtemp", read_only)
    code, err = curate(capsys, "run", write_jsonl(tmp_path / "in.jsonl", GOOD), "--out", tmp_path / "out")
    assert code == 2 and "Permission denied" in one_error_line(err)


def test_item2_a_record_conflicting_on_two_fields_names_the_first_in_record_order(capsys, tmp_path):
    # Named from the record's order, not a set's: the same text in every run and engine.
    rows = [{**GOOD[0], "zeta": 1, "alpha": 1}, {**GOOD[1], "zeta": "x", "alpha": "x"}]
    assert curate(capsys, "run", write_jsonl(tmp_path / "in.jsonl", rows), "--out", tmp_path / "out")[0] == 0
    assert errors(tmp_path / "out") == ["extra field 'zeta' is a string here but an integer in earlier records"]


@pytest.mark.parametrize("name", ["", "a\u0000b"])
def test_item2_a_field_name_arrow_cannot_carry_is_quarantined(capsys, tmp_path, name):
    rows = [GOOD[0], {**GOOD[1], name: 1}]
    assert curate(capsys, "run", write_jsonl(tmp_path / "in.jsonl", rows), "--out", tmp_path / "out")[0] == 0
    assert reconciled(tmp_path / "out", 2)["quarantined"] == 1
    assert "field name" in errors(tmp_path / "out")[0]


@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGTERM"])
def test_item12_scratch_left_by_a_killed_writer_goes_at_the_next_run(capsys, tmp_path, signal_name):
    import signal
    import subprocess
    import sys

    writer = ("import sys, time\nfrom pathlib import Path\nfrom pipeline.publish.write import publishing\n"
              "with publishing(Path(sys.argv[1])) as scratch:\n"
              "    (scratch / 'clean').mkdir()\n    print(scratch, flush=True)\n    time.sleep(120)\n")
    process = subprocess.Popen([sys.executable, "-c", writer, str(tmp_path / "out")], stdout=subprocess.PIPE, text=True)
    scratch = Path(process.stdout.readline().strip())
    process.send_signal(getattr(signal, signal_name))
    process.wait(timeout=30)
    assert scratch.is_dir()  # what the kill left behind
    code, err = curate(capsys, "run", write_jsonl(tmp_path / "in.jsonl", GOOD), "--out", tmp_path / "out")
    assert code == 0, err
    assert not scratch.exists() and not list(tmp_path.glob(".out.*"))
