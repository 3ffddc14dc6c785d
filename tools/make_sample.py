"""Build the demo sample shipped in the package from ../shared/data (run once by maintainers).

Takes the last weekdays that both daily collections cover (cs.* and astro-ph/physics, which has
plenty of LaTeX), merges them per day and keeps the daily JSON lines format unchanged, so the
demo exercises the same importer users run on their own files.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "src" / "coolpapers" / "data" / "sample"
DAYS = ["2026-05-27", "2026-05-28", "2026-05-29", "2026-06-01", "2026-06-02", "2026-06-03",
        "2026-06-04", "2026-06-05"]  # fmt: skip


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for day in DAYS:
        lines: list[bytes] = []
        for coll in ("arxiv-daily", "arxiv-daily-astro-ph"):
            f = SHARED / coll / f"{day}.jsonl.gz"
            if f.exists():
                with gzip.open(f) as src:
                    lines.extend(src.read().splitlines(keepends=True))
        with gzip.open(OUT / f"{day}.jsonl.gz", "wb", compresslevel=9) as out:
            out.writelines(lines)
        print(day, len(lines), file=sys.stderr)


if __name__ == "__main__":
    main()
