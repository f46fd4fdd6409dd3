"""What a candidate reads afterwards: the session report as Markdown, JSON and HTML (`report`,
`templates/`), Anki and CSV exports (`export`), charts (`charts`) and the Markdown pieces every writer
of chat text shares (`markdown`).

May import: core, lang, bank, history.
"""
