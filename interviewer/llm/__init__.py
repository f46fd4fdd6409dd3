"""LLM mode: OpenAI or any OpenAI-compatible server (Ollama, llama.cpp, vLLM, LM Studio).

The LLM only ever adds wording (question transitions, probes, feedback prose) and, with
`--llm-judge`, a second opinion on key points the grader is unsure about (`interviewer.grading.judging`).
Every reply is validated in code before it is used; a reply that fails is counted, announced with
a one-line notice, and the deterministic template or verdict is used instead. Nothing here touches
the network until a method is called.

One module per concern; the names below are the public surface:
- `config`: `LLMConfig` (backend, model, URL, timeouts, from `Settings`) and `BACKENDS`;
- `chat_model`: `build_chat_model(config)`, LangChain's ChatOpenAI, bounded and offline to build;
- `prompts`: the prompt files (`load_prompt`, `render`, `PROMPT_ROLES`);
- `checks`: what a reply must be before it is used (`check_prose`, `parse_judgement`, ...);
- `failures`: `LLMFailure` and the notice each failure kind shows;
- `calls`: which interview a call is counted for (`VoiceStats`, `counting`) and where its draft shows;
- `client`: `LLMClient`, the one place that talks to the model (streaming, deadline, counting);
- `tools`: the numpy sandbox as a tool.
The interviewer's wording from an LLM (`LLMVoice`) is the interview's: `interview.llm_voice`.
May import: core, lang, sandbox, settings.
"""

from interviewer.llm.chat_model import build_chat_model
from interviewer.llm.checks import check_prose, hangul_share, literal_span, parse_judgement, revealing_terms
from interviewer.llm.client import LLMClient
from interviewer.llm.config import BACKENDS, LLMConfig
from interviewer.llm.failures import FAILURE_NOTICES, LLMFailure
from interviewer.llm.prompts import PROMPT_ROLES, answer_context, load_prompt, render

__all__ = ["BACKENDS", "FAILURE_NOTICES", "PROMPT_ROLES", "LLMClient", "LLMConfig", "LLMFailure",
           "answer_context", "build_chat_model", "check_prose", "hangul_share", "literal_span",
           "load_prompt", "parse_judgement", "render", "revealing_terms"]
