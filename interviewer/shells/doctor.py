"""`interviewer doctor`: what is configured, and does each part really work here?

Every check does the real thing once (parse the bank, count the index, embed a sentence, one LLM
round trip, one sandbox probe) and reports a line; nothing is changed or downloaded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from interviewer.core.errors import UserError
from interviewer.runtime import Runtime


@dataclass
class Check:
    name: str
    ok: bool
    summary: str
    details: dict = field(default_factory=dict)

    def line(self) -> str:
        return f"{'✓' if self.ok else '✗'} {self.name:<10} {self.summary}"

    def as_dict(self) -> dict:
        return {"name": self.name, "ok": self.ok, "summary": self.summary, **self.details}


def run_checks(rt: Runtime) -> list[Check]:
    return [guarded(name, fn, rt) for name, fn in CHECKS]


def guarded(name: str, fn: Callable[[Runtime], Check], rt: Runtime) -> Check:
    """A check that raises is a failed check, reported on its line, never a traceback."""
    try:
        return fn(rt)
    except UserError as exc:
        return Check(name, False, f"설정 오류: {exc}")
    except Exception as exc:  # doctor reports every failure kind the same way
        return Check(name, False, f"오류: {type(exc).__name__}: {str(exc)[:200]}")


def check_bank(rt: Runtime) -> Check:
    cards = rt.bank.cards
    gradable = sum(card.gradable for card in cards)
    return Check("bank", gradable > 0, f"카드 {len(cards)}개 · 채점 가능 {gradable}개",
                 {"cards": len(cards), "gradable": gradable})


def check_keypoints(rt: Runtime) -> Check:
    """What the grader knows per key point, and the cards a team should curate first."""
    cards = rt.bank.cards
    points = [kp for card in cards for kp in card.keypoints]
    unanchored = [(card.id, kp.keyword) for card in cards for kp in card.keypoints if kp.learned and not kp.anchored]
    empty = [card.id for card in cards if card.keywords and not card.keypoints]
    curated = sum(not kp.learned for kp in points)
    summary = f"검토된 키워드 {curated}개 · 자동 {len(points) - curated}개"
    if unanchored:
        listed = ", ".join(f"{cid}/{kw}" for cid, kw in unanchored[:8]) + (" …" if len(unanchored) > 8 else "")
        summary += (f" — 경고: 참고 답변과 노트에 단어가 없는 키워드 {len(unanchored)}개 ({listed}): "
                    "`interviewer curate`로 초안을 만들어 먼저 다듬으세요")
    if empty:
        summary += f" — 참고 답변이 비어 채점할 수 없는 카드 {len(empty)}개: {', '.join(empty[:8])}"
    return Check("keypoints", True, summary, {
        "curated": curated, "automatic": len(points) - curated,
        "unanchored": [{"card_id": cid, "keyword": kw} for cid, kw in unanchored],
        "not_gradable": [{"card_id": cid, "reason": "empty reference answer"} for cid in empty]})


def check_index(rt: Runtime) -> Check:
    from interviewer.index.store import KEYPOINTS, QUESTIONS

    where = rt.settings.chroma_url or str(rt.settings.chroma_path)
    existing = {c.name for c in rt.store.client.list_collections()}
    counts = {name: rt.store.count(name) if name in existing else 0 for name in (QUESTIONS, KEYPOINTS)}
    summary = ", ".join(f"{name} {n}개" for name, n in counts.items()) + f" ({where})"
    if not all(counts.values()):
        summary += " — 비어 있음: `interviewer ingest` (chat, serve, grade, eval도 시작할 때 만듭니다)"
    return Check("index", True, summary, {"collections": counts, "location": where})


def check_embeddings(rt: Runtime) -> Check:
    from interviewer.index.embeddings import MODEL_NAME, embed_queries

    embed_queries(["준비"])  # the first call loads the model
    started = time.perf_counter()
    vectors = embed_queries(["드롭아웃은 과적합을 줄입니다."])
    ms = (time.perf_counter() - started) * 1000
    return Check("embeddings", vectors.shape[1] > 0, f"{MODEL_NAME} · {vectors.shape[1]}차원 · 문장 하나 {ms:.0f} ms",
                 {"model": MODEL_NAME, "dimensions": int(vectors.shape[1]), "ms": round(ms, 1)})


def check_model(rt: Runtime) -> Check:
    """The shipped grading model: its files against the manifest, and one pair read."""
    model = rt.grading_model
    started = time.perf_counter()
    model.read([("Dropout / co-adaptation 방지", "뉴런을 무작위로 꺼서 서로 기대지 않게 합니다.")])
    ms = (time.perf_counter() - started) * 1000
    manifest = model.manifest
    base = manifest["base"]
    return Check("model", True, f"채점 모델 {manifest['layers']}층 · {base['package']} {base['version']} · 쌍 하나 {ms:.0f} ms",
                 {"layers": manifest["layers"], "base": base, "data_sha256": manifest["data"]["sha256"],
                  "ms": round(ms, 1)})


def check_llm(rt: Runtime) -> Check:
    settings = rt.settings
    if settings.llm == "none":
        return Check("llm", True, "없음 (템플릿 면접관) — --llm openai|local로 켤 수 있습니다", {"backend": "none"})
    from interviewer.llm import LLMClient, LLMConfig, LLMFailure, build_chat_model, hangul_share
    from interviewer.llm.calls import VoiceStats

    config = LLMConfig.from_settings(settings)
    where = config.base_url or "api.openai.com"
    details: dict[str, object] = {"backend": config.backend, "model": config.model, "base_url": config.base_url,
               "tools": config.tools, "judge": config.judge}
    client = LLMClient(build_chat_model(config), VoiceStats(), timeout=config.timeout)
    started = time.perf_counter()
    try:
        reply = client.text([("human", "'안녕하세요'라고 한국어로 한 문장만 답하세요.")])
    except LLMFailure as failure:
        return Check("llm", False, f"{config.backend} · {config.model} @ {where} — 연결 실패 ({failure})", details)
    seconds = time.perf_counter() - started
    korean = hangul_share(reply) >= 0.3
    details.update(round_trip_s=round(seconds, 2), reply=reply[:200], korean=korean)
    note = "" if korean else " — 한국어가 아닌 응답: 이 모델의 문장은 대부분 기본 문구로 대체됩니다"
    flags = f"도구 {'켜짐' if config.tools else '꺼짐'} · 판정 {'켜짐' if config.judge else '꺼짐'}"
    return Check("llm", True, f"{config.backend} · {config.model} @ {where} — 왕복 {seconds:.1f}s · {flags}{note}",
                 details)


def check_sandbox(rt: Runtime) -> Check:
    try:
        from interviewer.sandbox import LAYER_NAMES, sandbox_layers
    except ImportError:
        return Check("sandbox", False, "샌드박스 모듈이 없습니다")
    layers = sandbox_layers()
    active = [name for name in LAYER_NAMES if layers.get(name)]
    missing = [name for name in LAYER_NAMES if not layers.get(name)]
    summary = "켜진 방어층: " + (", ".join(active) or "없음")
    if missing:
        summary += " · 꺼짐: " + ", ".join(missing)
    return Check("sandbox", bool(active), summary, {"layers": layers})


CHECKS: list[tuple[str, Callable[[Runtime], Check]]] = [
    ("bank", check_bank), ("keypoints", check_keypoints), ("index", check_index), ("embeddings", check_embeddings),
    ("model", check_model), ("llm", check_llm), ("sandbox", check_sandbox),
]
