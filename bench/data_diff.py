"""Data diff cost: 1 million candidate rows against 1 million published rows, on a string key.

Generates, deterministically, a published sales table (``sale_id`` "S0000001".., ``customer_id``,
``product_id``, ``amount`` double, ``status``, ``sale_ts`` timestamp, ``sale_date`` and
``processed_date`` dates) and a candidate from it: 1% of the rows with a changed amount, 0.1% removed,
0.1% added, in shuffled order. Both are written as Parquet to a temporary folder; then, alternating
in one process (best of ``--repetitions``):

- the baseline: reading both files + a plain pyarrow full outer join on the key;
- the diff: reading both files + ``diff_tables`` on the key (the diff's counts are checked).

Target: the diff within 2x of the baseline. Wall times; CPU times (all threads) are printed too, as
they are less disturbed by other load. Memory is measured for each variant in a fresh child process,
after reading the tables: the peak RSS growth (``VmHWM`` reset through ``/proc/self/clear_refs``)
and the peak of pyarrow's allocations (the variant runs on a pool of its own). In one process the
allocator would keep what the previous variant freed and hide the next one's peak.

    .venv/bin/python -m bench.data_diff [--rows 1000000] [--repetitions 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import dev  # noqa: F401 - puts plugins/ on sys.path
from glue_cicd.data_diff import diff_tables

KEY = "sale_id"
STATUSES = np.array(["completed", "pending", "refunded", "cancelled"])


def sales(numbers: np.ndarray, rng: np.random.Generator) -> pa.Table:
    def ids(prefix: str, values: np.ndarray, width: int) -> pa.Array:
        return pc.binary_join_element_wise(prefix, pc.utf8_lpad(pc.cast(pa.array(values), pa.string()), width, "0"), "")

    n = len(numbers)
    sale_date = np.datetime64("2026-01-01") + rng.integers(0, 365, n).astype("timedelta64[D]")
    sale_ts = sale_date.astype("datetime64[us]") + rng.integers(0, 86_400_000_000, n).astype("timedelta64[us]")
    return pa.table(
        {
            KEY: ids("S", numbers, 7),
            "customer_id": ids("C", rng.integers(0, 50_000, n), 5),
            "product_id": ids("P", rng.integers(0, 2_000, n), 4),
            "amount": np.round(rng.uniform(1, 500, n), 2),
            "status": STATUSES[rng.integers(0, len(STATUSES), n)],
            "sale_ts": pa.array(sale_ts, pa.timestamp("us")),
            "sale_date": pa.array(sale_date, pa.date32()),
            "processed_date": pa.array(sale_date + rng.integers(0, 3, n).astype("timedelta64[D]"), pa.date32()),
        }
    )


def generate(rows: int, folder: Path) -> dict[str, int]:
    """Write published.parquet and candidate.parquet; return the differences the diff must find."""
    rng = np.random.default_rng(20260101)
    published = sales(np.arange(1, rows + 1), rng)
    kept = np.ones(rows, dtype=bool)
    kept[rng.choice(rows, rows // 1000, replace=False)] = False
    candidate = published.filter(pa.array(kept))
    amount = candidate["amount"].to_numpy().copy()
    amount[rng.choice(len(amount), rows // 100, replace=False)] += 1.5
    candidate = candidate.set_column(candidate.schema.get_field_index("amount"), "amount", pa.array(amount))
    candidate = pa.concat_tables([candidate, sales(np.arange(rows + 1, rows + 1 + rows // 1000), rng)])
    candidate = candidate.take(pa.array(rng.permutation(len(candidate))))
    pq.write_table(published, folder / "published.parquet")
    pq.write_table(candidate, folder / "candidate.parquet")
    return {"added": rows // 1000, "removed": rows // 1000, "changed": rows // 100}


def read(folder: Path) -> tuple[pa.Table, pa.Table]:
    return pq.read_table(folder / "candidate.parquet"), pq.read_table(folder / "published.parquet")


def join(candidate: pa.Table, published: pa.Table) -> pa.Table:
    return candidate.join(published, keys=KEY, join_type="full outer", left_suffix="_c", right_suffix="_p")


def diff(candidate: pa.Table, published: pa.Table) -> dict:
    return diff_tables(candidate, published, key=[KEY], dataset="sales")


VARIANTS = {"read + full outer join (baseline)": join, "read + diff_tables": diff}
BY_NAME = {variant.__name__: variant for variant in VARIANTS.values()}


def timed(variant, folder: Path) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = variant(*read(folder))
    return time.perf_counter() - wall, time.process_time() - cpu, result


def status(field: str) -> int:
    """A ``/proc/self/status`` memory figure, in bytes."""
    line = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith(field + ":"))
    return int(line.split()[1]) * 1024


def memory(name: str, folder: Path) -> None:
    """In a child process: the variant's peak RSS growth and peak pyarrow allocations, as JSON."""
    pa.set_memory_pool(pa.system_memory_pool())  # the tables live here; the variant gets a pool of its own
    tables = read(folder)
    pool = pa.mimalloc_memory_pool()
    pa.set_memory_pool(pool)
    before, pool_before = status("VmRSS"), pool.max_memory()
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    BY_NAME[name](*tables)
    print(json.dumps({"rss": status("VmHWM") - before, "arrow": pool.max_memory() - pool_before}))


def measure_memory(function, folder: Path) -> dict[str, int]:
    argv = [sys.executable, "-m", "bench.data_diff", "--memory-of", function.__name__, "--folder", str(folder)]
    result = subprocess.run(argv, cwd=Path(__file__).parents[1], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--memory-of", choices=sorted(BY_NAME), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_of:
        return memory(args.memory_of, args.folder)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.monotonic()
        expected = generate(args.rows, folder)
        size = sum(p.stat().st_size for p in folder.glob("*.parquet")) / 2**20
        print(f"{args.rows:,} published rows, candidate {expected}: {size:.1f} MiB of Parquet")
        print(f"generated in {time.monotonic() - started:.1f} s; pyarrow {pa.__version__}, {pa.cpu_count()} CPUs")
        runs = {name: [] for name in VARIANTS}
        for _ in range(args.repetitions):
            for name, variant in VARIANTS.items():
                wall, cpu, result = timed(variant, folder)
                runs[name].append((wall, cpu))
        found = {k: result["keys"][k] for k in expected}
        if found != expected:
            raise SystemExit(f"diff_tables found {found}, expected {expected}")
        memories = {name: measure_memory(variant, folder) for name, variant in VARIANTS.items()}
    header = ("variant", "wall best", "CPU best", "wall runs", "peak RSS +", "peak arrow")
    print(f"\n{header[0]:34} {header[1]:>9} {header[2]:>9}  {header[3]:20} {header[4]:>10} {header[5]:>10}")
    best = {}
    for name, measured in runs.items():
        best[name] = wall, cpu = min(w for w, _ in measured), min(c for _, c in measured)
        walls = "[" + ", ".join(f"{w:.2f}" for w, _ in measured) + "]"
        rss, arrow = (memories[name][k] / 2**20 for k in ("rss", "arrow"))
        print(f"{name:34} {wall:8.2f}s {cpu:8.2f}s  {walls:20} {rss:6.0f} MiB {arrow:6.0f} MiB")
    (join_wall, join_cpu), (diff_wall, diff_cpu) = best.values()
    print(f"\ndiff / baseline: {diff_wall / join_wall:.2f}x wall, {diff_cpu / join_cpu:.2f}x CPU  (target <= 2x wall)")


if __name__ == "__main__":
    main()
