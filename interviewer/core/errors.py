"""Errors that reach the user as one line and a non-zero exit status."""


class UserError(Exception):
    """Bad input from the user: printed as one line, exit status 2, no traceback."""

    exit_status = 2


class BankError(UserError):
    """A malformed question bank, located as `file:line: reason`."""

    def __init__(self, path: str, line: int, reason: str):
        self.path, self.line, self.reason = path, line, reason
        super().__init__(f"{path}:{line}: {reason}")
