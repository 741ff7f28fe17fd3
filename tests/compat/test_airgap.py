"""Air-gap export/import seen through the official huggingface_hub client (issue 19,
point 3): a skill repo made on the session's rskill-hub with huggingface_hub (several
commits, an LFS file, tags), `rskill export` of it, `rskill-hub import` into a second
data directory served by a second rskill-hub, then both Hubs compared repo by repo with
HfApi: refs, commit logs (ids, titles), file trees of every commit (paths, sizes, blob
ids, LFS SHA-256) and the bytes of every file.
"""

import hashlib
import os
import signal
import subprocess
from pathlib import Path

import pytest
from huggingface_hub import HfApi, hf_hub_download

from conftest import BIN, ROOT

RSKILL = Path(os.environ.get("RSKILL_BIN", BIN.parent / "rskill"))
REPO = "acme/rskill-airgap"


def describe(api: HfApi, cache: Path) -> dict:
    refs = api.list_repo_refs(REPO)
    heads = {b.name: b.target_commit for b in refs.branches}
    tags = {t.name: t.target_commit for t in refs.tags}
    commits = {}
    for rev in list(heads.values()) + list(tags.values()):
        for c in api.list_repo_commits(REPO, revision=rev):
            if c.commit_id in commits:
                continue
            files = {}
            for entry in api.list_repo_tree(REPO, revision=c.commit_id, recursive=True):
                if not hasattr(entry, "blob_id"):
                    continue  # a folder
                path = hf_hub_download(REPO, entry.path, revision=c.commit_id, cache_dir=cache)
                files[entry.path] = {
                    "size": entry.size,
                    "blob_id": entry.blob_id,
                    "lfs": entry.lfs.sha256 if entry.lfs else None,
                    "content": hashlib.sha256(Path(path).read_bytes()).hexdigest(),
                }
            commits[c.commit_id] = {"title": c.title, "files": files}
    info = api.model_info(REPO)
    return {"branches": heads, "tags": tags, "commits": commits, "sha": info.sha, "tags_of_card": info.tags}


@pytest.fixture(scope="module")
def airgap(hub, tmp_path_factory):
    if not RSKILL.exists():
        pytest.fail(f"rskill binary not found at {RSKILL}: run `cargo build --bin rskill` or set RSKILL_BIN")
    api = hub.api("alice")
    api.create_repo(REPO)
    folder = tmp_path_factory.mktemp("airgap-skill")
    (folder / "README.md").write_text("---\nlicense: mit\ntags:\n- rskill\n---\n# Air gap\n")
    (folder / "rskill.yaml").write_text("name: acme/rskill-airgap\nversion: 1.0.0\n")
    api.upload_folder(repo_id=REPO, folder_path=folder, commit_message="v1.0.0")
    api.create_tag(REPO, tag="v1.0.0")
    (folder / "model.safetensors").write_bytes(os.urandom(2 * 1024 * 1024 + 5))
    (folder / "rskill.yaml").write_text("name: acme/rskill-airgap\nversion: 1.1.0\n")
    api.upload_folder(repo_id=REPO, folder_path=folder, commit_message="v1.1.0 with weights")
    api.create_tag(REPO, tag="v1.1.0")
    api.upload_file(
        repo_id=REPO, path_or_fileobj=b'{"aliases": {}}\n', path_in_repo="notes/state.json", commit_message="state"
    )

    work = tmp_path_factory.mktemp("airgap")
    bundle = work / "bundle.tar"
    env = dict(os.environ, HF_TOKEN=hub.tokens["alice"], HF_HOME=str(work / "exporter"), NO_COLOR="1")
    subprocess.run([str(RSKILL), "export", REPO, "--out", str(bundle)], check=True, env=env, cwd=work)
    data = work / "data"
    subprocess.run([str(BIN), "import", str(bundle), "--data", str(data)], check=True, capture_output=True)
    proc = subprocess.Popen(
        [str(BIN), "serve", "--data", str(data), "--addr", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    first = proc.stdout.readline().strip()
    assert first.startswith("listening on "), first
    yield first.removeprefix("listening on "), work
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


def test_both_hubs_show_the_same_commits_files_and_tags(hub, airgap):
    url, work = airgap
    source = describe(HfApi(endpoint=hub.url, token=False), work / "cache-source")
    imported = describe(HfApi(endpoint=url, token=False), work / "cache-airgap")
    assert set(source["tags"]) == {"v1.0.0", "v1.1.0"}
    assert len(source["commits"]) >= 4
    assert any(f["lfs"] for c in source["commits"].values() for f in c["files"].values())
    assert imported == source
