"""Write the sample data that ships with curate.

    python data/make_sample.py [DIR]

DIR defaults to the folder of this script. Written:

    DIR/sample/instructions.jsonl          good records with planted defects and malformed lines between them
    DIR/sample/extra_batch.csv             a small CSV batch, so one run exercises two loaders
    DIR/sample_batch2/instructions.jsonl   a later batch for `make refresh` (new rows, copies of old ones, defects)

Deterministic and standard library only: a test regenerates the files and compares
them byte for byte with the committed ones, so edit the records, never the output.
``planted()`` says which row of which file carries which defect; it is the answer
key the tests check the pipeline against. The good records live in
``sample_records.py``; the defects live here, beside the code that places them.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # run as a script or loaded by path from a test
    sys.path.insert(0, str(HERE))

from sample_records import BATCH2_GOOD, CSV_GOOD, GROUPS, SECTIONS, SENTIMENT  # noqa: E402

MAIN = "sample/instructions.jsonl"
CSV_BATCH = "sample/extra_batch.csv"
BATCH2 = "sample_batch2/instructions.jsonl"

# Rows that come first in the main file, untouched: the originals that planted
# copies, near copies and conflicts refer to must be read before those copies.
HEAD_GOOD = 40
EXTRA_FIELDS_EVERY = 6  # every sixth good record carries "id" and "category"

# Kinds whose rows the pipeline must quarantine (they are not valid records).
MALFORMED = ("not_json", "not_object", "missing_output", "output_not_string", "blank_instruction")
# Good records; the named groups are near misses for some rule and must stay clean.
GOOD_KINDS = ("good", *GROUPS)


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a JSONL file: a record to serialise, or bytes written as they are."""

    kind: str
    value: dict | bytes
    extra: bool = False  # the record carries extra fields (id, category, note)


def record(item: tuple, **extra) -> dict:
    _, instruction, input_, output = item
    return {"instruction": instruction, "input": input_, "output": output, **extra}


def plain(instruction: str, input_: str, output: str, **extra) -> dict:
    return {"instruction": instruction, "input": input_, "output": output, **extra}


def find(instruction: str, input_: str = "") -> tuple:
    for section in SECTIONS:
        for item in section:
            if item[1] == instruction and item[2] == input_:
                return item
    for item in CSV_GOOD:
        if item[1] == instruction and item[2] == input_:
            return item
    raise KeyError(f"no good record with instruction {instruction!r}")


def round_robin(sections: list[list]) -> list:
    """Interleave sections so that the file reads like a mixed dataset."""
    mixed, longest = [], max(len(section) for section in sections)
    for index in range(longest):
        mixed.extend(section[index] for section in sections if index < len(section))
    return mixed


def kind_of_good(item: tuple) -> str:
    for name, members in GROUPS.items():
        if item in members:
            return name
    return "good"


def good_lines(items: list[tuple], id_prefix: str) -> list[Line]:
    lines = []
    for index, item in enumerate(items):
        extra = index % EXTRA_FIELDS_EVERY == EXTRA_FIELDS_EVERY // 2
        fields = {"id": f"{id_prefix}-{index:04d}", "category": item[0]} if extra else {}
        lines.append(Line(kind_of_good(item), record(item, **fields), extra))
    return lines


# --- planted defects --------------------------------------------------------------
# Each function returns the lines of one defect class, named after the class.


def url_reference() -> list[dict]:
    return [
        plain("Summarise the article at https://www.example.com/news/2019/05/city-budget-cuts", "",
              "The article explains that the city will cut its budget by 10% next year, mainly by reducing spending on road repairs and libraries."),
        plain("Watch the video and describe what happens in it.", "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
              "In the video, a man sings and dances in several locations while promising never to give you up."),
        plain("Visit the website below and list the products it sells.", "www.example-outdoor-shop.com",
              "The website sells tents, sleeping bags, hiking boots and camping stoves."),
    ]


def attachment_reference() -> list[dict]:
    return [
        plain("Describe the person in the photo.", "<Picture Attached>",
              "The person in the photo is a young woman with short dark hair, smiling and wearing a red coat."),
        plain("Read the attached document and summarise its main argument.", "See attached PDF.",
              "The document argues that four-day working weeks increase productivity."),
    ]


def merged_tasks() -> list[dict]:
    return [
        plain("Name the capital of France.", "",
              "The capital of France is Paris.\n\n##\n18. Instruction: Name a primary colour.\n18. Input:\n<noinput>\n18. Output:\nBlue."),
        plain("Give an example of a mammal that can fly.", "",
              "The bat is a mammal that can fly.\n\n##\n7. Instruction: Convert 10 kilometres to miles.\n7. Input:\n<noinput>\n7. Output:\n10 kilometres is about 6.2 miles.\n\n##\n8. Instruction: Write a sentence using the word 'serene'."),
    ]


def empty_output() -> list[dict]:
    return [
        plain("Write a short poem about the moon.", "", ""),
        plain("Generate a list of three healthy breakfast ideas.", "", "   "),
        plain("Explain the main causes of the First World War.", "", "\n\n"),
    ]


def missing_code() -> list[dict]:
    return [
        plain("Write a Python function to reverse a linked list.", "",
              "The function iterates through the list and reverses the direction of each pointer, returning the new head."),
        plain("Write a SQL query to find duplicate email addresses in a users table.", "",
              "Here is the query that finds the duplicate email addresses:"),
    ]


def image_request() -> list[dict]:
    return [
        plain("Draw a picture of a cat wearing a top hat.", "", "<image of a cat wearing a top hat>"),
        plain("Create a logo for a coffee shop called Bean There.", "",
              "The logo is a brown coffee cup with steam shaped like a map pin, with the words Bean There underneath."),
    ]


def no_output_placeholder() -> list[dict]:
    return [
        plain("Describe the smell of the painting.", "", "N/A"),
        plain("Play the song 'Happy Birthday' on the piano.", "", "<No Output>"),
        plain("Sing a lullaby for a baby.", "", "No output."),
    ]


def empty_input_spelling() -> list[dict]:
    """Good tasks whose empty input is spelled in one of the many ways seen in the wild."""
    return [
        plain("Name three instruments in a string quartet.", "<noinput>",
              "A string quartet has two violins, a viola and a cello, so the three instruments are the violin, viola and cello."),
        plain("Suggest a name for a grey kitten.", "No input",
              "Pebble, Smokey or Ash would all suit a grey kitten."),
        plain("Give a synonym for 'brave'.", "N/A", "Courageous."),
        plain("What is the opposite of 'ancient'?", "<No Input>", "Modern."),
        plain("Name a country that borders Brazil.", "none", "Argentina borders Brazil."),
        plain("List three primary school subjects.", "No input required.", "Mathematics, English and science."),
        plain("Tell me a fun fact about octopuses.", "noinput", "An octopus has three hearts and blue blood."),
        plain("Give an example of a renewable resource.", "< noinput >", "Wind is a renewable resource."),
    ]


def input_null() -> list[dict]:
    return [plain("Name the largest planet in the solar system.", None, "Jupiter is the largest planet in the solar system.")]


def wrong_arithmetic() -> list[dict]:
    return [
        plain("What is 17 multiplied by 24?", "", "17 × 24 = 418"),
        plain("Add 345 and 278.", "", "345 + 278 = 613"),
        plain("A shirt costs $25 and is discounted by 20%. What is the new price?", "",
              "A 20% discount on $25 is $3, so the new price is $22."),
        plain("How many minutes are there in 3.5 hours?", "", "There are 200 minutes in 3.5 hours."),
    ]


def nonsensical_instruction() -> list[dict]:
    return [
        plain("Explain why the number seven is jealous of Tuesday.", "",
              "Seven is jealous of Tuesday because Tuesday comes earlier in the week and gets more attention."),
        plain("Sort the colour of silence by its weight.", "", "Silence is light blue and weighs very little."),
    ]


def control_characters() -> list[dict]:
    return [
        plain("Name the three states of matter.", "", "Solid, liquid and gas.\x07"),
        plain("What colour do you get by mixing blue and yellow?", "", "\x1b[32mGreen\x1b[0m"),
        plain("Give\u200b an example of a citrus fruit.", "", "A lemon is a citrus fruit."),
        plain("Write a greeting for a birthday card.", "", "Happy birthday!\\nWishing you a wonderful year ahead.\\n"),
    ]


def template_leak() -> list[dict]:
    return [
        plain("Suggest a title for a blog post about houseplants.", "",
              "Green Roommates: Easy Houseplants for Busy People\n\n### Instruction:\nSuggest a title for a blog post about travel.\n\n### Response:\nPacking Light"),
        plain("Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nName a famous composer.", "",
              "Ludwig van Beethoven."),
    ]


def refusal() -> list[dict]:
    return [
        plain("What is your favourite film?", "",
              "As an AI language model, I cannot have personal preferences, so I do not have a favourite film."),
        plain("Look up today's weather in Madrid.", "",
              "I'm sorry, but I cannot browse the internet or access real-time information."),
        plain("How do you feel about rainy days?", "",
              "As an AI, I do not have feelings or emotions, but many people find rainy days relaxing."),
    ]


def echo_output() -> list[dict]:
    return [
        plain("Write a sentence that uses the word 'meander'.", "", "Write a sentence that uses the word 'meander'."),
        plain("Describe the taste of a lemon.", "", "Describe the taste of a lemon"),
    ]


def input_repeats_instruction() -> list[dict]:
    return [
        plain("Suggest a good name for a goldfish.", "Suggest a good name for a goldfish.", "Bubbles."),
        plain("Give two examples of fruits that grow on trees.", "Give two examples of fruits that grow on trees",
              "Apples and cherries."),
    ]


def truncated_output() -> list[dict]:
    return [
        plain("Explain the causes of the French Revolution.", "",
              "The French Revolution had several causes. The monarchy was deeply in debt after costly wars, bread prices were rising, and the ideas of the Enlightenment had spread among the middle classes. When the king called the Estates-General in 1789, the"),
        plain("Describe how to make a cup of tea.", "",
              "Boil fresh water, warm the pot, add one teabag per person and pour over the water. Let it brew for three to five minutes, then"),
        plain("List four benefits of learning a musical instrument.", "",
              "1. It improves memory and concentration.\n2. It teaches patience and discipline.\n3. It is a creative outlet that"),
    ]


def repetitive_output() -> list[dict]:
    return [
        plain("Write a motivational message for a student before an exam.", "",
              "\n".join(["You can do it! Believe in yourself!"] * 12)),
        plain("Describe your ideal holiday.", "",
              "My ideal holiday is on a beach. " + "I love the beach and I love the sea and I love the sun. " * 10),
    ]


def non_english() -> list[dict]:
    return [
        plain("Nenne drei Vorteile des Fahrradfahrens.", "",
              "Radfahren hält fit, schont die Umwelt und spart Geld für Benzin und Parkgebühren."),
        plain("Escribe una frase sobre el verano.", "",
              "El verano es la estación perfecta para ir a la playa y disfrutar del sol con los amigos."),
        plain("Donne-moi une idée de dîner rapide.", "",
              "Faites cuire des pâtes, ajoutez une sauce tomate avec de l'ail et du basilic, puis servez avec du parmesan râpé."),
    ]


GARDEN_PARAGRAPHS = [
    "Choosing the site is the most important decision you will make. Vegetables need at least six to eight hours of direct sunlight a day, so watch your garden for a full day before you dig. Avoid low spots where cold air and water collect, and keep beds away from large trees, whose roots compete for water and nutrients.",
    "Good soil is alive. Dig in plenty of well-rotted compost or manure before planting, aiming for a dark, crumbly texture that holds moisture but drains freely. A simple soil test will tell you the pH; most vegetables prefer slightly acidic to neutral soil, between 6.0 and 7.0.",
    "Raised beds warm up earlier in spring, drain well and save your back. A bed 1.2 metres wide can be reached from both sides without stepping on the soil, which keeps it loose. Paths between beds should be wide enough for a wheelbarrow.",
    "Start with easy crops: lettuce, radishes, courgettes, runner beans, potatoes and herbs reward beginners quickly. Grow what your household actually eats, and resist the temptation to plant everything at once; a few well-tended rows beat a jungle of neglected ones.",
    "Water deeply and less often rather than a little every day, so that roots grow down in search of moisture. Early morning is the best time, because less water evaporates and leaves dry before nightfall, which reduces disease. Mulching with straw or compost keeps the soil moist for longer.",
    "Succession sowing keeps the harvest steady. Instead of sowing a whole packet of lettuce at once, sow a short row every two weeks. The same works for radishes, carrots, spinach and beans, and it avoids a glut followed by weeks with nothing to pick.",
    "Crop rotation keeps soil healthy and pests confused. Group your vegetables into families, such as legumes, brassicas, roots and potatoes, and move each group to a different bed every year, so that the same family returns to the same place only every three or four years.",
    "Pests are part of every garden. Encourage their natural enemies by growing flowers such as marigolds and calendula, leaving a small pile of logs for beetles, and putting up a bird box. Netting protects brassicas from butterflies and pigeons far better than any spray.",
    "Weeds compete with your crops for light, water and food. Hoe on a dry day while weeds are still tiny, and they will wither on the surface. A thick mulch suppresses most annual weeds, while perennial weeds such as bindweed need their roots dug out completely.",
    "Harvest often and at the right moment. Courgettes are best at the size of a finger to a small cucumber, beans when the pods snap cleanly, and lettuce in the cool of the morning. Regular picking encourages many plants to keep producing for weeks.",
    "Keep a simple garden diary. Note what you sowed and when, which varieties did well, when the first frost arrived and what the pests were. After a couple of seasons this record becomes the most valuable gardening book you own, written for your own plot.",
    "Finally, plan for the quiet months. In autumn, sow green manures or cover beds with compost to protect the soil over winter, clean and sharpen your tools, and order seed catalogues. The work you do in the off-season shapes the next year's harvest.",
]


def long_output() -> list[dict]:
    """One output far beyond 2,048 tokens: varied paragraphs, rotated through chapters."""
    chapters = []
    for chapter in range(1, 7):
        shift = chapter * 5 % len(GARDEN_PARAGRAPHS)
        paragraphs = GARDEN_PARAGRAPHS[shift:] + GARDEN_PARAGRAPHS[:shift]
        chapters.append(f"Chapter {chapter}\n\n" + "\n\n".join(paragraphs))
    return [plain("Write a complete beginner's guide to growing vegetables at home.", "", "\n\n".join(chapters))]


def exact_duplicate() -> list[dict]:
    """Copies that the pipeline's exact dedup treats as the same record: identical, or
    differing only in case and spacing of the instruction (never longer outputs, which
    would make the copy the better row and the survivor)."""
    sky = find("Explain why the sky is blue.")
    passive = find("Rewrite the sentence in the passive voice.", "The committee approved the new budget on Friday.")
    bakery = find("Brainstorm five names for a neighbourhood bakery.")
    pencils = find("A shop sells pencils for 35 cents each. How much do 12 pencils cost?")
    slogan = find("Write a one-sentence slogan for a public library.")  # a CSV row: a cross-source copy
    return [
        record(sky),
        record(sky),  # a cluster of three
        record(passive),
        record(bakery),
        {**record(pencils), "instruction": "a shop sells pencils for 35 cents each.  How much do 12 pencils cost?"},
        record(slogan),
    ]


def near_duplicate() -> list[dict]:
    """Copies with a changed word or punctuation: not exact, a near-dup stage's work."""
    sky = find("Explain why the sky is blue.")
    palindrome = find("Write a Python function that checks whether a string is a palindrome, ignoring case and spaces.")
    concise = find("Make this sentence more concise.", "Due to the fact that it was raining heavily, we made the decision to postpone the picnic until a later date.")
    colours = find("Classify the following animals as mammals, birds or reptiles.", "dolphin, eagle, iguana, bat, penguin")
    ephemeral = find("Define the word 'ephemeral'.")
    return [
        {**record(sky), "instruction": "Explain why the sky looks blue."},
        {**record(palindrome), "instruction": "Write a Python function that checks if a string is a palindrome, ignoring case and spaces."},
        {**record(concise), "instruction": "Make this sentence more concise", "output": "Because it was raining heavily we postponed the picnic."},
        {**record(colours), "input": "dolphin, eagle, iguana, bat and penguin"},
        {**record(ephemeral), "output": record(ephemeral)["output"].replace("very short", "short")},
    ]


def conflicting_output() -> list[dict]:
    """Same instruction and input as a good record, a different answer. Like the
    copies above, each refers to a record in the untouched head of the file, so the
    original is always read first."""
    active = find("Rewrite the sentence in the active voice.", "The window was broken by a stray football.")
    review = find(SENTIMENT, "The battery lasts all day and the screen is gorgeous. Best phone I've owned.")
    speed = find("A train travels 240 km in 3 hours. What is its average speed?")
    return [
        {**record(active), "output": "The window broke."},
        {**record(review), "output": "Neutral"},
        {**record(speed), "output": "The average speed is 720 km/h."},
    ]


def invalid_utf8() -> list[bytes]:
    # A record whose text was saved as Latin-1 inside a UTF-8 file: the bytes E9 and
    # F1 are not valid UTF-8. The loader decodes them as U+FFFD and keeps the record.
    return [b'{"instruction": "Translate the word into English.", "input": "caf\xe9 con leche y ma\xf1ana", "output": "coffee with milk and tomorrow"}']


def not_json() -> list[bytes]:
    return [
        b'{"instruction": "Name a famous bridge.", "input": "", "output": "The Golden Gate Bridge',
        b"{'instruction': 'Name a type of cloud.', 'input': '', 'output': 'Cumulus.'}",
        b'{"instruction": "Name a noble gas.", "input": "", "output": "Neon.",}',
    ]


def not_object() -> list[bytes]:
    return [
        b'["Name a vegetable.", "", "Carrot."]',
        b"42",
        b'"Name a vegetable: carrot."',
    ]


def missing_output() -> list[dict]:
    return [{"instruction": "Name a primary colour.", "input": ""}]


def output_not_string() -> list[dict]:
    return [{"instruction": "How many legs does a spider have?", "input": "", "output": 42}]


def blank_instruction() -> list[dict]:
    return [{"instruction": "   ", "input": "", "output": "This answer has no question."}]


DEFECTS = [
    url_reference, attachment_reference, merged_tasks, empty_output, missing_code, image_request,
    no_output_placeholder, empty_input_spelling, input_null, wrong_arithmetic, nonsensical_instruction,
    control_characters, template_leak, refusal, echo_output, input_repeats_instruction, truncated_output,
    repetitive_output, non_english, long_output, exact_duplicate, near_duplicate, conflicting_output,
    invalid_utf8, not_json, not_object, missing_output, output_not_string, blank_instruction,
]


def defect_lines(makers: list) -> list[Line]:
    """Every planted line, classes interleaved round-robin so no class sits in a block."""
    per_class = [[Line(maker.__name__, value) for value in maker()] for maker in makers]
    return round_robin(per_class)


def interleave(head: list[Line], body: list[Line], defects: list[Line]) -> list[Line]:
    """The head, then defects spread evenly through the body."""
    lines = list(head)
    slots = {}
    for index in range(len(defects)):
        slots.setdefault(index * len(body) // len(defects), []).append(defects[index])
    for index, line in enumerate(body):
        lines.extend(slots.get(index, []))
        lines.append(line)
    return lines


def main_lines() -> list[Line]:
    goods = good_lines(round_robin(SECTIONS), "alp")
    lines = interleave(goods[:HEAD_GOOD], goods[HEAD_GOOD:], defect_lines(DEFECTS))
    blank = len(lines) // 2
    return lines[:blank] + [Line("blank_line", b"")] + lines[blank:]


def csv_rows() -> list[Line]:
    goods = [Line("good", record(item)) for item in CSV_GOOD]
    goods[4] = Line("good", record(CSV_GOOD[4], note="checked by a reviewer"), extra=True)
    defects = [
        Line("empty_input_spelling", plain("Name the author of 'Hamlet'.", "No input", "William Shakespeare wrote 'Hamlet'.")),
        Line("empty_input_spelling", plain("Give an example of a warm-blooded animal.", "<noinput>", "A horse is warm-blooded.")),
        Line("empty_output", plain("Describe a sunset over the sea.", "", "")),
        Line("no_output_placeholder", plain("Smell the flower and describe it.", "", "N/A")),
        Line("wrong_arithmetic", plain("What is 12 × 12?", "", "12 × 12 = 124")),
    ]
    return interleave(goods[:3], goods[3:], defects)


def batch2_lines() -> list[Line]:
    goods = good_lines(BATCH2_GOOD, "b2")
    passive = find("Rewrite the sentence in the passive voice.", "The committee approved the new budget on Friday.")
    copies = [
        Line("exact_duplicate", record(item))
        for item in (
            find("Explain how a vaccine trains the immune system."),
            find("What is the capital of Australia?"),
            find("Write a SQL query to find the total sales per customer, highest first.", "Table sales(customer_id, amount)"),
            find("List the seven continents."),
            find("Translate the following sentence into English.", "Ich habe meinen Regenschirm im Bus vergessen."),
            passive,
        )
    ] + [
        Line("near_duplicate", {**record(find("Explain why ice floats on water.")), "instruction": "Explain why ice floats in water."}),
        Line("near_duplicate", {**record(find("Give three tips for staying focused while working from home.")), "instruction": "Give three tips for staying focused when working from home."}),
        Line("near_duplicate", {**record(find("Find the least common multiple of 4 and 6.")), "instruction": "Find the lowest common multiple of 4 and 6."}),
        Line("near_duplicate", {**record(find("Define 'empathy'.")), "instruction": "Define empathy."}),
    ]
    defects = [
        Line("empty_output", plain("Write a tongue twister about snakes.", "", "")),
        Line("empty_output", plain("Summarise the history of the bicycle.", "", " ")),
        Line("empty_input_spelling", plain("Name a sport played at Wimbledon.", "<noinput>", "Tennis is played at Wimbledon.")),
        Line("empty_input_spelling", plain("Give a synonym for 'quick'.", "No Input", "Fast.")),
        Line("refusal", plain("What do you think about jazz?", "", "As an AI language model, I do not have opinions about music.")),
        Line("wrong_arithmetic", plain("What is 15 × 15?", "", "15 × 15 = 215")),
        Line("url_reference", plain("Summarise the blog post at http://blog.example.org/posts/42", "", "The post is about the author's trip to Iceland.")),
        Line("truncated_output", plain("Explain how a rainbow forms.", "", "A rainbow forms when sunlight enters raindrops and is refracted, reflected inside the drop and")),
        Line("repetitive_output", plain("Write a cheer for a football team.", "", " ".join(["Go team go!"] * 15))),
        Line("not_json", b'{"instruction": "Name a river in Egypt.", "input": "", "output": "The Nile."'),
    ]
    return interleave(goods[:5], goods[5:], round_robin([copies, defects]))


# --- writing ------------------------------------------------------------------------


def jsonl_bytes(lines: list[Line]) -> bytes:
    encoded = [
        line.value if isinstance(line.value, bytes) else json.dumps(line.value, ensure_ascii=False).encode("utf-8")
        for line in lines
    ]
    return b"\n".join(encoded) + b"\n"


def csv_bytes(lines: list[Line]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["instruction", "input", "output", "note"], lineterminator="\n")
    writer.writeheader()
    for line in lines:
        writer.writerow(line.value)
    return buffer.getvalue().encode("utf-8")


def files() -> dict[str, bytes]:
    return {
        MAIN: jsonl_bytes(main_lines()),
        CSV_BATCH: csv_bytes(csv_rows()),
        BATCH2: jsonl_bytes(batch2_lines()),
    }


def write(directory: Path) -> list[Path]:
    written = []
    for name, content in files().items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        written.append(path)
    return written


def planted() -> dict[str, dict[str, list[int]]]:
    """The answer key: file -> defect class -> rows (0-based, as the pipeline's ``_row``).

    Every line of a file is under exactly one class ("good" and the near-miss groups
    included; a JSONL blank line is "blank_line" and is not a record), except
    "extra_fields", which lists the records that also carry fields beyond the three.
    """
    key = {}
    for name, lines in ((MAIN, main_lines()), (CSV_BATCH, csv_rows()), (BATCH2, batch2_lines())):
        classes: dict[str, list[int]] = {}
        for row, line in enumerate(lines):
            classes.setdefault(line.kind, []).append(row)
            if line.extra:
                classes.setdefault("extra_fields", []).append(row)
        key[name] = classes
    return key


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    for path in write(target):
        print(path)
