"""interviewer: a mock-interview coach for deep-learning job interviews.

The package is cut into sub-packages, one concern each (docs/architecture.md); `runtime` composes them.
Importing it has no side effects: the offline switches are set when a `Runtime` is built.
"""

__version__ = "0.1.0"
