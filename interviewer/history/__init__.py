"""What is kept of every interview: the `History` interface and SQLite (`sqlite`), PostgreSQL for
replicas (`postgres`), the one schema of both (`migrations`) and each learner's FSRS schedule per key
point (`progress`).

May import: core, bank.
"""
