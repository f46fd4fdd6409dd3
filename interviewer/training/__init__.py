"""Training-time code for the grading model: needs torch and a C compiler, never imported by the app.

May import: core, lang, bank, grading, runtime, settings.
"""
