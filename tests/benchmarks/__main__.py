"""``make bench``: every benchmark, one table. Figures are only comparable within one run."""

from __future__ import annotations

import sys

from tests.benchmarks import bench_engine, bench_gui, bench_upload, bench_validation
from tests.benchmarks.report import print_table


def main() -> int:
    rows = [
        *bench_validation.run(),
        *bench_upload.run(),
        *bench_engine.run(),
        *bench_gui.run(),
    ]
    print()
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
