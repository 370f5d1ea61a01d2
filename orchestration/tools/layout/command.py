"""``fangtiao layout FILE...``: write a diagram layout into BPMN files, in place."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lxml import etree

from orchestration.tools.layout.document import add_layout


def main(argv: list[str] | None = None) -> int:
    """Lay out each BPMN file given on the command line, in place."""
    parser = argparse.ArgumentParser(
        prog="fangtiao layout", description="Write a diagram layout (BPMN DI) into BPMN files."
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    args = parser.parse_args(argv)
    status = 0
    for path in args.files:
        try:
            original = path.read_bytes()
            laid_out = add_layout(original)
        except (OSError, ValueError, etree.XMLSyntaxError) as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            status = 1
            continue
        if laid_out != original:
            path.write_bytes(laid_out)
    return status
