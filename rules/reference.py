"""Rules about what a record refers to or asks for that text alone cannot hold:
links and attachments it does not contain, images and sound, other records
fused into it, prompt-template text, and refusals."""

from __future__ import annotations

import polars as pl

from rules.base import LEAD_IN as _LEAD_IN
from rules.base import Severity, rule

# Every pattern here is Rust regex syntax (what Polars runs): no look-around.
# Highlights avoid inline flags, which JavaScript lacks: case is spelled out.

_URL = r"https?://\S+|\bwww\.\S+"
_IMAGE_MARKUP = r"!\[[^\]]*\]\([^)]*\)|<img\b[^>]*>|<(?:audio|video)\b[^>]*>"
_ATTACHED = r"(?i)<\s*picture attached\s*>|\b(?:see|in|from) the (?:attached|linked|uploaded) (?:file|image|photo|picture|document|pdf|video|audio|spreadsheet)"
_MEDIA = (
    r"articles?|links?|images?|graphs?|photos?|photographs?|pictures?|charts?|videos?|websites?|web ?pages?|"
    r"paintings?|figures?|diagrams?|maps?|screenshots?|songs?|audio|recordings?|podcasts?|pdfs?|spreadsheets?|urls?|"
    r"infographics?|tables?"
)
# "Describe the following image." with nothing after it: the thing is missing.
_MISSING_MEDIA = rf"(?i)\b(?:the|this|these) (?:following|given|attached|above|below|provided|linked) (?:{_MEDIA})\b[^:\n]*$"
# Tasks where a URL is the data itself, not something to fetch.
_URL_IS_DATA = (
    r"(?i)\b(?:regex|regular expression|html|hyperlink|anchor tag|domain|markdown|json|parse|shorten|format|"
    r"valid url|url format|href|bookmark|citation|cite|code)\b"
)


def _any_of(columns: tuple[str, ...], pattern: str) -> pl.Expr:
    return pl.any_horizontal(pl.col(c).str.contains(pattern) for c in columns)


@rule(
    Severity.DROP,
    highlight=r"https?://\S+|www\.\S+|<\s*[Pp]icture [Aa]ttached\s*>|!\[[^\]]*\]\([^)]*\)|<(img|audio|video)\b[^>]*>"
    r"|\b[Tt]h(e|is|ese) (following|given|attached|above|below|provided|linked) [a-z]+",
)
def external_reference() -> pl.Expr:
    """The task depends on something the record does not contain: a URL, an attachment, an image, "the following article" with nothing following.

    Dropped: the answer cannot be checked or learned from the record, so the pair
    teaches the model to make up what is behind the link. Not fired when the URL
    is itself the data (a regex, HTML or formatting task), nor for URLs in the
    output (citing a source is fine)."""
    prompt = ("instruction", "input")
    url = _any_of(prompt, _URL) & ~pl.col("instruction").str.contains(_URL_IS_DATA)
    missing = pl.col("instruction").str.contains(_MISSING_MEDIA) & (pl.col("input").fill_null("") == "")
    return url | _any_of(prompt, _IMAGE_MARKUP) | _any_of(prompt, _ATTACHED) | missing


_MAKE = r"(?:create|generate|design|make|produce|draw|sketch|paint|render|construct|build|recreate|compose|show me|give me)"
_NON_TEXT = (
    r"(?:logos?|icons?|images?|pictures?|drawings?|illustrations?|paintings?|photos?|photographs?|sketch|animations?|gifs?|"
    r"videos?|3d (?:model|visuali[sz]ation)s?|visuals?|visuali[sz]ations?|infographics?|collages?|mock-?ups?|wireframes?|"
    r"memes?|cartoons?|comic strips?|flow ?charts?|diagrams?|posters?|flyers?|banners?|melod(?:y|ies)|tunes?|music|"
    r"musical (?:piece|sequence|composition)s?|pieces? of music|soundtracks?|audio|recordings?)"
)
_ASKS_FOR_MEDIA = (
    rf"(?i)^{_LEAD_IN}{_MAKE}\b[^.?!\n]{{0,40}}?\b{_NON_TEXT}\b"
    rf"|(?i)^{_LEAD_IN}(?:draw|sketch|paint|colou?ri[sz]e|photograph|film|animate)\b"
    rf"|(?i)^{_LEAD_IN}record (?:a|an|the|yourself|your)\b"
)
# Text about a picture is text: a caption, a description, a character sketch.
_TEXT_ABOUT_MEDIA = (
    r"(?i)\b(?:descri\w+|caption|title|name|slogan|idea|concept|script|story|poem|phrase|sentence|paragraph|words?|"
    r"alt text|headline|prompt|list|outline|plan|specification|strategy|summary|review|character sketch|"
    r"biographical sketch|rhyme|lyrics|draw (?:a |an )?(?:conclusion|comparison|parallel|inference|analogy|distinction|line)|"
    r"paint a picture (?:with|in|using) words|(?:compose|write|create|generate) (?:a |an )?(?:\w+ )?song|"
    r"program|app|application|software|algorithm|function|code)\b"
)
_MEDIA_OUTPUT = r"^\s*(?:!\[[^\]]*\]\([^)]*\)|<img\b|<audio\b|<video\b)"


@rule(Severity.DROP, highlight=r"^[^.?!\n]{0,80}")
def image_request() -> pl.Expr:
    """Asks for a non-text output: draw, design a logo, create an image, compose a melody, record a video.

    Dropped: a text model cannot produce it, so the output is a description
    pretending to be the thing, a placeholder, or a made-up image link. Requests
    for text about a picture (a caption, a description, a character sketch) do
    not count; an output that is itself an image link does."""
    instruction = pl.col("instruction")
    asks = instruction.str.contains(_ASKS_FOR_MEDIA) & ~instruction.str.contains(_TEXT_ABOUT_MEDIA)
    return asks | pl.col("output").str.contains(_MEDIA_OUTPUT)


# "##\n18. Instruction:", "2. Instruction: ... 2. Input: ... 2. Output:" -- the
# numbered blocks of the self-instruct generation prompt left in a field.
_MERGED = r"(?m)(?:^|\n)\s*#{1,3}\s*\n\s*\d+\.\s*(?:Instruction|Input|Output)\s*:|^\s*\d+\.\s*Instruction\s*:"
_MERGED_PAIR = r"(?is)\bInstruction\s*:.*\b(?:Input|Output)\s*:"


@rule(Severity.DROP, highlight=r"#{1,3}\s*\n\s*\d+\.\s*(Instruction|Input|Output)\s*:|\d+\.\s*Instruction\s*:")
def merged_instruction() -> pl.Expr:
    """Several tasks fused into one record: numbered "Instruction:/Input:/Output:" blocks inside the input or output.

    Dropped: the output answers more than was asked, and the model learns to keep
    inventing new tasks after its answer."""
    fields = ("input", "output")
    return _any_of(fields, _MERGED) | _any_of(fields, _MERGED_PAIR)


_TEMPLATE = r"(?i)###\s*(?:Instruction|Input|Response)\s*:|Below is an instruction that describes a task"


@rule(Severity.DROP, highlight=r"###\s*(Instruction|Input|Response)\s*:|Below is an instruction that describes a task")
def template_leak() -> pl.Expr:
    """Prompt-template text inside a field ("### Instruction:", "### Response:", "Below is an instruction that describes a task").

    Dropped: training would wrap it in the same template again, teaching the model
    to emit template markers."""
    return _any_of(("instruction", "input", "output"), _TEMPLATE)


_CANNOT = r"(?:cannot|can't|can not|am unable to|'m unable to|am not able to|'m not able to|do not have the ability to|don't have the ability to)"
_ACTS = (
    r"(?:provide|answer|do|perform|complete|create|generate|draw|access|browse|display|fulfill|fulfil|help|see|view|open|"
    r"read|watch|listen|play|produce|show|make|design|compose|record|give|determine|predict|assist|comply|process|"
    r"verify|search|find|click|visit|take|upload|send|attach|share|edit|run|execute|hear|sing|paint|physically)"
)
_REFUSAL = (
    r"(?i)^\W*(?:"
    r"as an? (?:ai|artificial intelligence|language model|large language model|gpt|text-based)\b"
    rf"|(?:i'm|i am) (?:sorry|afraid),? (?:but )?i {_CANNOT} {_ACTS}\b"
    rf"|(?:sorry|unfortunately),? (?:but )?i {_CANNOT} {_ACTS}\b"
    rf"|i {_CANNOT} {_ACTS}\b"
    r"|(?:this|the) (?:task|instruction|request|question) (?:cannot|can't|can not|is not able to) be (?:performed|completed|done|answered|fulfilled|carried out)"
    r"|(?:this|the) (?:task|instruction|request) (?:is|seems) (?:not possible|impossible)"
    r")"
)
# Kept apart from the anchored pattern: one alternation of an anchored and an
# unanchored branch makes Polars' regex scan every output ten times slower.
_AS_AN_AI = r"(?i)\bas an ai(?: language model)?\b"


_REWRITE = r"(?i)\b(?:rewrite|re-write|paraphrase|rephrase|change|convert|edit|negat\w*|translate|transform|correct|turn)\b"


@rule(Severity.DROP, highlight=r"[Aa]s an (AI|[Aa]rtificial [Ii]ntelligence)( language model)?|I('m| am) (sorry|afraid)[^.]{0,60}|[Ii] (cannot|can't|am unable to)[^.]{0,40}|[Tt]his (task|instruction) cannot be [a-z]+")
def refusal() -> pl.Expr:
    """The output declines instead of answering: "As an AI language model…", "I'm sorry, but I cannot…", "This task cannot be completed…".

    Dropped: a refusal to a harmless task teaches refusing. Only the opening of
    the output counts ("I'm sorry to hear that" and a character saying "I can't"
    in a story do not), except for "as an AI", which never belongs in an answer.
    Rewriting tasks with an input ("Rewrite in the negative: I can do it.") may
    answer "I cannot do it." and do not count."""
    rewrites_input = pl.col("instruction").str.contains(_REWRITE) & (pl.col("input").fill_null("") != "")
    refuses = pl.col("output").str.contains(_REFUSAL) | pl.col("output").str.contains(_AS_AN_AI)
    return refuses & ~rewrites_input
