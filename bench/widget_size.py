"""Size of the web widget's script as a browser downloads it, against the 40 KB target (issue 4).

    .venv/bin/python bench/widget_size.py [--json FILE]

Prints the bytes of bot/channels/widget/static/widget.js uncompressed and gzip-compressed
(level 9, as a server would send it with Content-Encoding: gzip), and whether it is under target.
"""
from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WIDGET = ROOT / "bot" / "channels" / "widget" / "static" / "widget.js"
TARGET_BYTES = 40 * 1024


def measure(path: Path = WIDGET) -> dict[str, int | bool]:
    raw = path.read_bytes()
    return {"bytes": len(raw), "gzip_bytes": len(gzip.compress(raw, compresslevel=9)),
            "target_bytes": TARGET_BYTES, "under_target": len(raw) < TARGET_BYTES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    figures = measure()
    print(f"widget.js: {figures['bytes']} bytes ({figures['bytes'] / 1024:.1f} KB) uncompressed, "
          f"{figures['gzip_bytes']} bytes ({figures['gzip_bytes'] / 1024:.1f} KB) gzip")
    print(f"target: under {TARGET_BYTES} bytes (40 KB) uncompressed: {'met' if figures['under_target'] else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
