"""The one exception type for problems a user can cause (bad files, bad options, missing services)."""


class SinkloadError(Exception):
    """A user-facing error: its message is one line that names the file or thing and the problem."""


def file_error(path: object, problem: str) -> SinkloadError:
    """Build the standard `<file>: <problem>` error."""
    return SinkloadError(f"{path}: {problem}")
