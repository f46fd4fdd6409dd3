"""The interview: the engine, one handler per event, each returning a typed step (`engine`, `steps`);
which questions it asks (`planning`); what the candidate types (`commands`); how the interviewer words
things (`voice`, and `llm_voice` with an LLM); and the rules both shells share (`sessions`).

May import: core, lang, bank, grading, history, reports, llm, sandbox, settings.
"""
