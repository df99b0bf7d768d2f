"""Every rule on tiny literal records: rows where it must fire, and rows where it
must not (near misses included). One parametrize row per case."""

from __future__ import annotations

import re

import polars as pl
import pytest

from rules import RULES, RuleParams

PARAMS = RuleParams()


def fires(name: str, instruction: str = "Do the task.", input: str = "", output: str = "Done.",
          params: RuleParams = PARAMS, **tokens: int) -> bool:
    row = {"instruction": [instruction], "input": [input], "output": [output]}
    row.update({f"_tokens_{field}": [count] for field, count in tokens.items()})
    return pl.DataFrame(row).select(RULES[name].expr(params)).item()


LONG_PROSE = (
    "Climate change is one of the most pressing issues facing the world today, and the data set collects "
    "measurements from many stations so that researchers can monitor the state of the climate and track "
    "changes over time, from global temperatures to greenhouse gas levels and hosts information from 1990 to"
)
LONG_FINISHED = LONG_PROSE + " 2020."

CASES = [
    # rule, instruction, input, output, fires
    ("empty_output", "Name a colour.", "", "   ", True),
    ("empty_output", "Name a colour.", "", "Red", False),
    ("placeholder_output", "Design a logo.", "", "N/A", True),
    ("placeholder_output", "Design a logo.", "", "<No Output>", True),
    ("placeholder_output", "Design a logo.", "", "<nooutput>", True),
    ("placeholder_output", "Design a logo.", "", "None", True),
    ("placeholder_output", "Design a logo.", "", "-", True),
    ("placeholder_output", "Design a UI.", "", "<No output, cannot design a graphical user interface>", True),
    ("placeholder_output", "Take a screenshot.", "", "[screenshot of Github website]", True),
    ("placeholder_output", "Which option is right?", "", "None of the above.", False),
    ("placeholder_output", "List the even numbers.", "1, 3", "[]: there are none, both are odd.", False),
    ("placeholder_output", "Is zero positive?", "", "No.", False),
    ("placeholder_output", "Who wrote this anonymous poem?", "", "Unknown.", False),
    ("output_echoes_instruction", "Write a haiku about rain.", "", "write a haiku about rain", True),
    ("output_echoes_instruction", "Write a haiku about rain.", "", "Soft rain on the roof / ...", False),
    ("input_repeats_instruction", "Edit this sentence: He go home.", "He go home.", "He goes home.", False),
    ("input_repeats_instruction", "Rewrite: The cat sat on the warm mat today.", "The cat sat on the warm mat today.", "x", True),
    ("input_repeats_instruction", "Summarise the text.", "Summarise the text.", "x", True),
    ("input_repeats_instruction", "Add 5 and 3.", "5", "8", False),
    ("truncated_output", "Write a blog post.", "", LONG_PROSE, True),
    ("truncated_output", "Write a blog post.", "", LONG_FINISHED, False),
    ("truncated_output", "Write a tweet.", "", LONG_PROSE + " #Climate #Data", False),
    ("truncated_output", "Name a city.", "", "Paris", False),
    ("truncated_output", "Write a poem.", "", "\n".join(["The rain falls softly on the roof tonight and"] * 6), False),
    ("code_missing", "Create a program that counts visitors to a website.", "",
     "The program would keep a counter of visitors and report the totals every day.", True),
    ("code_missing", "Write a Python function that reverses a string.", "", "def reverse(s):\n    return s[::-1]", False),
    ("code_missing", "Task: write a Python function that adds two numbers.", "", "It adds the two numbers.", True),
    ("code_missing", "Write a command in Bash to show the working directory.", "", "pwd", False),
    ("code_missing", "Write a Python script that prints hello.", "", "print('hello')", False),
    ("code_missing", "Construct a regular expression for words starting with b.", "", "^b\\w*", False),
    ("code_missing", "Write a script for a scene in a court trial.", "", "Judge: Order in the court.", False),
    ("code_missing", "Create a slogan for a weight loss program.", "", "Lose weight, feel great!", False),
    ("code_missing", "Explain what this function does.", "def f(x): return x", "It returns its argument.", False),
    ("external_reference", "Summarize the article.", "https://www.example.com/news/1", "The article says...", True),
    ("external_reference", "Summarize this article: www.example.com/a", "", "It says...", True),
    ("external_reference", "Describe the picture.", "<Picture Attached>", "A dog.", True),
    ("external_reference", "Describe the figure.", "![fig](https://x.org/a.png)", "A circle.", True),
    ("external_reference", "Describe the following image.", "", "A red house by a lake.", True),
    ("external_reference", "Summarize the following article.", "", "It argues that...", True),
    ("external_reference", "Describe the following image.", "A red house by a lake at dusk.", "Calm.", False),
    ("external_reference", "Write a regex that finds links in text.", "Visit www.example.com now", "www\\.\\S+", False),
    ("external_reference", "Generate the HTML code to create a link.", "https://www.example.com", "<a href>", False),
    ("external_reference", "Is the claim true? Cite a source.", "Water boils at 100 C.",
     "True at sea level. Source: https://en.wikipedia.org/wiki/Boiling_point", False),
    ("external_reference", "Edit the following sentence: She go home.", "", "She goes home.", False),
    ("image_request", "Design a logo for a coffee shop.", "", "A brown circle with a bean.", True),
    ("image_request", "Draw a picture of a cat.", "", "A cat sitting.", True),
    ("image_request", "Kindly design a logo for a bakery.", "", "A croissant in a circle.", True),
    ("image_request", "Create an image of a sunset.", "", "An orange sky.", True),
    ("image_request", "Compose a melody for a lullaby.", "", "C D E C", True),
    ("image_request", "Record a video about recycling.", "", "Here is the video.", True),
    ("image_request", "Post a funny meme about cats.", "", "![meme](https://i.imgflip.com/1.jpg)", True),
    ("image_request", "Draw a conclusion from the data.", "Sales rose 5%.", "Demand is growing.", False),
    ("image_request", "Write a caption for the painting.", "Starry Night", "Swirls of night.", False),
    ("image_request", "Compose a song about the sea.", "", "Verse 1: The waves...", False),
    ("image_request", "Create a character sketch for a villain.", "", "Ralph was cruel.", False),
    ("image_request", "Describe a painting by Monet.", "", "Water lilies.", False),
    ("merged_instruction", "Describe a hummingbird.", "",
     "Hummingbirds are small.\n##\n18. Instruction: Write a poem.\n18. Input:\n<noinput>\n18. Output:\nRoses...", True),
    ("merged_instruction", "Describe a hummingbird.", "",
     "They hover.\n11. Instruction: Write a poem about joy.\n11. Input:\n<noinput>\n11. Output:\nJoy...", True),
    ("merged_instruction", "Write an example instruction for a chatbot.", "", "Instruction: greet the user warmly.", False),
    ("merged_instruction", "List three steps.", "", "1. Mix.\n2. Bake.\n3. Serve.", False),
    ("template_leak", "Name a fruit.", "", "### Response:\nApple", True),
    ("template_leak", "Below is an instruction that describes a task. Name a fruit.", "", "Apple", True),
    ("template_leak", "Name a fruit.", "### Input:\nred", "Apple", True),
    ("template_leak", "Write a markdown heading.", "", "### Fruits", False),
    ("refusal", "Draw a cat.", "", "As an AI language model, I cannot draw pictures.", True),
    ("refusal", "Open the link.", "", "I'm sorry, but I cannot access the internet.", True),
    ("refusal", "Sing a song.", "", "I am unable to sing.", True),
    ("refusal", "Create a flow chart.", "", "This task cannot be performed by a GPT model as it requires a chart.", True),
    ("refusal", "Write a text showing sympathy.", "", "I'm sorry to hear that. It must be hard.", False),
    ("refusal", "Write a story.", "", "Tom said: I cannot believe it! I can't wait.", False),
    ("refusal", "Rewrite in the negative.", "I can do it.", "I cannot do it.", False),
    ("arithmetic_mismatch", "What is the result of multiplying 87 and 183?", "", "15781", True),
    ("arithmetic_mismatch", "What is the result of multiplying 87 and 183?", "", "15921", False),
    ("arithmetic_mismatch", "Calculate the following equation: 8 * (25 + 7)", "", "216", True),
    ("arithmetic_mismatch", "Calculate the following equation: 8 * (25 + 7)", "", "8 * (25 + 7) = 256", False),
    ("arithmetic_mismatch", "Solve the math equation: 10 - 4 x 2", "", "2", False),
    ("arithmetic_mismatch", "Calculate 4 + 5(6-3).", "", "19", False),
    ("arithmetic_mismatch", "Calculate the average of [2, 4, 5, 7, 8].", "", "The average is 5.4.", True),
    ("arithmetic_mismatch", "Calculate the average of [2, 4, 5, 7, 8].", "", "The average is 5.2.", False),
    ("arithmetic_mismatch", "Compute the average of 1, 4, 7, and 10.", "", "5.5", False),
    ("arithmetic_mismatch", "Find the median of 7,5,3,4", "", "The median is 4.", True),
    ("arithmetic_mismatch", "Multiply 987,654,321 by 12.", "", "11,851,851,852", False),
    ("arithmetic_mismatch", "Convert 4km into miles.", "", "4 km is equal to 2.48 miles.", False),
    ("arithmetic_mismatch", "Convert 4km into miles.", "", "4 km is equal to 3.1 miles.", True),
    ("arithmetic_mismatch", "Convert the given Celsius temperature to Fahrenheit.", "-6.2", "21.16 Fahrenheit.", True),
    ("arithmetic_mismatch", "Convert the temperature of 32°C to Fahrenheit.", "", "32°C is 89.6°F.", False),
    ("arithmetic_mismatch", "Write a 3-4 sentence story.", "", "Once upon a time there were 2 cats.", False),
    ("arithmetic_mismatch", "Evaluate the website on a scale of 1-10.", "", "8 out of 10.", False),
    ("arithmetic_mismatch", "Calculate 10 times 3.", "", "Thirty.", False),
    ("non_english", "Schreiben Sie einen kurzen Text über das Wetter.", "",
     "Heute ist das Wetter in Berlin sonnig und warm, aber am Abend soll es regnen und kühler werden.", True),
    ("non_english", "Escribe una frase sobre el mar.", "",
     "El mar es inmenso y azul, y las olas llegan a la playa con un sonido tranquilo cada mañana.", True),
    ("non_english", "用一句话描述春天。", "", "春天来了，花儿都开了，小鸟在树上唱歌，到处都是绿色的。", True),
    ("non_english", "Translate this sentence into French: I ate lunch at noon with my friends.", "",
     "J'ai déjeuné à midi avec mes amis, et nous avons parlé de nos vacances d'été.", False),
    ("non_english", "Describe the weather in one sentence.", "",
     "Today the weather is sunny and warm, but it will rain in the evening.", False),
    ("non_english", "Name a German city.", "", "München", False),
]


@pytest.mark.parametrize("name, instruction, input, output, expected", CASES)
def test_rule_on_one_record(name, instruction, input, output, expected):
    assert fires(name, instruction, input, output) is expected


TOKEN_CASES = [
    # rule, tokens per field, max_seq_len, fires
    ("too_long", {"total": 1025}, 1024, True),
    ("too_long", {"total": 1024}, 1024, False),
    ("too_long", {"total": 300}, 256, True),
    ("too_long", {"total": 300}, 512, False),
]


@pytest.mark.parametrize("name, tokens, max_seq_len, expected", TOKEN_CASES)
def test_length_rule_reads_the_token_columns(name, tokens, max_seq_len, expected):
    params = RuleParams().with_max_seq_len(max_seq_len)
    assert fires(name, params=params, **tokens) is expected


def _outlier_frame(output_tokens: list[int], input_tokens: list[int] | None = None) -> pl.DataFrame:
    n = len(output_tokens)
    return pl.DataFrame(
        {
            "_tokens_instruction": [12] * n,
            "_tokens_input": input_tokens or [0] * n,
            "_tokens_output": output_tokens,
        }
    )


@pytest.mark.parametrize(
    "output_tokens, input_tokens, flagged_rows",
    [
        ([40, 50, 60, 45, 55, 52, 48, 3000], None, [7]),  # one very long output
        ([40, 50, 60, 45, 55, 52, 48, 90], None, []),  # within the spread
        ([1, 50, 60, 45, 55, 52, 48, 49], None, []),  # short outputs are not flagged by default
        ([40] * 8, [0, 0, 0, 0, 0, 0, 20, 22], []),  # empty inputs are not short outliers
    ],
)
def test_length_outlier_is_robust_per_field(output_tokens, input_tokens, flagged_rows):
    frame = _outlier_frame(output_tokens, input_tokens)
    fired = frame.select(RULES["length_outlier"].expr(PARAMS)).to_series()
    assert fired.arg_true().to_list() == flagged_rows


def test_length_outlier_low_side_is_a_choice():
    frame = _outlier_frame([1, 50, 60, 45, 55, 52, 48, 49])
    fired = frame.select(RULES["length_outlier"].expr(RuleParams(length_outlier_low=True))).to_series()
    assert fired.arg_true().to_list() == [0]


@pytest.mark.parametrize(
    "output, expected",
    [
        (" ".join(["the cat sat on the mat and then"] * 10), True),  # a generation loop
        ("\n".join(["Buy now and save big today!"] * 6 + ["Call us for details."] * 2) + " " + " ".join(f"w{i}" for i in range(40)), True),
        (" ".join(f"word{i}" for i in range(80)), False),
        (" ".join(["the cat sat on the mat"] * 3), False),  # too short to judge
    ],
)
def test_repetition(output, expected):
    assert fires("repetition", "Write about cats.", "", output) is expected


def test_repetition_leaves_songs_and_code_alone():
    chorus = "\n".join(["Oh the sea, the sea, the beautiful sea"] * 8)
    assert not fires("repetition", "Compose a song about the sea.", "", chorus)
    code = "\n".join(["    x = x + 1;"] * 20)
    assert not fires("repetition", "Write code.", "", code)


def test_every_rule_has_a_firing_and_a_quiet_case():
    tables = [(name, expected) for name, *_, expected in CASES] + [(name, expected) for name, _, _, expected in TOKEN_CASES]
    covered = {(name, expected) for name, expected in tables}
    covered |= {("length_outlier", True), ("length_outlier", False), ("repetition", True), ("repetition", False)}
    # benchmark_overlap reads the decontamination stage's column: its cases are in test_decontaminate.py
    covered |= {("benchmark_overlap", True), ("benchmark_overlap", False)}
    missing = [(name, expected) for name in RULES for expected in (True, False) if (name, expected) not in covered]
    assert not missing


@pytest.mark.parametrize("name", sorted(RULES))
def test_highlight_is_portable_regex(name):
    """Highlights are read by Python, Rust and JavaScript: no inline flags, no
    look-around, and they compile here."""
    pattern = RULES[name].highlight
    if pattern is None:
        return
    re.compile(pattern)
    assert "(?i" not in pattern and "(?<" not in pattern and "(?=" not in pattern and "(?!" not in pattern
    pl.select(pl.lit("x").str.contains(pattern))  # Rust's regex accepts it too


@pytest.mark.parametrize("name, instruction, input, output", [case[:4] for case in CASES if case[4] and RULES[case[0]].highlight])
def test_highlight_points_at_something_in_a_firing_record(name, instruction, input, output):
    pattern = re.compile(RULES[name].highlight)
    assert any(pattern.search(field) for field in (instruction, input, output))


def test_rules_on_null_fields_do_not_fire():
    frame = pl.DataFrame(
        {"instruction": ["Say hi."], "input": [None], "output": ["Hi."], **{f"_tokens_{f}": [1] for f in ("instruction", "input", "output", "prompt", "total")},
         "_benchmark": [None]},  # the decontamination stage's column: null where no benchmark matched
        schema_overrides={"input": pl.String, "_benchmark": pl.String},
    )
    fired = frame.select(RULES[name].expr(PARAMS).alias(name) for name in sorted(RULES)).row(0, named=True)
    assert not any(fired.values()), fired


def test_python_checks_see_only_prefiltered_rows(monkeypatch):
    """The arithmetic evaluator runs on rows the vectorised pre-filter selects, not on every row."""
    import rules.arithmetic as arithmetic

    seen = []
    real = arithmetic.mismatch

    def spy(*args):
        seen.append(args[0])
        return real(*args)

    monkeypatch.setattr(arithmetic, "mismatch", spy)
    frame = pl.DataFrame(
        {
            "instruction": ["Name a colour.", "Calculate 2 + 2.", "Write a poem."],
            "input": ["", "", ""],
            "output": ["Red", "5", "Roses"],
        }
    )
    fired = frame.select(RULES["arithmetic_mismatch"].expr(PARAMS)).to_series().to_list()
    assert fired == [False, True, False]
    assert seen == ["Calculate 2 + 2."]


def test_python_checks_agree_on_chunked_frames(monkeypatch):
    """Polars may run a batch function on several chunks in parallel threads; the
    answers must not depend on that (langdetect's lazy global set-up once raced)."""
    import rules.language as language

    monkeypatch.setattr(language, "_factory", None)
    language.detect_language.cache_clear()
    german = ("Beschreibe das Wetter.", "", "Heute ist das Wetter in Berlin sonnig und warm, aber am Abend regnet es.")
    english = ("Translate into French: I ate lunch at noon with my friends.", "", "J'ai déjeuné à midi avec mes amis.")
    sums = ("Calculate 8 * (25 + 7).", "", "216")
    rows = [german, english, sums] * 4
    parts = [pl.DataFrame(dict(zip(("instruction", "input", "output"), zip(*rows[i : i + 3])))) for i in range(0, 12, 3)]
    chunked = pl.concat(parts, rechunk=False)
    assert chunked.n_chunks() > 1
    checks = [RULES[name].expr(PARAMS).alias(name) for name in ("non_english", "arithmetic_mismatch")]
    assert chunked.select(checks).equals(chunked.rechunk().select(checks))
    assert chunked.select(checks).get_column("non_english").to_list() == [True, False, False] * 4
    assert chunked.select(checks).get_column("arithmetic_mismatch").to_list() == [False, False, True] * 4
