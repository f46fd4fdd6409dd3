"""Grading an answer: the clause analysis and the grade (`grader`), the grading model at run time
(`crossencoder`, `e5file`, `verdict_layer`, and its shipped files in `model/`), the LLM second opinion
(`judging`) and the grader's accuracy on a labelled set (`evaluation`).

May import: core, lang, bank, index, llm.
"""
