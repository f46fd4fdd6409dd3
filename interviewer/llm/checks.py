"""What a reply must be before it is used: Korean prose of the asked shape, no markup, no give-away
of the keyword; a judge's JSON whose evidence is a literal span of the answer. Each check raises
`LLMFailure` naming why a reply was refused."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Sequence

from interviewer.core.verdicts import VERDICTS
from interviewer.lang.patterns import REPLY_SENTENCE_END
from interviewer.lang.text import squash
from interviewer.llm.failures import LLMFailure
from interviewer.llm.prompts import DELIMITER

MIN_HANGUL_SHARE = 0.3  # of the words: Korean prose with English terms is well above, English is 0
HANGUL = re.compile(r"[\uac00-\ud7a3]")
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
MARKUP = re.compile(r"```|^\s*#", re.MULTILINE)  # a code block or a heading in what should be prose
ENGLISH_TERM = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-'][A-Za-z0-9]+)*")
MIN_EVIDENCE_CHARS = 4


def hangul_share(text: str) -> float:
    words = WORD.findall(text)
    if not words:
        return 0.0
    return sum(bool(HANGUL.search(w)) for w in words) / len(words)


def clean_reply(text: str) -> str:
    """Strip the wrapping small models like to add: fences, quotes, a role prefix."""
    text = text.strip()
    text = re.sub(r"^```\w*\s*|\s*```$", "", text).strip()
    text = re.sub(r"^[\"'“‘]?\s*(assistant|면접관|interviewer)\s*[:：]\s*", "", text, flags=re.IGNORECASE)
    if text[:1] in ("\"", "'", "“", "‘"):
        text = text[1:]
    if text[-1:] in ("\"", "'", "”", "’") and text.count(text[-1]) % 2 == 1:
        text = text[:-1]
    return text.strip()


def check_prose(text: str, limit: int, forbidden: Sequence[str] = (), shape: str = "prose") -> str:
    """The reply as usable Korean text of the given shape, or LLMFailure saying why not.

    "prose" (feedback, closing) ends at a sentence within `limit`; "line" (a transition) is its
    first sentence; "question" (a probe) runs to its last question mark. Lines and questions are
    one line in the chat. None may carry markup of its own: the chat renders it.
    """
    text = clean_reply(text)
    if shape != "prose":
        text = " ".join(text.split())
    if not text:
        raise LLMFailure("empty")
    if DELIMITER.search(text) or MARKUP.search(text) or not WORD.search(text):
        raise LLMFailure("garbage", text[:60])
    words = WORD.findall(text)
    if len(words) >= 6 and Counter(words).most_common(1)[0][1] > len(words) / 2:
        raise LLMFailure("garbage", "repetition")
    if hangul_share(text) < MIN_HANGUL_SHARE:
        raise LLMFailure("language", text[:60])
    text = SHAPES[shape](text, limit)
    flat = squash(text)
    for phrase in forbidden:
        key = squash(phrase)
        if key and key in flat:
            raise LLMFailure("leak", phrase)
    return text


def trim_to_sentence(text: str, limit: int) -> str:
    """Cut a long or truncated reply after its last complete sentence within `limit` chars."""
    if len(text) <= limit and REPLY_SENTENCE_END.search(text[-2:] + " "):
        return text
    head = text[:limit]
    ends = [m.end() for m in REPLY_SENTENCE_END.finditer(head)]
    return head[:ends[-1]].strip() if ends else head.strip()


def trim_to_question(text: str, limit: int) -> str:
    """The reply up to its last question mark within `limit` chars; a probe without one asks nothing."""
    end = text.rfind("?", 0, limit) + 1 or text.rfind("？", 0, limit) + 1
    if not end:
        raise LLMFailure("question", text[:60])
    return text[:end].strip()


def first_sentence(text: str, limit: int) -> str:
    end = REPLY_SENTENCE_END.search(text)
    return text[:end.end()].strip() if end and end.end() <= limit else trim_to_sentence(text, limit)


SHAPES: dict[str, Callable[[str, int], str]] = {"prose": trim_to_sentence, "line": first_sentence,
                                                "question": trim_to_question}


def revealing_terms(keywords: list[str], shown: str) -> list[str]:
    """What would give a key point away: each keyword whole and each English term in it (the
    part small models echo, e.g. "co-adaptation" of "co-adaptation 방지"), unless `shown` (the
    question itself) already contains it."""
    seen = squash(shown)
    terms = [t for kw in keywords for t in (kw, *(m for m in ENGLISH_TERM.findall(kw) if len(m) >= 3))]
    return [t for t in dict.fromkeys(terms) if squash(t) and squash(t) not in seen]


def parse_judgement(reply: str, answer: str) -> tuple[str, str] | None:
    """(verdict, evidence) when the judge's JSON is valid and its quote is a literal span of the
    answer; None for a valid 'missing' (nothing to quote, so it changes nothing)."""
    match = re.search(r"\{.*\}", reply, re.DOTALL)
    if not match:
        raise LLMFailure("json", reply[:60])
    try:
        data = json.loads(match.group(0))
    except json.JSONDecodeError:
        raise LLMFailure("json", match.group(0)[:60]) from None
    if not isinstance(data, dict) or data.get("verdict") not in VERDICTS:
        raise LLMFailure("json", str(data)[:60])
    evidence = data.get("evidence")
    if data["verdict"] == "missing":
        return None
    if not isinstance(evidence, str):
        raise LLMFailure("evidence", repr(evidence)[:60])
    span = literal_span(evidence, answer)
    if span is None:
        raise LLMFailure("evidence", evidence[:60])
    return data["verdict"], span


def literal_span(evidence: str, answer: str) -> str | None:
    """The evidence as it stands in the answer (quotes and outer whitespace aside), else None."""
    quote = evidence.strip().strip("\"'“”‘’「」").strip()
    if len(quote) < MIN_EVIDENCE_CHARS:
        return None
    if quote in answer:
        return quote
    # Line breaks inside the quoted span may come back as spaces; nothing else may differ.
    pattern = r"\s+".join(re.escape(part) for part in quote.split())
    found = re.search(pattern, answer)
    return found.group(0) if found else None
