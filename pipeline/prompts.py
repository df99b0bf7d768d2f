"""The two Alpaca prompt templates, exactly as in the Alpaca release.

Token counting (rules) and training render prompts through these functions only,
so "would training truncate this response?" is answered on the very text that
training sees.
"""

from __future__ import annotations

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


def render_prompt(instruction: str, input: str = "") -> str:
    """The prompt for one record; an empty input selects the template without input."""
    if input:
        return PROMPT_WITH_INPUT.format(instruction=instruction, input=input)
    return PROMPT_NO_INPUT.format(instruction=instruction)


def user_message(instruction: str, input: str = "") -> str:
    """The instruction and its input as one chat user turn, joined as the templates join
    them: the input follows the instruction after a blank line (no input: the instruction)."""
    return f"{instruction}\n\n{input}" if input else instruction
