"""interviewer: a mock-interview coach for deep-learning job interviews."""

from interviewer import offline

__version__ = "0.1.0"

offline.enforce()
