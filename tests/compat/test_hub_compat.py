"""The official `huggingface_hub` client against rskill-hub, unchanged.

Each test drives one part of the Hub surface the way a user would and asserts what comes
back: create_repo, upload_folder, list_models (filter / author / search), model_info,
hf_hub_download, snapshot_download, create_tag, list_repo_refs, update_repo_settings,
create_collection, add_collection_item, whoami, and the manage right over release tags
and governed repos (delete_tag, create_tag over a tag, delete_repo, create/delete_branch).
"""

import hashlib
import os
from pathlib import Path

import pytest
from huggingface_hub import CommitOperationAdd, constants, hf_hub_download, snapshot_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

REPO = "acme/py-skill"


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def card(*tags: str) -> bytes:
    return ("---\nlicense: mit\ntags:\n" + "".join(f"- {t}\n" for t in tags) + "---\n# A skill\n").encode()


README = card("rskill", "kind:vla", "embodiment:franka_panda")
WEIGHTS = os.urandom(3 * 1024 * 1024 + 17)


@pytest.fixture(scope="module")
def uploaded(hub, tmp_path_factory):
    """A repo made with create_repo + upload_folder; returns (commit info, folder)."""
    api = hub.api("alice")
    url = api.create_repo(REPO)
    assert url.repo_id == REPO
    assert url.endswith("/acme/py-skill")
    folder = tmp_path_factory.mktemp("skill")
    (folder / "README.md").write_bytes(README)
    (folder / "rskill.yaml").write_text("name: acme/py-skill\n")
    (folder / "eval").mkdir()
    (folder / "eval" / "libero.json").write_text('{"success": 0.91}\n')
    (folder / "model.safetensors").write_bytes(WEIGHTS)
    info = api.upload_folder(repo_id=REPO, folder_path=folder, commit_message="Upload skill")
    assert len(info.oid) == 40
    assert info.commit_url.startswith(f"{hub.url}/acme/py-skill/commit/")
    return info, folder


def test_whoami(hub):
    me = hub.api("alice").whoami()
    assert me["name"] == "alice"
    assert [o["name"] for o in me["orgs"]] == ["acme"]
    assert me["auth"]["accessToken"]["role"] == "write"
    assert hub.api("bob").whoami()["auth"]["accessToken"]["role"] == "read"
    from huggingface_hub import HfApi

    with pytest.raises(HfHubHTTPError) as bad:
        HfApi(endpoint=hub.url, token="hf_not_a_real_token").whoami()
    assert bad.value.response.status_code == 401


def test_create_repo_conflicts_and_rights(hub, uploaded):
    api = hub.api("alice")
    assert api.create_repo(REPO, exist_ok=True).repo_id == REPO
    with pytest.raises(HfHubHTTPError) as conflict:
        api.create_repo(REPO)
    assert conflict.value.response.status_code == 409
    with pytest.raises(HfHubHTTPError) as read_only:
        hub.api("bob").create_repo("acme/not-allowed")
    assert read_only.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError) as outsider:
        hub.api("carol").upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=REPO)
    assert outsider.value.response.status_code == 403


def test_upload_folder_and_model_info(hub, uploaded):
    commit, _ = uploaded
    info = hub.api("alice").model_info(REPO, files_metadata=True)
    assert info.sha == commit.oid
    assert info.tags == ["rskill", "kind:vla", "embodiment:franka_panda"]
    assert info.card_data["license"] == "mit"
    assert info.private is False
    files = {s.rfilename: s for s in info.siblings}
    assert sorted(files) == ["README.md", "eval/libero.json", "model.safetensors", "rskill.yaml"]
    assert files["README.md"].blob_id == git_blob_id(README)
    assert files["README.md"].lfs is None
    weights = files["model.safetensors"]
    assert weights.size == len(WEIGHTS)
    assert weights.lfs.sha256 == hashlib.sha256(WEIGHTS).hexdigest()
    assert weights.lfs.size == len(WEIGHTS)
    anonymous = hub.api().model_info(REPO)
    assert anonymous.sha == commit.oid and anonymous.author == "acme"


def test_list_models(hub, uploaded):
    api = hub.api()
    found = [m.id for m in api.list_models(filter=["rskill", "kind:vla"], author="acme", search="py-")]
    assert found == [REPO]
    assert [m.id for m in api.list_models(filter=["rskill", "kind:wam"])] == []
    assert [m.id for m in api.list_models(author="other")] == []
    [full] = list(api.list_models(search="PY-SKILL", full=True, cardData=True))
    assert sorted(s.rfilename for s in full.siblings) == ["README.md", "eval/libero.json", "model.safetensors", "rskill.yaml"]
    assert full.card_data["tags"] == ["rskill", "kind:vla", "embodiment:franka_panda"]
    assert full.sha == uploaded[0].oid


def test_hf_hub_download_into_the_cache(hub, uploaded):
    commit, _ = uploaded
    path = Path(hf_hub_download(REPO, "model.safetensors"))
    repo_cache = Path(constants.HF_HUB_CACHE) / "models--acme--py-skill"
    assert path == repo_cache / "snapshots" / commit.oid / "model.safetensors"
    assert path.read_bytes() == WEIGHTS
    assert path.resolve().name == hashlib.sha256(WEIGHTS).hexdigest()
    readme = Path(hf_hub_download(REPO, "README.md", token=hub.tokens["bob"]))
    assert readme.resolve().name == git_blob_id(README)
    assert (repo_cache / "refs" / "main").read_text().strip() == commit.oid
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(REPO, "missing.txt")
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(REPO, "README.md", revision="no-such-branch")
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("acme/no-such-repo", "README.md")


def test_snapshot_download(hub, uploaded, tmp_path):
    _, folder = uploaded
    snap = Path(snapshot_download(REPO))
    for rel in ["README.md", "rskill.yaml", "eval/libero.json", "model.safetensors"]:
        assert (snap / rel).read_bytes() == (folder / rel).read_bytes(), rel
    only = Path(snapshot_download(REPO, allow_patterns=["eval/*"], local_dir=tmp_path / "out"))
    assert sorted(str(p.relative_to(only)) for p in only.rglob("*") if p.is_file() and ".cache" not in p.parts) == [
        "eval/libero.json"
    ]


def test_create_tag_and_list_repo_refs(hub, uploaded):
    commit, _ = uploaded
    api = hub.api("alice")
    api.create_tag(REPO, tag="v1.0.0", tag_message="first release")
    with pytest.raises(HfHubHTTPError) as dup:
        api.create_tag(REPO, tag="v1.0.0")
    assert dup.value.response.status_code == 409
    api.create_tag(REPO, tag="v1.0.0", exist_ok=True)
    refs = api.list_repo_refs(REPO)
    assert [(b.name, b.ref) for b in refs.branches] == [("main", "refs/heads/main")]
    assert [(t.name, t.ref, t.target_commit) for t in refs.tags] == [("v1.0.0", "refs/tags/v1.0.0", commit.oid)]
    later = api.upload_file(path_or_fileobj=card("rskill", "v2"), path_in_repo="README.md", repo_id=REPO)
    assert later.oid != commit.oid
    old = Path(hf_hub_download(REPO, "README.md", revision="v1.0.0"))
    assert old.read_bytes() == README
    assert api.model_info(REPO, revision="v1.0.0").sha == commit.oid
    assert api.model_info(REPO).tags == ["rskill", "v2"]
    hub.api("maria").delete_tag(REPO, tag="v1.0.0")  # a release tag: the manage right
    assert api.list_repo_refs(REPO).tags == []


def test_update_repo_settings_private(hub, uploaded):
    alice, carol, anonymous = hub.api("alice"), hub.api("carol"), hub.api()
    alice.create_repo("acme/py-private")
    alice.upload_file(path_or_fileobj=card("rskill", "hidden"), path_in_repo="README.md", repo_id="acme/py-private")
    alice.update_repo_settings("acme/py-private", private=True)
    assert alice.model_info("acme/py-private").private is True
    assert hub.api("bob").model_info("acme/py-private").private is True
    for outsider in (carol, anonymous):
        with pytest.raises(RepositoryNotFoundError):
            outsider.model_info("acme/py-private")
        assert [m.id for m in outsider.list_models(filter="hidden")] == []
        assert outsider.repo_exists("acme/py-private") is False
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("acme/py-private", "README.md", token=hub.tokens["carol"])
    alice.update_repo_settings("acme/py-private", private=False)
    assert carol.model_info("acme/py-private").private is False
    assert [m.id for m in anonymous.list_models(filter="hidden")] == ["acme/py-private"]


def test_collections(hub, uploaded):
    api = hub.api("alice")
    collection = api.create_collection("Franka skills", namespace="acme", description="Pick and place")
    assert collection.slug.startswith("acme/franka-skills-")
    assert collection.title == "Franka skills" and collection.items == []
    again = api.create_collection("Franka skills", namespace="acme", exists_ok=True)
    assert again.slug == collection.slug
    updated = api.add_collection_item(collection.slug, item_id=REPO, item_type="model", note="the best one")
    assert [(i.item_id, i.item_type, i.note) for i in updated.items] == [(REPO, "model", "the best one")]
    api.add_collection_item(collection.slug, item_id=REPO, item_type="model", exists_ok=True)
    fetched = hub.api().get_collection(collection.slug)
    assert [i.item_id for i in fetched.items] == [REPO]
    assert fetched.description == "Pick and place"
    with pytest.raises(HfHubHTTPError) as refused:
        hub.api("carol").add_collection_item(collection.slug, item_id=REPO, item_type="model")
    assert refused.value.response.status_code == 403


def test_upload_file_over_10_mib_goes_through_lfs(hub, tmp_path):
    """upload_file of an LFS-sized file: preupload says `lfs`, the client calls the
    batch API and PUTs the file without the Hub token, the commit names the oid; then
    hf_hub_download (through the 302 presigned redirect on the object store backend)
    gives the same bytes."""
    api = hub.api("alice")
    repo = "acme/py-big"
    api.create_repo(repo)
    content = os.urandom(11 * 1024 * 1024 + 3)
    src = tmp_path / "big.json"
    src.write_bytes(content)
    info = api.upload_file(path_or_fileobj=str(src), path_in_repo="data/big.json", repo_id=repo)
    assert len(info.oid) == 40
    sha = hashlib.sha256(content).hexdigest()
    files = {f.path: f for f in api.list_repo_tree(repo, recursive=True) if hasattr(f, "lfs")}
    assert files["data/big.json"].lfs.sha256 == sha
    path = hf_hub_download(repo, "data/big.json", token=hub.tokens["alice"], cache_dir=tmp_path / "cache")
    assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == sha
    # The same content under another path: preupload says `lfs` (so the client used the
    # batch API, not an inline line) and the repo already has the blob.
    op = CommitOperationAdd(path_in_repo="copy.json", path_or_fileobj=content)
    api.create_commit(repo, operations=[op], commit_message="copy")
    assert op._upload_mode == "lfs"
    meta = api.get_paths_info(repo, ["copy.json"])[0]
    assert meta.lfs.sha256 == sha


def test_an_upload_with_xet_enabled_fails_fast_naming_the_fix(hub, tmp_path, monkeypatch):
    """huggingface_hub uploads through Xet whenever hf_xet is installed. Its first request (a
    Xet write token, sent by hf_xet) is answered 501 at once; hf_xet shows the status and the
    URL, and the answer's body (what `curl` or a log shows) names HF_HUB_DISABLE_XET=1."""
    import httpx2
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", False)
    api = hub.api("alice")
    repo = "acme/py-xet"
    api.create_repo(repo)
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(11 * 1024 * 1024))
    with pytest.raises(Exception) as err:
        api.upload_file(path_or_fileobj=str(src), path_in_repo="big.bin", repo_id=repo)
    assert "501" in str(err.value) and "xet-write-token" in str(err.value)
    answer = httpx2.get(f"{hub.url}/api/models/{repo}/xet-write-token/main")
    assert answer.status_code == 501
    assert "HF_HUB_DISABLE_XET=1" in answer.json()["error"]


def test_the_suite_cannot_leave_the_machine(hub):
    import socket

    with pytest.raises(OSError):
        socket.create_connection(("93.184.216.34", 443), timeout=1)
    with pytest.raises(OSError):
        socket.getaddrinfo("huggingface.co", 443)
    assert hub.url.startswith("http://127.0.0.1:")


def test_release_tags_and_governed_repos_need_the_manage_right(hub):
    """A write token cannot roll a release back: deleting or moving a `v…` tag and deleting
    a repo that holds rskill.registry.json are refused (403 ManageRightRequired, the hint
    visible to the user); the manage token may."""
    repo = "acme/py-release"
    alice, maria = hub.api("alice"), hub.api("maria")
    alice.create_repo(repo)
    first = alice.upload_file(path_or_fileobj=b"one", path_in_repo="notes.txt", repo_id=repo).oid
    maria.upload_file(path_or_fileobj=b"{}", path_in_repo="rskill.registry.json", repo_id=repo)
    second = alice.upload_file(path_or_fileobj=b"two", path_in_repo="notes.txt", repo_id=repo).oid
    alice.create_tag(repo, tag="v1.0.0", revision=first)  # a new release tag: a plain write
    history = [c.commit_id for c in alice.list_repo_commits(repo)]

    def refused(call):
        with pytest.raises(HfHubHTTPError) as err:
            call()
        assert err.value.response.status_code == 403
        assert err.value.response.headers["X-Error-Code"] == "ManageRightRequired"
        assert "manage right" in str(err.value) and "--manage" in str(err.value), str(err.value)

    refused(lambda: alice.delete_tag(repo, tag="v1.0.0"))
    refused(lambda: alice.create_tag(repo, tag="v1.0.0", revision=second, exist_ok=True))
    refused(lambda: alice.delete_repo(repo))
    tags = [(t.name, t.target_commit) for t in alice.list_repo_refs(repo).tags]
    assert tags == [("v1.0.0", first)]
    assert alice.repo_exists(repo)
    assert [c.commit_id for c in alice.list_repo_commits(repo)] == history
    # main is rewritten by no one: its branch cannot be re-created or deleted.
    alice.create_branch(repo, branch="main", revision=first, exist_ok=True)
    with pytest.raises(HfHubHTTPError):
        maria.delete_branch(repo, branch="main")
    assert [c.commit_id for c in alice.list_repo_commits(repo)] == history
    # The manage token moves the tag (delete, create) and deletes the repo.
    maria.delete_tag(repo, tag="v1.0.0")
    maria.create_tag(repo, tag="v1.0.0", revision=second)
    assert [t.target_commit for t in alice.list_repo_refs(repo).tags] == [second]
    maria.delete_repo(repo)
    assert not alice.repo_exists(repo)
