"""The LangChain chat model behind `LLMClient`: built from an `LLMConfig`, without touching the network."""

from __future__ import annotations

from typing import TYPE_CHECKING

from interviewer.llm.config import LLMConfig

if TYPE_CHECKING:
    from langchain_openai import ChatOpenAI

CONNECT_TIMEOUT = 3.0   # a local server that is down refuses at once; a remote one should answer fast
MAX_TOKENS = 160        # replies are one to three sentences


def build_chat_model(config: LLMConfig) -> ChatOpenAI:
    """A LangChain ChatOpenAI; building it sends nothing over the network."""
    import openai
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    local = config.backend == "local"
    return ChatOpenAI(
        model=config.model,
        api_key=SecretStr(config.api_key),
        base_url=config.base_url,
        # The read timeout bounds the silence before the first chunk too: a CPU server reading a long
        # prompt is silent for a while, so it is the configured reply time, not a few seconds.
        # The client's own timeout type: its HTTP library is not ours to name (httpx2 since openai 3).
        timeout=openai.Timeout(config.timeout, connect=CONNECT_TIMEOUT),
        max_retries=1,
        streaming=True,
        temperature=0.3,
        max_completion_tokens=MAX_TOKENS,
        # Local servers speak chat completions, not the Responses API; some (llama-cpp-python)
        # only know the older `max_tokens` name, which langchain renames to max_completion_tokens.
        use_responses_api=False if local else None,
        extra_body={"max_tokens": MAX_TOKENS} if local else None,
    )
