"""The languages the candidate writes in: Korean and English normalisation, the glossary and the
clause analysis' reading of a sentence (`text`), what the wording needs to know about the bank's text
(`phrasing`), and the word lists and patterns they use.

May import: core.
"""
