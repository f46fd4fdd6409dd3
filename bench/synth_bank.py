"""A synthetic question bank in the bank's markdown format, deterministic from a seed.

Cards read like a training team's own bank: Korean questions with English technical terms, a
`Keyword:` line of 2-4 phrases, an `Answer:` with one sentence per keyword, a note, and `###`
follow-ups under some `##` questions. Titles (and so card ids) are unique.

    python bench/synth_bank.py --cards 10000 --seed 7 --out /tmp/bank-10k.md
    interviewer --bank /tmp/bank-10k.md --no-bundled ingest
"""

from __future__ import annotations

import argparse
import random
import re
import string
import sys
from dataclasses import dataclass
from pathlib import Path

from interviewer.bank.cards import slug_for

# (English term, Korean term)
CONCEPTS = [
    ("dropout", "드롭아웃"), ("batch normalization", "배치 정규화"), ("learning rate", "학습률"),
    ("weight decay", "가중치 감쇠"), ("Adam", "아담 옵티마이저"), ("momentum", "모멘텀"),
    ("attention", "어텐션"), ("transformer", "트랜스포머"), ("residual connection", "잔차 연결"),
    ("layer normalization", "레이어 정규화"), ("convolution", "합성곱"), ("max pooling", "최대 풀링"),
    ("embedding", "임베딩"), ("tokenizer", "토크나이저"), ("cross entropy", "교차 엔트로피"),
    ("softmax", "소프트맥스"), ("ReLU", "렐루"), ("GELU", "겔루 활성화"), ("early stopping", "조기 종료"),
    ("data augmentation", "데이터 증강"), ("label smoothing", "라벨 스무딩"),
    ("gradient clipping", "그래디언트 클리핑"), ("mixed precision", "혼합 정밀도 학습"),
    ("knowledge distillation", "지식 증류"), ("quantization", "양자화"), ("pruning", "가지치기"),
    ("fine-tuning", "미세 조정"), ("transfer learning", "전이 학습"), ("contrastive learning", "대조 학습"),
    ("autoencoder", "오토인코더"), ("VAE", "변분 오토인코더"), ("GAN", "생성적 적대 신경망"),
    ("diffusion model", "확산 모델"), ("RNN", "순환 신경망"), ("LSTM", "장단기 메모리 네트워크"),
    ("beam search", "빔 서치"), ("positional encoding", "위치 인코딩"), ("self-attention", "셀프 어텐션"),
    ("weight initialization", "가중치 초기화"), ("vanishing gradient", "기울기 소실"),
    ("batch size", "배치 크기"), ("learning rate warmup", "학습률 웜업"), ("cosine annealing", "코사인 어닐링"),
    ("L2 regularization", "L2 규제"), ("focal loss", "포컬 손실"), ("triplet loss", "트리플렛 손실"),
    ("ensemble", "앙상블"), ("cross validation", "교차 검증"), ("depthwise convolution", "깊이별 합성곱"),
    ("multi-head attention", "멀티헤드 어텐션"), ("KV cache", "키-값 캐시"), ("LoRA", "저랭크 적응"),
    ("gradient accumulation", "그래디언트 누적"), ("curriculum learning", "커리큘럼 학습"),
    ("negative sampling", "네거티브 샘플링"), ("teacher forcing", "티처 포싱"),
    ("stochastic depth", "확률적 깊이"), ("spectral normalization", "스펙트럴 정규화"),
    ("class weighting", "클래스 가중치"), ("hard negative mining", "하드 네거티브 마이닝"),
]

# (keyword phrase as on a `Keyword:` line, the answer sentence that explains it)
EFFECTS = [
    ("일반화 성능 향상", "{both:은} train과 test 사이의 차이를 줄여 일반화 성능을 높입니다."),
    ("학습 안정화", "{ko:을} 쓰면 loss가 크게 흔들리지 않아 학습이 안정적으로 진행됩니다."),
    ("수렴 속도 개선", "{en:은} optimizer가 더 적은 step으로 수렴하도록 도와 학습 속도를 높입니다."),
    ("메모리 절약", "{ko:은} activation이나 parameter를 덜 저장하게 해 GPU memory를 아낄 수 있습니다."),
    ("gradient 흐름 개선", "{en:은} 깊은 layer까지 gradient가 잘 전달되게 해 기울기 소실을 완화합니다."),
    ("계산량 감소", "{ko:을} 적용하면 FLOPs가 줄어 같은 하드웨어에서 더 빨리 계산합니다."),
    ("overfitting 방지", "{en:은} 모델이 training data를 외우는 것을 막아 overfitting을 방지합니다."),
    ("표현력 증가", "{ko:은} 비선형성과 용량을 더해 모델의 표현력을 키웁니다."),
    ("추론 속도 향상", "{en:을} 쓰면 inference latency가 줄어 서비스 응답이 빨라집니다."),
    ("noise에 강건", "{ko:은} 입력 noise나 label noise가 있어도 성능이 크게 떨어지지 않게 합니다."),
    ("scale 불변성", "{en:은} 입력이나 weight의 scale이 바뀌어도 출력이 크게 변하지 않게 합니다."),
    ("long-range dependency", "{ko:은} 멀리 떨어진 token 사이의 long-range dependency를 잡아냅니다."),
    ("class imbalance 완화", "{en:은} 소수 class의 loss 비중을 높여 class imbalance 문제를 완화합니다."),
    ("parameter 수 감소", "{ko:을} 쓰면 학습할 parameter 수가 줄어 저장 공간과 통신량이 작아집니다."),
    ("hyperparameter 민감도", "{en:은} hyperparameter 선택에 민감해서 validation set으로 값을 골라야 합니다."),
    ("internal covariate shift", "{ko:은} layer 입력 분포가 학습 중에 바뀌는 internal covariate shift를 줄입니다."),
    ("exploding gradient 방지", "{en:은} gradient norm이 폭발하는 것을 막아 NaN loss를 예방합니다."),
    ("sample efficiency", "{ko:을} 쓰면 적은 labeled data로도 좋은 성능을 낼 수 있어 sample efficiency가 높습니다."),
    ("prevents co-adaptation", "{en} prevents units from co-adapting, so each feature must be useful on its own."),
    ("reduces variance", "{en} reduces the variance of the estimate, which makes validation scores more reliable."),
    ("smoother loss landscape", "With {en} the loss landscape becomes smoother, so larger learning rates work."),
    ("better calibration", "{en} keeps predicted probabilities closer to the true frequencies, i.e. better calibration."),
]

TEMPLATES = [
    "{a_both:은} 무엇이고 왜 사용하나요?",
    "{a_en:과} {b_en}의 차이는 무엇인가요?",
    "{a_ko:을} {b_ko:과} 함께 쓸 때 주의할 점은?",
    "{context} {a_en:을} 적용하면 어떤 효과가 있나요?",
    "{a_en:이} {b_en}보다 나은 경우는 언제인가요?",
    "Why would you use {a_en} together with {b_en}?",
    "{context} {a_ko:이} 잘 동작하지 않는다면 원인은?",
    "What problem does {a_en} solve {context_en}?",
]
FOLLOW_UPS = [
    "그렇다면 {context} {a_en:을} 쓰지 않으면 어떻게 되나요?",
    "{a_en}의 hyperparameter는 {b_en:과} 비교해 어떻게 정하나요?",
    "{context} {a_ko}의 단점은 무엇인가요?",
    "How would you debug {a_en} {context_en} when the loss stops decreasing?",
    "{a_ko:을} {b_ko:으로} 바꾸면 결과가 어떻게 달라지나요?",
]
CONTEXTS = [("대규모 데이터에서", "on large datasets"), ("작은 모델에서", "in small models"),
            ("실시간 추론 환경에서", "for real-time inference"), ("Vision 모델에서", "in vision models"),
            ("LLM 학습에서", "when training LLMs"), ("추천 시스템에서", "in recommender systems"),
            ("음성 인식에서", "in speech recognition"), ("분산 학습에서", "in distributed training"),
            ("강화학습에서", "in reinforcement learning"), ("의료 영상에서", "in medical imaging")]
# Lead-ins make each answer sentence the card's own, as in a real bank (only keywords repeat there).
LEAD_INS = ["{context} ", "{b_ko:과} 달리 ", "{b_en} 실험과 비교해 보면 ", "{context} 특히 ",
            "In practice, {context_en}, ", "{b_en:과} 비교하면 ", "{b_ko:을} 쓰던 모델에서도 "]
NOTES = ["참고: 논문의 ablation 결과를 함께 설명하면 좋습니다.", "실무에서는 validation curve로 효과를 확인합니다.",
         "면접에서는 수식보다 직관을 먼저 말하는 것이 좋습니다.", "See the original paper for the exact formulation."]


PARTICLES = {"은": ("은", "는"), "이": ("이", "가"), "을": ("을", "를"), "과": ("과", "와"), "으로": ("으로", "로")}
RIEUL = 8
PARENTHETICAL = re.compile(r"\([^)]*\)$")


def final_consonant(word: str) -> int:
    """The final consonant (jongseong index, 0 = none) Korean particles after `word` depend on."""
    last = PARENTHETICAL.sub("", word).rstrip()[-1:]
    if "가" <= last <= "힣":
        return (ord(last) - ord("가")) % 28
    # English terms as read aloud: "Adam" (아담), "GAN" (갠), "pooling" (풀링), "label" (레이블)
    return {"l": RIEUL, "m": 16, "n": 4, "g": 21}.get(last.lower(), 0)


def particle(word: str, spec: str) -> str:
    consonant, vowel = PARTICLES[spec]
    final = final_consonant(word)
    takes_consonant = final != 0 and not (spec == "으로" and final == RIEUL)  # 모델로, not 모델으로
    return consonant if takes_consonant else vowel


class KoreanFormatter(string.Formatter):
    """`{ko:은}` formats the value followed by the particle that fits it (은 or 는)."""

    def format_field(self, value, format_spec: str) -> str:
        if format_spec in PARTICLES:
            return f"{value}{particle(value, format_spec)}"
        return super().format_field(value, format_spec)


KOREAN = KoreanFormatter()


@dataclass
class SynthCard:
    title: str
    keywords: list[str]
    answer: str
    note: str
    follow_up: bool


class Generator:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.titles: set[str] = set()
        self.slugs: set[str] = set()

    def card(self, follow_up: bool) -> SynthCard:
        a, b = self.rng.sample(CONCEPTS, 2)
        title = self.unique_title(FOLLOW_UPS if follow_up else TEMPLATES, a, b)
        effects = self.rng.sample(EFFECTS, self.rng.randint(2, 4))
        context, context_en = self.rng.choice(CONTEXTS)
        sentences = [KOREAN.format(self.rng.choice(LEAD_INS) + sentence, en=a[0], ko=a[1],
                                   both=f"{a[1]}({a[0]})", b_en=b[0], b_ko=b[1], context=context,
                                   context_en=context_en)
                     for _, sentence in effects]
        # Terse labels like the seed's ("weight bias 방지"); some repeat across cards, most do not.
        keywords = [self.rng.choice((kw, f"{a[0]} {kw}", f"{kw} ({context})")) for kw, _ in effects]
        return SynthCard(title, keywords, " ".join(sentences), self.rng.choice(NOTES), follow_up)

    def unique_title(self, templates: list[str], a: tuple[str, str], b: tuple[str, str]) -> str:
        # Ids come from titles (readable words + a 6-hex hash); redraw on the rare clash so that a
        # 10k bank loads without duplicate-title or duplicate-id errors.
        for _ in range(1000):
            context, context_en = self.rng.choice(CONTEXTS)
            title = KOREAN.format(self.rng.choice(templates), a_en=a[0], a_ko=a[1], a_both=f"{a[1]}({a[0]})",
                                  b_en=b[0], b_ko=b[1], context=context, context_en=context_en)
            if title not in self.titles and slug_for(title) not in self.slugs:
                self.titles.add(title)
                self.slugs.add(slug_for(title))
                return title
            a, b = self.rng.sample(CONCEPTS, 2)
        raise ValueError(f"ran out of distinct titles after {len(self.titles)} cards")


def generate(n_cards: int, seed: int = 7) -> str:
    """The markdown of a bank of `n_cards` cards (mains, each followed by 0-2 follow-ups)."""
    gen = Generator(seed)
    parts = ["# Synthetic interview bank\n"]
    made = 0
    while made < n_cards:
        follow_ups = min(gen.rng.choice((0, 0, 1, 2)), n_cards - made - 1)
        for index in range(follow_ups + 1):
            parts.append(render(gen.card(follow_up=index > 0)))
        made += follow_ups + 1
    return "\n".join(parts)


def render(card: SynthCard) -> str:
    heading = "###" if card.follow_up else "##"
    return (f"{heading} {card.title}\n\nKeyword: {', '.join(card.keywords)}\nAnswer: {card.answer}\n\n"
            f"- {card.note}\n\n<br/>\n")


def write_bank(path: Path, n_cards: int, seed: int = 7) -> Path:
    path.write_text(generate(n_cards, seed), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, help="output file (default: stdout)")
    args = parser.parse_args()
    if args.out:
        write_bank(args.out, args.cards, args.seed)
    else:
        sys.stdout.write(generate(args.cards, args.seed))


if __name__ == "__main__":
    main()
