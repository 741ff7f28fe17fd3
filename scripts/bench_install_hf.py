#!/usr/bin/env python3
"""The conventional download, for scripts/bench-install.sh: `huggingface_hub.snapshot_download`
of a weights repo from a Hub-compatible server into a fresh cache.

Usage: bench_install_hf.py --endpoint URL --repo ORG/NAME --cache DIR
Prints one JSON object on stdout: {"seconds": in-script time of snapshot_download (imports
and interpreter start-up excluded, which favours this side), "bytes": bytes of the
snapshot, "peak_rss_kib": the process's peak resident set, "version": huggingface_hub's}.
"""

import argparse
import json
import os
import resource
import sys
import time


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--repo", required=True)
    p.add_argument("--cache", required=True)
    args = p.parse_args()

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    import huggingface_hub
    from huggingface_hub import snapshot_download

    start = time.perf_counter()
    path = snapshot_download(
        repo_id=args.repo,
        cache_dir=args.cache,
        endpoint=args.endpoint,
        token=False,
    )
    seconds = time.perf_counter() - start

    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))  # follows the blob links
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    try:
        import psutil

        rss_now_kib = psutil.Process().memory_info().rss // 1024
    except ImportError:
        rss_now_kib = None
    json.dump(
        {
            "seconds": seconds,
            "bytes": total,
            "peak_rss_kib": peak_kib,
            "rss_end_kib": rss_now_kib,
            "version": huggingface_hub.__version__,
        },
        sys.stdout,
    )
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
