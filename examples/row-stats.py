"""Summarize the first `rows` rows of data.csv, which prepare-run-destroy.sh wrote.

`bilbo run` gives a .py file its parameters as environment variables:
`bilbo run NAME examples/row-stats.py -p rows=1000` sets rows=1000.
With DASK_SCHEDULER_ADDRESS set, the sum is computed on the cluster.
"""

import csv
import os
import statistics
import sys


def main() -> int:
    rows = int(os.environ.get("rows", "100"))
    if rows < 1:
        print(f"rows must be at least 1, not {rows}", file=sys.stderr)
        return 2
    try:
        with open("data.csv", newline="") as f:
            values = [float(row["value"]) for _, row in zip(range(rows), csv.DictReader(f))]
    except FileNotFoundError:
        print("no data.csv here: prepare it first (see prepare-run-destroy.sh)", file=sys.stderr)
        return 3
    if len(values) < rows:
        print(f"data.csv has {len(values)} rows, fewer than {rows}", file=sys.stderr)
        return 4

    address = os.environ.get("DASK_SCHEDULER_ADDRESS")
    if address:
        from distributed import Client

        with Client(address) as client:
            total = client.submit(sum, values).result()
    else:
        total = sum(values)
    print(f"rows {len(values)}")
    print(f"sum {total:.3f}")
    print(f"mean {statistics.fmean(values):.3f}")
    print(f"stdev {statistics.stdev(values):.3f}" if len(values) > 1 else "stdev -")
    return 0


if __name__ == "__main__":
    sys.exit(main())
