"""Start the web chat: `python app.py [--host H] [--port P] [--share] [--corpus DIR] [--index DIR] [--model M]`.

The same as `rag serve`: this script only forwards its arguments, so the options, their
defaults (from `rag.config.Settings`: 127.0.0.1:7860, no share link), error messages and exit
codes are the CLI's. See docs/web.md.
"""
from __future__ import annotations

import sys
from pathlib import Path

# Runs from a checkout without `pip install -e .`: the package lives in src/.
sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from rag.cli import main as rag_main  # noqa: E402  (needs the path above)


def main(argv: list[str] | None = None) -> int:
    """`rag serve` with this script's arguments."""
    return rag_main(["serve", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
