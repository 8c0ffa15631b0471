"""Benchmark `rongxin synth`: determinism at 100,000 entities and throughput/memory at 1,000,000.

Baseline (measured in the same run): copying the produced package byte for byte (`cp -r`),
the I/O floor for writing that many bytes on this machine.

    .venv/bin/python benchmarks/bench_synth.py [--small 100000] [--large 1000000] [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path


def run_synth(n: int, seed: int, out: Path) -> tuple[float, int]:
    """Run the real CLI in a child process; returns (seconds, peak RSS in MiB)."""
    shutil.rmtree(out, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "rongxin.cli_main", "synth", "--enterprises", str(n),
         "--seed", str(seed), "--out", str(out), "--json"],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) // 1024


def digest(out: Path) -> str:
    return hashlib.sha256((out / "manifest.json").read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("var/bench"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    a, b = args.out / "small-a", args.out / "small-b"
    t_a, _ = run_synth(args.small, 7, a)
    t_b, _ = run_synth(args.small, 7, b)
    identical = subprocess.run(["diff", "-r", "-q", str(a), str(b)], check=False).returncode == 0
    shutil.rmtree(b)

    big = args.out / "large"
    seconds, peak_mib = run_synth(args.large, 7, big)
    manifest = json.loads((big / "manifest.json").read_text("utf-8"))
    rows = sum(f["rows"] for f in manifest["files"])
    size = sum(p.stat().st_size for p in big.rglob("*") if p.is_file())
    copy = args.out / "large-copy"
    shutil.rmtree(copy, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run(["cp", "-r", str(big), str(copy)], check=True)
    subprocess.run(["sync"], check=True)
    copy_seconds = time.perf_counter() - start
    shutil.rmtree(copy)

    result = {
        "small_entities": args.small,
        "small_seconds": [round(t_a, 1), round(t_b, 1)],
        "small_identical": identical,
        "small_manifest_sha256": digest(a),
        "large_entities": args.large,
        "large_seconds": round(seconds, 1),
        "large_rows": rows,
        "large_bytes": size,
        "rows_per_second": round(rows / seconds),
        "peak_rss_mib": peak_mib,
        "baseline_copy_seconds": round(copy_seconds, 1),
        "ratio_to_copy": round(seconds / copy_seconds, 1),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
