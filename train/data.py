"""Training data: clean shards -> Alpaca prompts -> token ids with the prompt masked.

A record becomes a sequence through ``train.template`` only, the module curation counts
tokens with, so "does this response fit?" is answered on the very sequence training
sees: curation's ``_tokens_total`` is ``len(input_ids)`` before truncation, and
``too_long`` fires exactly where ``encode_record`` truncates or leaves a record out
(``tests/test_agreement.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from train.errors import InputError
from train.template import prompt_ids, response_ids

FIELDS = ("instruction", "input", "output")

IGNORE_INDEX = -100  # the label torch's cross-entropy skips


@dataclass
class Example:
    input_ids: list[int]
    labels: list[int]

    def __len__(self) -> int:
        return len(self.input_ids)

    def features(self) -> dict[str, list[int]]:
        """What a transformers data collator takes."""
        return {"input_ids": self.input_ids, "labels": self.labels}


@dataclass
class DataSplits:
    train: list[Example]
    eval: list[Example]
    records: int
    skipped_too_long: int = 0
    truncated: int = 0


def find_shards(data_dir: str | Path) -> list[Path]:
    directory = Path(data_dir)
    if not directory.exists():
        raise InputError(f"training data directory not found: {directory}")
    if not directory.is_dir():
        raise InputError(f"--data must be a directory of Parquet shards (DIR/clean), got a file: {directory}")
    shards = sorted(directory.glob("*.parquet"))
    if not shards:
        hint = f"; did you mean {directory / 'clean'}?" if (directory / "clean").is_dir() else ""
        raise InputError(f"no Parquet shards (*.parquet) in {directory}{hint}")
    return shards


def load_records(data_dir: str | Path):
    """The clean shards as a ``datasets.Dataset`` with instruction, input and output only."""
    import pyarrow.parquet as pq
    from datasets import Dataset, disable_progress_bars

    shards = find_shards(data_dir)
    try:
        rows = sum(pq.ParquetFile(path).metadata.num_rows for path in shards)
    except Exception as error:  # pyarrow raises several types for a damaged file
        raise InputError(f"cannot read Parquet shards in {data_dir}: {error}") from None
    if rows == 0:
        raise InputError(f"no records in the shards of {data_dir}")  # datasets cannot load zero rows
    disable_progress_bars()  # a bar per load of a few shards is noise
    try:
        dataset = Dataset.from_parquet([str(path) for path in shards], keep_in_memory=True)
    except Exception as error:  # pyarrow raises several types for a damaged file
        raise InputError(f"cannot read Parquet shards in {data_dir}: {error}") from None
    missing = [name for name in FIELDS if name not in dataset.column_names]
    if missing:
        raise InputError(f"shards in {data_dir} lack column(s) {', '.join(missing)}")
    dataset = dataset.select_columns(list(FIELDS))
    if len(dataset) == 0:
        raise InputError(f"no records in the shards of {data_dir}")
    return dataset


def encode_record(
    tokenizer, instruction: str, input: str, output: str, max_seq_len: int, mask_prompt: bool = True
) -> tuple[Example | None, bool]:
    """One record as token ids and labels; (None, _) when the prompt alone fills max_seq_len.

    Returns the example and whether its response was truncated. The label of the very
    first token is always IGNORE_INDEX: nothing precedes it, and when samples are packed
    it keeps the last token of one sample from being trained to predict the next sample.
    """
    prompt = prompt_ids(tokenizer.backend, instruction, input or "")
    response = response_ids(tokenizer.backend, output, tokenizer.eos_id)
    if len(prompt) >= max_seq_len:
        return None, False
    input_ids = (prompt + response)[:max_seq_len]
    prompt_labels = [IGNORE_INDEX] * len(prompt) if mask_prompt else list(prompt)
    labels = (prompt_labels + response)[:max_seq_len]
    labels[0] = IGNORE_INDEX
    return Example(input_ids, labels), len(prompt) + len(response) > max_seq_len


def split_records(dataset, eval_fraction: float, seed: int):
    """(train, eval) datasets; eval holds at least one record when eval_fraction > 0."""
    if eval_fraction == 0 or len(dataset) < 2:
        return dataset, dataset.select([])
    eval_size = max(1, round(eval_fraction * len(dataset)))
    parts = dataset.train_test_split(test_size=eval_size, seed=seed, shuffle=True)
    return parts["train"], parts["test"]


def encode_dataset(dataset, tokenizer, max_seq_len: int, mask_prompt: bool) -> tuple[list[Example], int, int]:
    """Examples of a dataset, the number left out for an over-long prompt, and the number truncated."""
    examples, skipped, truncated = [], 0, 0
    for row in dataset:
        example, was_truncated = encode_record(
            tokenizer, row["instruction"], row["input"], row["output"], max_seq_len, mask_prompt
        )
        if example is None:
            skipped += 1
            continue
        examples.append(example)
        truncated += was_truncated
    return examples, skipped, truncated


def build_splits(records, tokenizer, max_seq_len: int, mask_prompt: bool, eval_fraction: float, seed: int) -> DataSplits:
    """Split the records (from ``load_records``) and encode both parts."""
    train_records, eval_records = split_records(records, eval_fraction, seed)
    train, skipped_train, truncated_train = encode_dataset(train_records, tokenizer, max_seq_len, mask_prompt)
    eval_, skipped_eval, truncated_eval = encode_dataset(eval_records, tokenizer, max_seq_len, mask_prompt)
    if not train:
        raise InputError(f"no training sample fits --max-seq-len {max_seq_len}: every prompt is longer")
    return DataSplits(
        train=train,
        eval=eval_,
        records=len(records),
        skipped_too_long=skipped_train + skipped_eval,
        truncated=truncated_train + truncated_eval,
    )


def epoch_batches(lengths: list[int], batch_size: int, seed: int, epoch: int, group_by_length: bool) -> list[list[int]]:
    """Sample indices per micro-batch for one epoch, a pure function of (seed, epoch).

    Being a pure function is what lets ``--resume`` continue at the exact micro-batch.
    Grouping by length (for padded batches) sorts samples within windows of 50 batches,
    so a batch holds samples of similar length and little padding, and then shuffles
    the batches so that training does not see short samples first.
    """
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths))
    if group_by_length:
        window = 50 * batch_size
        order = np.concatenate(
            [sorted(order[i : i + window], key=lambda index: lengths[index]) for i in range(0, len(order), window)]
        )
    batches = [order[i : i + batch_size].tolist() for i in range(0, len(order), batch_size)]
    if group_by_length:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def micro_batches(lengths: list[int], batch_size: int, seed: int, group_by_length: bool, start: int = 0):
    """The endless stream of micro-batches over epochs, from the ``start``-th one."""
    epoch, skipped = 0, 0
    while True:
        batches = epoch_batches(lengths, batch_size, seed, epoch, group_by_length)
        for batch in batches:
            if skipped >= start:
                yield batch
            skipped += 1
        epoch += 1


def micro_batches_per_epoch(samples: int, batch_size: int) -> int:
    return -(-samples // batch_size)
