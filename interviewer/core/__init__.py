"""The vocabulary every other part speaks, as plain data: cards, key points and grades (`models`),
verdicts and their words, marks and ranks (`verdicts`), scores (`scores`), what the history keeps
(`records`), errors that reach a user (`errors`) and times as people read them (`clock`).

May import: nothing else of interviewer.
"""
