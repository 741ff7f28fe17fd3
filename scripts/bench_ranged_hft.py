#!/usr/bin/env python3
"""hf_transfer on one file, for scripts/bench-ranged.sh: `hf_transfer.download` (the Rust
downloader huggingface_hub used with HF_HUB_ENABLE_HF_TRANSFER; huggingface_hub 2.x dropped
that switch, so it is called directly) of a resolve URL into a file.

Usage: bench_ranged_hft.py --url URL --out FILE [--max-files N] [--chunk-mib N]
Prints one JSON object on stdout: {"seconds": in-script time of the download, "bytes": the
file's size, "sha256": its digest (computed after the timing), "version": hf_transfer's}.
"""

import argparse
import hashlib
import json
import os
import sys
import time


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--max-files", type=int, default=8)
    p.add_argument("--chunk-mib", type=int, default=10)
    args = p.parse_args()

    import hf_transfer

    start = time.perf_counter()
    hf_transfer.download(
        url=args.url,
        filename=args.out,
        max_files=args.max_files,
        chunk_size=args.chunk_mib << 20,
        headers={},
    )
    seconds = time.perf_counter() - start
    digest = hashlib.sha256()
    with open(args.out, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    try:
        from importlib.metadata import version

        hft_version = version("hf_transfer")
    except Exception:  # noqa: BLE001 - the version is informative only
        hft_version = "?"
    print(json.dumps({
        "seconds": seconds,
        "bytes": os.path.getsize(args.out),
        "sha256": digest.hexdigest(),
        "version": hft_version,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
