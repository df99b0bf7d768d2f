"""Rules about what a record refers to or asks for that text alone cannot hold:
links and attachments it does not contain, images and sound, other records
fused into it, prompt-template text, and refusals."""

from __future__ import annotations

import polars as pl

from rules.base import LEAD_IN as _LEAD_IN
from rules.base import Severity, boundary_free, only_where, rule

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


# --- where a URL or a missing thing is not missing content ---------------------------
# The task is about the URL itself: extract its domain, judge whether it is phishing,
# write a link to it, encode it, split it into parts.
_URL_IS_OBJECT = (
    r"(?i)\b(?:phishing|malicious|suspicious|spam|safe|legitimate|valid|domain|subdomain|hostname|protocol|scheme|"
    r"path|query (?:string|param\w*)|param\w*|components?|encode|decode|escape|slug|redirect|link to|hyperlink|"
    r"anchor|bookmark|shorten\w*|short url|qr code|endpoint|api|request|fetch|download|scrape|scraper|crawl\w*|"
    r"curl|wget|http (?:request|get|post|call|client|server|header|status)\w*|get request|post request|webhook|ping|library|package|module|npm|pip|javascript|typescript|"
    r"python|java|node(?:\.js)?|php|ruby|html|css|sql|bash|shell)\b"
)
# The answer is code: a URL in the prompt is the argument of a call in it
# (requests.get("..."), fetch('...'), curl ..., <a href=...>), and a code answer
# to "the following table" does not depend on the table's rows.
_CODE_ANSWER = (
    r"(?m)```|^\s*#!/|^\s*(?:import [\w.]+|from [\w.]+ import|def \w+\(|class \w+\s*[:({]|(?:async )?function\s*\w*\s*\(|"
    r"(?:const|let|var) \w+\s*=|public (?:static |class |void )|#include|package [\w.]+;|using [\w.]+;|"
    r"SELECT |curl |wget |\$\.ajax|<\?php|<html|<!DOCTYPE|<a |<div|<img )"
    r"|\b(?:requests|axios|urllib\.request|http)\.(?:get|post|put|request|urlopen)\(|\bfetch\(|\brequest\(|=>|;\s*$"
)
# A URL inside a text (a news article with its reprint links) is page furniture:
# the content is there. Stand-in URLs come with a line or two of instruction
# (under 200 characters besides the URL in all of Alpaca).
_LONG_PROMPT_CHARS = 600
_SHORT_INSTRUCTION_CHARS = 400

# A placeholder standing in for content the record does not hold: the whole input
# is one bracketed phrase naming a thing ("(Link to photo)", "<NEWS ARTICLE>",
# "[Image of a new product]", "(Insert Article)", "<video clip>").
_CONTENT_WORD = (
    r"article|image|photo|picture|video|clip|audio|song|lyrics|link|url|file|document|chart|graph|recording|"
    r"attach\w*|screenshot|poem|essay|paragraph|story|email|letter|spreadsheet|pdf|news|insert|map|diagram|"
    r"painting|figure|gif|drawing|sketch|passage|transcript|speech|tweet|post|text"
)
# Quotes, commas or "=" inside make it data: a list of file names, an HTML tag.
_PLACEHOLDER_INPUT = (
    rf"(?i)^\s*[<\[(][^<>\[\]()\"'=,;{{}}]{{0,60}}\b(?:{_CONTENT_WORD})s?\b[^<>\[\]()\"'=,;{{}}]{{0,60}}[>\])]\s*$"
)
# "[Image of a painting of two figures in a boat on a lake under a yellow sky]":
# a picture described in words is content (a caption for it is a fine task).
_DESCRIBED_PICTURE = r"(?i)^\s*[<\[(]\s*(?:image|photo|picture|figure|painting|drawing)\s*(?:of|:)\s*(?:\S+\s+){6,}"
# "Describe the phenomenon shown in the animation." with an empty input: a thing
# named with "the"/"this" and nothing describing it ("the photo of a dog" does).
_NAMED_MEDIA = (
    r"photos?|photographs?|images?|pictures?|charts?|graphs?|animations?|videos?|clips?|paintings?|diagrams?|"
    r"screenshots?|recordings?|audio|podcasts?|infographics?|illustrations?|drawings?|sketch|maps?|figures?|gifs?|"
    r"articles?|passages?|essays?|transcripts?|speech|documents?"
)
_MISSING_NAMED_MEDIA = (
    rf"(?i)\b(?:this|these|the) (?:{_NAMED_MEDIA})(?:\s*[.?!,;:]|\s*$|\s+(?:in|into|above|below|provided|given|"
    r"attached|shown|and|to|for|using|as|at|on|with one|in one|in \w+ (?:words|sentences))\b)"
)
# "Summarize the article 'Title'", "... the article with the headline ...": the
# article is named, not given. Fires when the record holds no more than a line of it.
_ABOUT_AN_ARTICLE = (
    r"(?i)\b(?:summari[sz]e|summary of|key points|main points|highlights|main idea|gist|analy[sz]e|read|extract|"
    r"critique|review)\b[^.\n]{0,30}\b(?:the|this|following|given) (?:news |online |blog |research )?"
    r"(?:article|paper|post|report|essay)\b"
)
# "Output the most important points from a complex article | Article: The Basics
# of Machine Learning": the input is labelled as the article and holds its title.
_TITLE_ONLY_INPUT = r"(?i)^\s*(?:article|essay|paper|news|research article|news article)\s*:\s*[^\n]{1,80}$"
_READS_CONTENT = r"(?i)\b(?:summari[sz]e|summary|points|highlights|main idea|gist|analy[sz]e|extract|topics|themes|critique)\b"
_FEW_WORDS = 30
# Audio the record cannot hold: "Transcribe the recording" with a description of it.
_TRANSCRIBE = r"(?i)^\W*transcribe\b[^.\n]{0,30}\b(?:recording|audio|video|podcast|speech|interview|call|voicemail|clip|lecture)"


@rule(
    Severity.DROP,
    highlight=r"https?://\S+|www\.\S+|<\s*[Pp]icture [Aa]ttached\s*>|!\[[^\]]*\]\([^)]*\)|<(img|audio|video)\b[^>]*>"
    r"|\b[Tt]h(e|is|ese) (following|given|attached|above|below|provided|linked) [a-z]+"
    r"|^\s*[<\[(][^<>\[\]()]{0,80}[>\])]\s*$|\b[Tt]h(e|is|ese) [a-z]+",
)
def external_reference_v2() -> pl.Expr:
    """The task depends on something the record does not contain: a URL, an attachment, a placeholder ("<NEWS ARTICLE>"), "the photo" or "the following article" with nothing given, an article named only by its title.

    Dropped: the answer cannot be checked or learned from the record, so the pair
    teaches the model to make up what is behind the link. Not fired when the URL
    is what the task works on (its domain, whether it is phishing, a link to it),
    when the answer is code (the URL is the argument of a call: requests.get,
    fetch, curl, <a href>), when the URL sits in a long text that is itself the
    content, nor for URLs in the output (citing a source is fine). v2 of
    ``external_reference``: that version dropped tool-use and code records."""
    prompt = ("instruction", "input")
    no_input = pl.col("input").fill_null("").str.strip_chars() == ""
    # Each part's costlier checks run only on the rows its cheap test selects.
    text_besides_urls = pl.concat_str(pl.col("instruction"), pl.col("input").fill_null("")).str.replace_all(_URL, "")
    # Read around the URLs: "https://example.com/api/download" says nothing of the task.
    task_words = pl.col("instruction").str.replace_all(_URL, " ")
    url = only_where(
        _any_of(prompt, _URL),
        ~task_words.str.contains(boundary_free(_URL_IS_DATA))
        & ~task_words.str.contains(boundary_free(_URL_IS_OBJECT))
        & (text_besides_urls.str.len_chars() < _LONG_PROMPT_CHARS),
    )
    has_markup = _any_of(prompt, _IMAGE_MARKUP)
    markup = has_markup & ~only_where(has_markup, pl.col("instruction").str.contains(boundary_free(_URL_IS_DATA)))
    # "The photo" in a long text that is itself the content (a passage, an article)
    # names something that text talks about.
    short_instruction = pl.col("instruction").str.len_chars() < _SHORT_INSTRUCTION_CHARS
    missing = only_where(
        no_input & short_instruction,
        pl.col("instruction").str.contains(_MISSING_MEDIA) | pl.col("instruction").str.contains(_MISSING_NAMED_MEDIA),
    )
    words = pl.col("instruction").str.count_matches(r"\S+") + pl.col("input").fill_null("").str.count_matches(r"\S+")
    # _ABOUT_AN_ARTICLE is slow on long text (the news articles a task quotes),
    # and only a record of a few words can hold no more than its title: the
    # words are counted first, the pattern read only where they are few.
    title_only = only_where(
        pl.col("instruction").str.contains(r"(?i)article|essay|paper|post|report|news"),
        only_where(words <= _FEW_WORDS, pl.col("instruction").str.contains(_ABOUT_AN_ARTICLE))
        | (pl.col("instruction").str.contains(boundary_free(_READS_CONTENT)) & pl.col("input").fill_null("").str.contains(_TITLE_ONLY_INPUT)),
    )
    # Whether the answer is code is costly to tell on long outputs: asked only of
    # the rows that would otherwise fire.
    missing_unless_code = only_where(url | markup | missing | title_only, ~pl.col("output").str.contains(_CODE_ANSWER))
    placeholder = pl.col("input").fill_null("").str.contains(_PLACEHOLDER_INPUT) & ~pl.col("input").fill_null("").str.contains(
        _DESCRIBED_PICTURE
    )
    transcribe = pl.col("instruction").str.contains(_TRANSCRIBE)
    return missing_unless_code | _any_of(prompt, _ATTACHED) | placeholder | transcribe


_MAKE = r"(?:create|generate|design|make|produce|draw|sketch|paint|render|construct|build|recreate|compose|show me|give me)"
_NON_TEXT = (
    r"(?:logos?|icons?|images?|pictures?|drawings?|illustrations?|paintings?|photos?|photographs?|sketch|animations?|gifs?|"
    r"videos?|3d (?:model|visuali[sz]ation)s?|three-dimensional (?:model|visuali[sz]ation)s?|3-d models?|visuals?|"
    r"visuali[sz]ations?|infographics?|collages?|mock-?ups?|wireframes?|screenshots?|"
    r"memes?|cartoons?|comic strips?|flow ?charts?|diagrams?|posters?|flyers?|banners?|melod(?:y|ies)|tunes?|music|"
    r"musical (?:piece|sequence|composition)s?|pieces? of music|soundtracks?|audio|recordings?)"
)
_ASKS_FOR_MEDIA = (
    rf"(?i)^{_LEAD_IN}{_MAKE}\b[^.?!\n]{{0,40}}?\b{_NON_TEXT}\b"
    rf"|(?i)^{_LEAD_IN}(?:draw|sketch|paint|colou?ri[sz]e|photograph|film|animate|sing|hum|whistle)\b"
    rf"|(?i)^{_LEAD_IN}record (?:a|an|the|yourself|your)\b"
    rf"|(?i)^{_LEAD_IN}(?:crop|resize|retouch|photoshop|edit|enhance|brighten|blur|sharpen|rotate) (?:a|an|the|this|these|my)? ?(?:\w+ )?(?:photos?|images?|pictures?|photographs?)\b"
)
# Text about a picture is text: a caption, a description, a character sketch; so
# is code that draws (SVG, HTML, CSS, a plotting script).
_TEXT_ABOUT_MEDIA = (
    r"(?i)\b(?:descri\w+|caption|title|name|slogan|idea|concept|script|poem|phrase|sentence|paragraph|words?|"
    r"alt text|headline|prompt|list|outline|plan|specification|strategy|summary|review|character sketch|"
    r"biographical sketch|rhyme|lyrics|draw (?:a |an )?(?:conclusion|comparison|parallel|inference|analogy|distinction|line)|"
    r"paint a picture (?:with|in|using) words|(?:compose|write|create|generate) (?:a |an )?(?:\w+ )?song|"
    r"program|app|application|software|algorithm|function|code|html|css|svg|latex|tikz|ascii|matplotlib|javascript|"
    r"python|stylesheet)\b"
    r"|(?i)(?:^|[^\w-])stor(?:y|ies)\b"  # a story, not a "two-story house"
)
_WORD_CLOUD = rf"(?i)^{_LEAD_IN}{_MAKE}\b[^.?!\n]{{0,40}}?\bword ?clouds?\b"
_SCREENSHOT = r"(?i)\b(?:generate|create|take|make|produce|capture)\b[^.?!\n]{0,30}\bscreenshots?\b"
_MEDIA_OUTPUT = r"^\s*(?:!\[[^\]]*\]\([^)]*\)|<img\b|<audio\b|<video\b)"


@rule(Severity.DROP, highlight=r"^[^.?!\n]{0,80}")
def image_request_v2() -> pl.Expr:
    """Asks for a non-text output: draw, design a logo, create an image or a word cloud, compose a melody, sing, edit a photo.

    Dropped: a text model cannot produce it, so the output is a description
    pretending to be the thing, a placeholder, or a made-up image link. Requests
    for text about a picture (a caption, a description, a character sketch,
    lyrics) or for code that draws (SVG, HTML, CSS) do not count; an output that
    is itself an image link does. v2 of ``image_request``: also sing, 3D models,
    word clouds, screenshots and photo edits; code that draws is text."""
    instruction = pl.col("instruction")
    asks_for_media = instruction.str.contains(_ASKS_FOR_MEDIA)
    asks = asks_for_media & ~only_where(asks_for_media, instruction.str.contains(_TEXT_ABOUT_MEDIA))  # costly: on few rows
    made = instruction.str.contains(_WORD_CLOUD) | instruction.str.contains(_SCREENSHOT)
    return asks | made | pl.col("output").str.contains(_MEDIA_OUTPUT)


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


_CANNOT = r"(?:cannot|can't|can not|am unable to|'m unable to|am not able to|'m not able to|do not have the ability to|don't have the ability to|won't|will not)"
_ACTS = (
    r"(?:provide|answer|do|perform|complete|create|generate|draw|access|browse|display|fulfill|fulfil|help|see|view|open|"
    r"read|watch|listen|play|produce|show|make|design|compose|record|give|determine|predict|assist|comply|process|"
    r"verify|search|find|click|visit|take|upload|send|attach|share|edit|run|execute|hear|sing|paint|physically)"
)
# An AI persona's statement is an answer ("As an AI judge, I find the robot not
# guilty."); "as an AI" is a refusal only when a refusal act follows it.
_AI = r"as an? (?:ai|artificial intelligence|language model|large language model|gpt|text-based)(?: (?:language |text-based )?(?:model|assistant|program|system))?"
_LACKS = r"(?:cannot|can't|can not|am unable|'m unable|am not able|'m not able|don't|do not|won't|will not|have no|lack|am not capable|'m not capable)"
_REFUSAL = (
    r"(?i)^\W*(?:"
    rf"(?:i'm|i am) (?:sorry|afraid),? (?:but )?i ?{_CANNOT} {_ACTS}\b"
    rf"|(?:sorry|unfortunately),? (?:but )?i ?{_CANNOT} {_ACTS}\b"
    rf"|i ?{_CANNOT} {_ACTS}\b"
    r"|(?:this|the) (?:task|instruction|request|question) (?:cannot|can't|can not|is not able to) be (?:performed|completed|done|answered|fulfilled|carried out)"
    r"|(?:this|the) (?:task|instruction|request) (?:is|seems) (?:not possible|impossible)"
    r")"
)
# Kept apart from the anchored pattern: one alternation of an anchored and an
# unanchored branch makes Polars' regex scan every output ten times slower.
_AS_AN_AI_REFUSING = rf"(?i)\b{_AI},? (?:i|i'm|i am)? ?{_LACKS}\b"


_REWRITE = r"(?i)\b(?:rewrite|re-write|paraphrase|rephrase|change|convert|edit|negat\w*|translate|transform|correct|turn)\b"


@rule(Severity.DROP, highlight=r"[Aa]s an (AI|[Aa]rtificial [Ii]ntelligence)( language model)?,? I[^.]{0,40}|I('m| am) (sorry|afraid)[^.]{0,60}|[Ii] (cannot|can't|am unable to|won't)[^.]{0,40}|I'm (unable|not able) to[^.]{0,40}|[Tt]his (task|instruction) cannot be [a-z]+")
def refusal_v2() -> pl.Expr:
    """The output declines instead of answering: "As an AI language model, I cannot…", "I'm sorry, but I cannot…", "I won't…", "This task cannot be completed…".

    Dropped: a refusal to a harmless task teaches refusing. A refusal is an act:
    only the opening of the output counts ("I'm sorry to hear that" and a
    character saying "I can't" in a story do not), except for "as an AI …"
    followed by what it cannot do, anywhere. A persona's answer ("As an AI judge,
    I find the robot not guilty.") is not a refusal. Rewriting tasks with an input
    ("Rewrite in the negative: I can do it." -> "I cannot do it.") do not count.
    v2 of ``refusal``, which fired on the words "as an AI" alone."""
    rewrites_input = pl.col("instruction").str.contains(boundary_free(_REWRITE)) & (pl.col("input").fill_null("") != "")
    refuses = pl.col("output").str.contains(_REFUSAL) | pl.col("output").str.contains(boundary_free(_AS_AN_AI_REFUSING))
    return refuses & ~rewrites_input
