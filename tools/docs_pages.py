"""The command line shared by the generated documentation pages (spec reference, law catalogue,
CLI reference): print the page, or ``--check PATH`` and exit 1 when the committed page is stale."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, List, Optional


def page_main(*, prog: str, description: str, regenerate: str, generate: Callable[[bool], str],
              argv: Optional[List[str]] = None, plugins_option: bool = True) -> int:
    """``generate(with_plugins)`` returns the page; the committed page documents the built-ins."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--check", metavar="PATH",
                        help="exit 1 if PATH differs from the generated page instead of printing it")
    if plugins_option:
        parser.add_argument("--with-plugins", action="store_true",
                            help="include installed entry-point plugins (the committed page "
                                 "documents the built-ins only)")
    args = parser.parse_args(argv)
    text = generate(bool(getattr(args, "with_plugins", False)))
    if args.check is None:
        sys.stdout.write(text)
        return 0
    path = Path(args.check)
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if current != text:
        why = "does not exist" if current is None else "is out of date"
        print(f"{path} {why}; regenerate it with: {regenerate}", file=sys.stderr)
        return 1
    print(f"{path} is up to date")
    return 0
