"""The languages the candidate writes in: normalisation, the glossary and the clause analysis' reading
of a sentence (`text`), every word list (`words`) and pattern (`patterns`) the grader, the bank and the
commands read, each named for its one use, and what the wording needs of the bank's text (`phrasing`).

May import: core.
"""
