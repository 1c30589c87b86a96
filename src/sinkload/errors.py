"""The one exception type for problems a user can cause (bad files, bad options, missing services)."""


class SinkloadError(Exception):
    """A user-facing error: its message is one line that names the file or thing and the problem."""


def shown(name: object) -> str:
    """A file or unit name as one line of plain text: control characters (a newline in a file name) escaped as
    Python writes them (`\\n`), everything else verbatim."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in str(name))


def file_error(path: object, problem: str) -> SinkloadError:
    """Build the standard `<file>: <problem>` error."""
    return SinkloadError(f"{shown(path)}: {problem}")


def unexpected_error(path: object, what: str, exc: BaseException) -> SinkloadError:
    """An exception no check foresaw (a library's error on a file's content) as the file's one-line error:
    `<file>: <what> (<type>: <its first line>)`. The type stays in the message, so that a bug is not taken for
    a bad file."""
    lines = str(exc).strip().splitlines()
    return file_error(path, f"{what} ({type(exc).__name__}{': ' + lines[0] if lines else ''})")
