"""How `gcc` talks to its user: one line per message on stderr, prefixed, flushed at once."""

import sys


def say(message: str) -> None:
    print(f"gcc: {message}", file=sys.stderr, flush=True)
