"""Why an LLM reply was not used, and the one-line notice the chat shows for each kind."""

from __future__ import annotations

FAILURE_NOTICES = {
    "unreachable": "LLM 서버에 연결하지 못해 기본 문구로 진행합니다.",
    "timeout": "LLM 응답이 너무 늦어 기본 문구로 진행합니다.",
    "http": "LLM 서버가 오류를 돌려줘 기본 문구로 진행합니다.",
    "empty": "LLM이 빈 응답을 보내 기본 문구로 진행합니다.",
    "garbage": "LLM 응답을 쓸 수 없어 기본 문구로 진행합니다.",
    "language": "LLM 응답이 한국어가 아니어서 기본 문구로 진행합니다.",
    "leak": "LLM 꼬리 질문이 정답 키워드를 드러내 기본 질문으로 바꿨습니다.",
    "question": "LLM 꼬리 질문이 질문 형식이 아니어서 기본 질문으로 바꿨습니다.",
    "json": "LLM 판정이 올바른 JSON이 아니어서 기본 채점 결과를 유지합니다.",
    "evidence": "LLM 판정의 근거가 답변에 없는 문장이라 기본 채점 결과를 유지합니다.",
    "tools": "LLM 서버가 도구 호출을 지원하지 않아 도구 없이 진행합니다.",
    "tool_call": "LLM의 도구 호출이 올바르지 않아 실행하지 않았습니다.",
    "error": "LLM 호출 중 오류가 나 기본 문구로 진행합니다.",
}


class LLMFailure(Exception):
    """A reply we must not use; `kind` keys FAILURE_NOTICES."""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
