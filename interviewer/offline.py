"""Switches that keep every dependency from reaching the network at run time.

Set before gradio, chromadb, huggingface or langchain are imported, because several of them read
these variables once at import time.

May import: nothing else of interviewer.
"""

import os

_OFFLINE_ENV = {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "DO_NOT_TRACK": "1",
    "LANGCHAIN_TRACING_V2": "false",
    "LANGSMITH_TRACING": "false",
    "TOKENIZERS_PARALLELISM": "false",
}


def enforce() -> None:
    for name, value in _OFFLINE_ENV.items():
        os.environ[name] = value
