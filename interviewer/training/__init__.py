"""Training-time code for the grading model: needs torch and a C compiler, never imported by the app."""
