"""The question bank: cards read from `knowledge/` and a team's own banks (`cards`), the automatic
key-point model of an uncurated keyword (`keypoints`), curation files (`curation`) and `curate`'s
draft (`drafts`, the one user of an LLM here).

May import: core, lang, llm.
"""
