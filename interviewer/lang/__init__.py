"""The language: normalisation and the glossary (`text`), every word list (`words`) and pattern
(`patterns`) the grader and the bank read, and what the wording needs of the bank's text (`phrasing`).
Imports nothing of the package but `core`."""
