"""Where the commands print: user data (file, unit, member names) always as plain text, never as rich markup,
and tables that never cut a name when the output is not a terminal (cron mails, logs, pipes)."""

from __future__ import annotations

from rich.console import Console

# Off a terminal rich assumes 80 columns and folds or crops cells; a log line may be long instead.
WIDTH_OFF_TERMINAL = 4096


def console(stderr: bool = False) -> Console:
    """A console that does not parse markup in printed strings nor colour numbers in names; off a terminal
    it is WIDTH_OFF_TERMINAL columns wide."""
    out = Console(stderr=stderr, markup=False, highlight=False)
    if not out.is_terminal:
        out = Console(stderr=stderr, markup=False, highlight=False, width=WIDTH_OFF_TERMINAL)
    return out
