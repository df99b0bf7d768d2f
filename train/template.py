"""The one prompt template, and the one way a record becomes a training sequence.

Curation counts tokens (``pipeline/stages/tokens.py``) and training encodes records
(``train/data.py``) through this module only, so "fits in max_seq_len" means the
same thing on both sides:

    sequence = encode(prompt, with the tokenizer's own special tokens, e.g. a BOS)
             + encode(response, no special tokens) + [EOS]

The prompt and the response are encoded separately and concatenated: the boundary
between the masked prompt and the trained response is then exact, where encoding the
joined text could merge the last prompt token with the first response token.
``special_tokens`` says how many tokens the sequence holds beyond the prompt text and
the response text, which is what curation adds to its chunk counts.
"""

from __future__ import annotations

TEMPLATE = "alpaca"  # the name written to a curated run's manifest.json
TEMPLATES = (TEMPLATE,)

PROMPT_WITH_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides further context. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n"
)

PROMPT_NO_INPUT = (
    "Below is an instruction that describes a task. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Response:\n"
)

EOS_TOKENS = 1  # every response ends with one end-of-sequence token


def render_prompt(instruction: str, input: str = "") -> str:
    """The Alpaca prompt for one record; an empty input selects the template without input."""
    if input:
        return PROMPT_WITH_INPUT.format(instruction=instruction, input=input)
    return PROMPT_NO_INPUT.format(instruction=instruction)


def user_message(instruction: str, input: str = "") -> str:
    """The instruction and its input as one chat user turn, joined as the templates join
    them: the input follows the instruction after a blank line (no input: the instruction)."""
    return f"{instruction}\n\n{input}" if input else instruction


def prompt_ids(backend, instruction: str, input: str = "") -> list[int]:
    """The prompt's token ids, with whatever special tokens the tokenizer adds to a text (a BOS for Llama)."""
    return backend.encode(render_prompt(instruction, input or ""), add_special_tokens=True).ids


def response_ids(backend, output: str, eos_id: int) -> list[int]:
    return backend.encode(output, add_special_tokens=False).ids + [eos_id]


def prompt_special_tokens(backend) -> int:
    """How many special tokens the tokenizer adds to the prompt (0 for SmolLM2, 1 for a BOS).

    Measured on a text rather than read from the post-processor's settings, so any
    post-processor is counted as it behaves."""
    text = render_prompt("x")
    return len(backend.encode(text, add_special_tokens=True)) - len(backend.encode(text, add_special_tokens=False))


def special_tokens(backend) -> int:
    """Tokens of a training sequence beyond its prompt text and response text."""
    return prompt_special_tokens(backend) + EOS_TOKENS
