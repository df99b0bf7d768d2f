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
    ("truncated_output_v2", "Write a blog post.", "", LONG_PROSE, True),
    ("truncated_output_v2", "Write a blog post.", "", LONG_FINISHED, False),
    ("truncated_output_v2", "Write a tweet.", "", LONG_PROSE + " #Climate #Data", False),
    ("truncated_output_v2", "Name a city.", "", "Paris", False),
    ("truncated_output_v2", "Write a poem.", "", "\n".join(["The rain falls softly on the roof tonight and"] * 6), False),
    ("code_missing_v2", "Create a program that counts visitors to a website.", "",
     "The program would keep a counter of visitors and report the totals every day.", True),
    ("code_missing_v2", "Write a Python function that reverses a string.", "", "def reverse(s):\n    return s[::-1]", False),
    ("code_missing_v2", "Task: write a Python function that adds two numbers.", "", "It adds the two numbers.", True),
    ("code_missing_v2", "Write a command in Bash to show the working directory.", "", "pwd", False),
    ("code_missing_v2", "Write a Python script that prints hello.", "", "print('hello')", False),
    ("code_missing_v2", "Construct a regular expression for words starting with b.", "", "^b\\w*", False),
    ("code_missing_v2", "Write a script for a scene in a court trial.", "", "Judge: Order in the court.", False),
    ("code_missing_v2", "Create a slogan for a weight loss program.", "", "Lose weight, feel great!", False),
    ("code_missing_v2", "Explain what this function does.", "def f(x): return x", "It returns its argument.", False),
    ("external_reference_v2", "Summarize the article.", "https://www.example.com/news/1", "The article says...", True),
    ("external_reference_v2", "Summarize this article: www.example.com/a", "", "It says...", True),
    ("external_reference_v2", "Describe the picture.", "<Picture Attached>", "A dog.", True),
    ("external_reference_v2", "Describe the figure.", "![fig](https://x.org/a.png)", "A circle.", True),
    ("external_reference_v2", "Describe the following image.", "", "A red house by a lake.", True),
    ("external_reference_v2", "Summarize the following article.", "", "It argues that...", True),
    ("external_reference_v2", "Describe the following image.", "A red house by a lake at dusk.", "Calm.", False),
    ("external_reference_v2", "Write a regex that finds links in text.", "Visit www.example.com now", "www\\.\\S+", False),
    ("external_reference_v2", "Generate the HTML code to create a link.", "https://www.example.com", "<a href>", False),
    ("external_reference_v2", "Is the claim true? Cite a source.", "Water boils at 100 C.",
     "True at sea level. Source: https://en.wikipedia.org/wiki/Boiling_point", False),
    ("external_reference_v2", "Edit the following sentence: She go home.", "", "She goes home.", False),
    ("image_request_v2", "Design a logo for a coffee shop.", "", "A brown circle with a bean.", True),
    ("image_request_v2", "Draw a picture of a cat.", "", "A cat sitting.", True),
    ("image_request_v2", "Kindly design a logo for a bakery.", "", "A croissant in a circle.", True),
    ("image_request_v2", "Create an image of a sunset.", "", "An orange sky.", True),
    ("image_request_v2", "Compose a melody for a lullaby.", "", "C D E C", True),
    ("image_request_v2", "Record a video about recycling.", "", "Here is the video.", True),
    ("image_request_v2", "Post a funny meme about cats.", "", "![meme](https://i.imgflip.com/1.jpg)", True),
    ("image_request_v2", "Draw a conclusion from the data.", "Sales rose 5%.", "Demand is growing.", False),
    ("image_request_v2", "Write a caption for the painting.", "Starry Night", "Swirls of night.", False),
    ("image_request_v2", "Compose a song about the sea.", "", "Verse 1: The waves...", False),
    ("image_request_v2", "Create a character sketch for a villain.", "", "Ralph was cruel.", False),
    ("image_request_v2", "Describe a painting by Monet.", "", "Water lilies.", False),
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
    ("refusal_v2", "Draw a cat.", "", "As an AI language model, I cannot draw pictures.", True),
    ("refusal_v2", "Open the link.", "", "I'm sorry, but I cannot access the internet.", True),
    ("refusal_v2", "Sing a song.", "", "I am unable to sing.", True),
    ("refusal_v2", "Create a flow chart.", "", "This task cannot be performed by a GPT model as it requires a chart.", True),
    ("refusal_v2", "Write a text showing sympathy.", "", "I'm sorry to hear that. It must be hard.", False),
    ("refusal_v2", "Write a story.", "", "Tom said: I cannot believe it! I can't wait.", False),
    ("refusal_v2", "Rewrite in the negative.", "I can do it.", "I cannot do it.", False),
    ("arithmetic_mismatch_v2", "What is the result of multiplying 87 and 183?", "", "15781", True),
    ("arithmetic_mismatch_v2", "What is the result of multiplying 87 and 183?", "", "15921", False),
    ("arithmetic_mismatch_v2", "Calculate the following equation: 8 * (25 + 7)", "", "216", True),
    ("arithmetic_mismatch_v2", "Calculate the following equation: 8 * (25 + 7)", "", "8 * (25 + 7) = 256", False),
    ("arithmetic_mismatch_v2", "Solve the math equation: 10 - 4 x 2", "", "2", False),
    ("arithmetic_mismatch_v2", "Calculate 4 + 5(6-3).", "", "19", False),
    ("arithmetic_mismatch_v2", "Calculate the average of [2, 4, 5, 7, 8].", "", "The average is 5.4.", True),
    ("arithmetic_mismatch_v2", "Calculate the average of [2, 4, 5, 7, 8].", "", "The average is 5.2.", False),
    ("arithmetic_mismatch_v2", "Compute the average of 1, 4, 7, and 10.", "", "5.5", False),
    ("arithmetic_mismatch_v2", "Find the median of 7,5,3,4", "", "The median is 4.", True),
    ("arithmetic_mismatch_v2", "Multiply 987,654,321 by 12.", "", "11,851,851,852", False),
    ("arithmetic_mismatch_v2", "Convert 4km into miles.", "", "4 km is equal to 2.48 miles.", False),
    ("arithmetic_mismatch_v2", "Convert 4km into miles.", "", "4 km is equal to 3.1 miles.", True),
    ("arithmetic_mismatch_v2", "Convert the given Celsius temperature to Fahrenheit.", "-6.2", "21.16 Fahrenheit.", True),
    ("arithmetic_mismatch_v2", "Convert the temperature of 32°C to Fahrenheit.", "", "32°C is 89.6°F.", False),
    ("arithmetic_mismatch_v2", "Write a 3-4 sentence story.", "", "Once upon a time there were 2 cats.", False),
    ("arithmetic_mismatch_v2", "Evaluate the website on a scale of 1-10.", "", "8 out of 10.", False),
    ("arithmetic_mismatch_v2", "Calculate 10 times 3.", "", "Thirty.", False),
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
    # --- classes found by reading real data of other kinds (issue 12) ---------------
    # arithmetic: worked solutions are checked by the equations they state; a word
    # problem's fraction, range or money is not the task's expression.
    ("arithmetic_mismatch_v2", "A class has 60 pupils and 3/4 of them passed. How many passed?", "",
     "3/4*60 = 45 pupils passed.\n#### 45", False),
    ("arithmetic_mismatch_v2", "A class has 60 pupils and 3/4 of them passed. How many passed?", "",
     "3/4*60 = 40 pupils passed.\n#### 40", True),
    ("arithmetic_mismatch_v2", "Natalia sold 48 clips in April and half as many in May. How many in May?", "",
     "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n#### 24", False),
    ("arithmetic_mismatch_v2", "Natalia sold 48 clips in April and half as many in May. How many in May?", "",
     "Natalia sold 48/2 = <<48/2=23>>23 clips in May.\n#### 23", True),
    ("arithmetic_mismatch_v2", "Meredith wrote 5 articles on Monday and 2/5 times more on Tuesday. How many on Tuesday?", "",
     "On Tuesday she wrote 2/5* 5 = 2 more, so 5+2 = <<5+2=7>>7.\n#### 7", False),
    ("arithmetic_mismatch_v2", "The budget covers Districts 1 - 3 and costs $40,000. What does each district get?", "",
     "Each district gets $13,333.", False),
    ("arithmetic_mismatch_v2", "Tom had $150 plus 50 cents. How much money is that?", "", "$150.50", False),
    ("arithmetic_mismatch_v2", "Dinner costs $10 and 4 entrees cost $8 each. What is the total?", "", "$42", False),
    ("arithmetic_mismatch_v2", "Calculate the sum of all the numbers between 0 and 10.", "", "55", False),
    ("arithmetic_mismatch_v2", "What is 12 × 12?", "", "12 × 12 = 124", True),
    ("arithmetic_mismatch_v2", "Solve for x.", "x + 3 = 7", "x + 3 = 7, so x = 4.", False),
    ("arithmetic_mismatch_v2", "Is 2 + 2 = 5 right?", "", "No: 2 + 2 = 5 is wrong, 2 + 2 = 4.", False),
    ("arithmetic_mismatch_v2", "Convert 3/4 to a percentage.", "", "3/4 = 75%", False),
    # external_reference: a URL that a call takes or that the task is about is data.
    ("external_reference_v2", "Fetch the JSON from the API with Python requests.", "https://api.example.com/data",
     "import requests\n\nresponse = requests.get('https://api.example.com/data')\nprint(response.json())", False),
    ("external_reference_v2", "Show how to call the endpoint.", "https://api.example.com/users",
     "fetch('https://api.example.com/users').then(r => r.json())", False),
    ("external_reference_v2", "Write the command to download the page.", "https://example.com/a.html",
     "curl -O https://example.com/a.html", False),
    ("external_reference_v2", "Get today's weather in Paris with the web tool.", "",
     "request('https://api.weather.example.com/v1/today?city=Paris')", False),
    ("external_reference_v2", "What is on https://example.com/menu? Use the browser.", "",
     "<a href=\"https://example.com/menu\">menu</a>", False),
    ("external_reference_v2", "Extract the domain of this URL.", "https://news.example.co.uk/world/1", "example.co.uk", False),
    ("external_reference_v2", "Is this URL phishing?", "http://paypa1-login.example.ru/verify", "Yes: the domain imitates PayPal.", False),
    ("external_reference_v2", "Write an HTML link to the given page.", "https://www.example.com",
     '<a href="https://www.example.com">Example</a>', False),
    ("external_reference_v2", "Summarize the article.", "https://www.example.com/news/1", "The article says...", True),
    ("external_reference_v2", "Summarize http://example.com/api/safe-path/download.html", "", "It says...", True),
    # ... missing content: placeholders, "the photo" with nothing given, a title for an article.
    ("external_reference_v2", "Edit this photo to make it appear brighter.", "(Link to photo)", "The photo is brighter.", True),
    ("external_reference_v2", "Create a tweet for the launch.", "[Image of a new product]", "Meet #ProductX!", True),
    ("external_reference_v2", "Analyze a news article and report if it is biased.", "<NEWS ARTICLE>", "It is unbiased.", True),
    ("external_reference_v2", "Describe the main message of the song.", "(Lyrics to a song)", "Hope wins.", True),
    ("external_reference_v2", "Identify the sounds in the clip.", "<video clip>", "Strings and drums.", True),
    ("external_reference_v2", "Read the following article and write a summary.", "(Insert Article)", "It is about limits.", True),
    ("external_reference_v2", "Describe the phenomenon shown in the animation.", "", "Condensation.", True),
    ("external_reference_v2", "Identify the creature in the photo.", "", "A poison dart frog.", True),
    ("external_reference_v2", "Summarize the data in the chart in three sentences.", "", "Revenue grew.", True),
    ("external_reference_v2", "Summarize the following article.", "", "It argues that...", True),
    ("external_reference_v2", "Summarize the article 'Introducing the Project Management Process'.", "",
     "The article discusses project management.", True),
    ("external_reference_v2", "Summarize the article \"The Benefits of Volunteering\" in one sentence.",
     "The article \"The Benefits of Volunteering\" discusses the effects of volunteer work.", "Volunteering helps.", True),
    ("external_reference_v2", "Transcribe the recording into text.", "Recording about the history of Waterloo", "The battle...", True),
    ("external_reference_v2", "Write a caption for the painting.",
     "[Image of a painting of two figures in a boat on a lake under a yellow sky]", "Two travellers at dusk.", False),
    ("external_reference_v2", "Write a caption for the photo of a dog catching a frisbee.", "", "Caught it!", False),
    ("external_reference_v2", "Rename the files.", '["file one.txt", "file two.txt"]', "file_one.txt, file_two.txt", False),
    ("external_reference_v2", "Summarize the article below.", " ".join(["The council approved the new budget."] * 12),
     "The budget passed.", False),
    ("external_reference_v2", "I want to edit the following article into a summary:\n\nArticle: " + "Police said the road reopened. " * 30
     + "Reprints: www.djreprints.com", "", "The road reopened.", False),
    # image_request: non-text outputs, but not text about them or code that draws.
    ("image_request_v2", "Construct a three-dimensional model of a prism using a square base.", "", "Draw a square...", True),
    ("image_request_v2", "Colorize the following black and white photo.", "https://example.com/1.jpg", "A coloured photo.", True),
    ("image_request_v2", "Sing a children's song", "", "Twinkle, twinkle, little star", True),
    ("image_request_v2", "Compose a melody in C major.", "", "C E G C", True),
    ("image_request_v2", "Create a word cloud using a given text.", "The UN promotes peace.", "UN, peace", True),
    ("image_request_v2", "Use the information provided to generate a website screenshot.", "github.com", "A screenshot.", True),
    ("image_request_v2", "Crop a portrait photo to get a square output.", "", "Cropped.", True),
    ("image_request_v2", "Construct plumbing diagrams for a two-story house", "", "A main line and branches.", True),
    ("image_request_v2", "Write lyrics for a song about summer.", "", "Sun on my face...", False),
    ("image_request_v2", "Create an SVG image of a red circle.", "", '<svg><circle r="5" fill="red"/></svg>', False),
    ("image_request_v2", "Create an HTML page given a logo and some text.", "Logo: <img src=\"logo.png\">", "<html>...</html>", False),
    ("image_request_v2", "Describe the design of a logo for a bakery in words.", "", "A croissant in a circle.", False),
    ("image_request_v2", "Generate a caption for an image of a cat asleep on a keyboard.", "", "Working hard.", False),
    ("image_request_v2", "Write a story about a painter.", "", "Once upon a time...", False),
    # refusal: a refusal act, not the words "As an AI".
    ("refusal_v2", "You are an AI judge. Decide the robot's case.", "", "As an AI judge, I find the robot not guilty.", False),
    ("refusal_v2", "Play an AI assistant greeting a user.", "", "As an AI assistant, I'm happy to help you plan your trip.", False),
    ("refusal_v2", "What is your favourite food?", "", "As an AI language model, I don't have personal preferences.", True),
    ("refusal_v2", "Tell me a secret.", "", "I won't share that.", True),
    ("refusal_v2", "Describe the image.", "", "I'm unable to see images.", True),
    # code_missing: shell one-liners, boolean expressions and Pug are code.
    ("code_missing_v2", "Write a shell script that lists files sorted by size.", "", "#!/bin/bash\n\nls -lS", False),
    ("code_missing_v2", "Write a Bash script to make a directory named 'test'", "", "mkdir test", False),
    ("code_missing_v2", "Write an expression in JavaScript to check whether x is between 0 and 10.", "", "x > 0 && x < 10", False),
    ("code_missing_v2", "Write a Pug code to display a simple text.", "", "doctype html\nhtml\n body\n  p Hello", False),
    ("code_missing_v2", "Create a Java program to reverse a sentence.", "The quick brown fox", "fox brown quick The", True),
    # truncated_output: worked maths and signed letters end without a full stop by design.
    ("truncated_output_v2", "Solve the problem and show the working.", "",
     "We first add the two amounts of apples that the children picked in the morning and in the afternoon and then "
     "we multiply the sum by the price of one apple to get the total the family will earn from selling them today\n"
     "So the total the family earns from all the apples is 12 * 3 =36", False),
    ("truncated_output_v2", "Write a cover letter.", "",
     "Dear Hiring Manager, I am writing to apply for the marketing role at your company because I have spent five "
     "years building campaigns that grew audiences and I would love to bring that experience to your team this year.\n"
     "Sincerely,\nJane Doe, Senior Marketing Manager at the Acme Corporation in Springfield", False),
    # unfilled template slots in outputs.
    ("unfilled_template_slot", "Greet the customer.", "", "Hello {name}, thanks for your order!", True),
    ("unfilled_template_slot", "Answer the question.", "What is the capital of France?", "{input}", True),
    ("unfilled_template_slot", "Write a product description.", "", "Our [insert product name here] is the best.", True),
    ("unfilled_template_slot", "Write a tagline.", "", "Try <insert brand> today!", True),
    ("unfilled_template_slot", "Write a Python function that greets a user.", "", "def greet(name):\n    return f'Hello, {name}!'", False),
    ("unfilled_template_slot", "Write an email template with placeholders.", "", "Dear [insert name here], ...", False),
    ("unfilled_template_slot", "Write a letter of thanks.", "", "Dear Bob, thank you.\nSincerely,\n[Your Name]", False),
    ("unfilled_template_slot", "Print a set in Python.", "", "{1, 2, 3}", False),
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

    def spying(real):
        def spy(*args):
            seen.append(args[0])
            return real(*args)
        return spy

    # Screened rows go to screened_mismatch, rows the prescreen cannot read to mismatch.
    for name in ("mismatch", "screened_mismatch"):
        monkeypatch.setattr(arithmetic, name, spying(getattr(arithmetic, name)))
    frame = pl.DataFrame(
        {
            "instruction": ["Name a colour.", "Calculate 2 + 2.", "Write a poem."],
            "input": ["", "", ""],
            "output": ["Red", "5", "Roses"],
        }
    )
    fired = frame.select(RULES["arithmetic_mismatch_v2"].expr(PARAMS)).to_series().to_list()
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
    checks = [RULES[name].expr(PARAMS).alias(name) for name in ("non_english", "arithmetic_mismatch_v2")]
    assert chunked.select(checks).equals(chunked.rechunk().select(checks))
    assert chunked.select(checks).get_column("non_english").to_list() == [True, False, False] * 4
    assert chunked.select(checks).get_column("arithmetic_mismatch_v2").to_list() == [False, False, True] * 4
