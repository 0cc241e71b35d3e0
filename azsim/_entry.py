"""The `azsim` console command: loads the command line, taking Ctrl-C from the first instant.

Importing the command line pulls in pydantic, NumPy and friends (a few hundred milliseconds); a
Ctrl-C in that time would otherwise end in Python's own KeyboardInterrupt traceback.
"""

from __future__ import annotations

import sys

EXIT_INTERRUPTED = 130


def main() -> int:
    try:
        from .cli import main as cli_main
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return cli_main()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
