#!/usr/bin/env python3
"""The conventional way to search a Hub catalog of rSkills, for scripts/bench-search.sh.

What a script built on `huggingface_hub` does without rskill: list the author's models,
then for each repo, one after the other, download `rskill.yaml` with `hf_hub_download`,
parse it with `yaml.safe_load`, validate it against `schemas/rskill.schema.json`, and
filter on the parsed manifest (`--embodiment E` matches E and embodiment-agnostic `any`).

Usage: bench_search_conventional.py --author ORG --embodiment E --schema PATH [--cache DIR]
Prints the matching repo ids count on stdout and, on stderr, the seconds spent after
imports (`in-script`), so the caller can tell interpreter start-up from the work itself.
The Hub comes from HF_ENDPOINT; the cache from --cache (else HF_HUB_CACHE).
"""

import argparse
import json
import sys
import time


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--author", required=True)
    p.add_argument("--embodiment", required=True)
    p.add_argument("--schema", required=True)
    p.add_argument("--cache", default=None)
    args = p.parse_args()

    import jsonschema
    import yaml
    from huggingface_hub import HfApi, hf_hub_download
    from huggingface_hub.utils import EntryNotFoundError, HfHubHTTPError

    started = time.perf_counter()
    with open(args.schema, encoding="utf-8") as f:
        validator = jsonschema.Draft202012Validator(json.load(f))

    api = HfApi()
    matches = []
    skipped = 0
    for model in api.list_models(author=args.author):
        try:
            path = hf_hub_download(model.id, "rskill.yaml", cache_dir=args.cache)
        except (EntryNotFoundError, HfHubHTTPError):
            skipped += 1
            continue
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        if not validator.is_valid(doc):
            skipped += 1
            continue
        tags = doc.get("embodiment_tags") or []
        if args.embodiment in tags or "any" in tags:
            matches.append(model.id)
    elapsed = time.perf_counter() - started
    print(len(matches))
    print(f"in-script {elapsed:.4f} skipped {skipped}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
