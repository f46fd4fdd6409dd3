"""The two shells and what only they do: the command line (`cli`), the Gradio app (`app`), the one
place that words steps for the candidate (`presenter`) and `doctor`. Thin: every rule lives below.

May import: everything.
"""
