"""Every word list and Kiwi tag set the grader, the key-point model and the chat commands read, as data:
one name per use (the regular expressions are in `patterns`). The logic that applies them stays with
its module.

Two lists that look alike are kept apart where their uses differ, and the comment says how: merging
them would change grades. `tests/test_words.py` holds what each must and must not contain.
"""

from __future__ import annotations

# --- Kiwi's tags -----------------------------------------------------------------------------

# A morpheme with one of these tags makes a clause a statement rather than a bare list of terms.
PREDICATE_TAGS = frozenset({"VV", "VA", "VX", "VCP", "VCN", "XSV", "XSA", "EF"})
# Nouns and noun-like pieces: compounds of adjacent ones are lemmas too ("연산"+"량"), and three of
# them make a telegraphic clause.
NOUN_TAGS = frozenset({"NNG", "NNP", "SL", "SN", "XR", "SH", "NR", "XSN", "XPN"})
# The morphemes kept as a clause's lemmas: how a learned key point's verb ("줄이") matches "줄여서".
CONTENT_TAGS = frozenset({"NNG", "NNP", "SL", "SN", "XR", "SH", "NR", "VV", "VA", "XSN"})
# Case particles: a telegraphic clause relates its nouns with them ("뉴런 무작위 제거로 co-adaptation 억제").
RELATING_TAGS = frozenset({"JKB", "JKS", "JKO", "JKG", "JX"})
# Punctuation (arrows included: "평행이동 → 원점 안 지나는 데이터") closes a negated predicate's clause.
CLAUSE_PUNCT_TAGS = frozenset({"SP", "SF", "SS", "SO", "SW"})

# --- Korean endings and particles (Kiwi's forms) ---------------------------------------------

# Connective endings of contrast ("~지만", "~는데"): a sentence is cut after them.
CONTRAST_ENDINGS = frozenset({"지만", "는데", "은데", "ㄴ데", "나", "으나"})
# A condition ("안 떨어지면"): a negation before it is a premise, not a denial.
CONDITIONAL_ENDINGS = frozenset({"면", "으면", "다면", "ㄴ다면", "는다면", "라면"})
# A reason given before the claim ("순서대로 읽지 않으니까 …를 더한다"): the negation is its premise too.
CAUSAL_ENDINGS = frozenset({"니까", "으니까", "니", "으니", "므로", "으므로", "어서", "아서"})
# Adverbs that negate the predicate after them ("안 된다", "못 한다").
NEGATING_ADVERBS = ("안", "못")
# Endings after "않" that make it a purpose ("않게", "않도록"), not a denial.
PURPOSE_ENDINGS = ("게", "도록")
# Before "아니라" they make it "not only … but also" ("X뿐만 아니라 Y"): Y is added, X is not denied.
NOT_ONLY_PARTICLES = ("만", "뿐")
# After the negative copula they end "X가 아니라 Y" / "X가 아니고 Y": the clause is cut there.
DENIAL_CONNECTIVES = ("라", "고")
# Particles and endings glued to a Korean word ("순서를", "늘리기", "줄임"), longest first: a keyword's
# and a reference's content words are compared without them.
PARTICLES = tuple(sorted(["은", "는", "이", "가", "을", "를", "의", "에", "에서", "에게", "로", "으로", "와", "과",
                          "도", "만", "까지", "부터", "보다", "처럼", "이나", "에는", "에도", "으로는", "로는", "이라는",
                          "라는", "하기", "하는", "되는", "한", "된", "하여", "해서", "함", "됨", "적인", "인"],
                         key=len, reverse=True))

# --- words that carry no claim ---------------------------------------------------------------
# Two lists for two comparisons. CONTENT_STOPWORDS are dropped from the words of keywords and of
# reference sentences (surface forms, English function words included); EXPLANATION_FILLER are the
# squashed lemmas that never make an answer's clause explain a learned key point (Kiwi's stems: "쓰",
# "하"; and what introduces a name: "약자", "줄임말"). Merging them changes the key points' words.

CONTENT_STOPWORDS = frozenset({
    "하는", "되는", "하다", "한다", "된다", "경우", "방식", "방법", "사용", "것", "수", "등", "및", "때", "문제", "이유", "역할",
    "기반", "통해", "위해",
    "the", "a", "an", "of", "to", "and", "or", "is", "are", "in", "for", "by", "with", "on", "as", "at"})
EXPLANATION_FILLER = frozenset({
    "쓰", "사용", "사용하", "하", "되", "있", "없", "같", "보", "알", "이유", "때문", "경우", "방법", "기법",
    "문제", "줄임말", "약자", "의미", "뜻", "말", "것", "수", "등", "거", "기반", "정도", "중요", "특징",
    "use", "used", "uses", "stands", "short", "means", "called", "method", "technique"})
# A translation stated as a meaning with at most this many nouns names a term (`patterns.MEANS`).
MEANING_MAX_NOUNS = 3

# --- "don't know" ----------------------------------------------------------------------------

# An answer that is nothing but "I don't know", squashed (`text.squash`) and without a final "." or
# "!": the turn is recorded as "모르겠습니다", not graded. A hedge inside an answer that goes on is
# `patterns.DONT_KNOW_HEDGE`, which caps the grade instead.
DONT_KNOW_ANSWERS = frozenset({"모르겠습니다", "모르겠어요", "잘모르겠습니다", "잘모르겠어요", "모름", "몰라요",
                               "idontknow", "idon'tknow", "idk", "dontknow"})
