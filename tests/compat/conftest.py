"""Fixtures of the huggingface_hub compatibility suite.

The real `rskill-hub` binary (path from RSKILL_HUB_BIN, default target/debug/rskill-hub)
is started on 127.0.0.1 port 0 with a temporary data directory before the test modules
are collected, so that huggingface_hub reads HF_ENDPOINT, HF_HOME and the rest from the
environment set here. A socket guard fails any connection to an address other than the
loopback one: the suite must never leave the machine.
"""

import ipaddress
import os
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("RSKILL_HUB_BIN", ROOT / "target" / "debug" / "rskill-hub"))

_state = {}


def _is_loopback(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guard_sockets() -> None:
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(address):
        if isinstance(address, tuple) and not _is_loopback(address[0]):
            raise ConnectionRefusedError(f"compat suite: refusing to contact {address[0]} (loopback only)")

    def connect(self, address):
        check(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        check(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host is not None and not _is_loopback(host):
            raise socket.gaierror(f"compat suite: refusing to resolve {host} (loopback only)")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.getaddrinfo = getaddrinfo


def _token(data: Path, user: str, orgs: list, write: bool, manage: bool = False) -> str:
    cmd = [str(BIN), "token", "create", "--data", str(data), "--user", user]
    for org in orgs:
        cmd += ["--org", org]
    if write:
        cmd.append("--write")
    if manage:
        cmd.append("--manage")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    lines = out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("hf_"), out
    return lines[0]


def pytest_sessionstart(session):
    if not BIN.exists():
        raise pytest.UsageError(f"rskill-hub binary not found at {BIN}: run `cargo build --bin rskill-hub` or set RSKILL_HUB_BIN")
    work = Path(tempfile.mkdtemp(prefix="rskill-hub-compat-"))
    data = work / "data"
    tokens = {
        "alice": _token(data, "alice", ["acme"], True),
        "bob": _token(data, "bob", ["acme"], False),
        "carol": _token(data, "carol", ["other"], True),
        # The manage right: release tags, governed repos, rskill.registry.json.
        "maria": _token(data, "maria", ["acme"], True, manage=True),
    }
    log = open(work / "server.log", "w")
    # RSKILL_COMPAT_SERVE_ARGS adds serve options, e.g. `--blobs s3://bucket/prefix` with
    # the AWS_* variables set (tests/compat/run-s3.sh runs the suite that way).
    extra = os.environ.get("RSKILL_COMPAT_SERVE_ARGS", "").split()
    proc = subprocess.Popen(
        [str(BIN), "serve", "--data", str(data), "--addr", "127.0.0.1:0", *extra],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    first = proc.stdout.readline().strip()
    assert first.startswith("listening on http://127.0.0.1:"), first
    url = first.removeprefix("listening on ")
    os.environ.update(
        {
            "HF_ENDPOINT": url,
            "HF_HOME": str(work / "hf_home"),
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_ENABLE_HF_TRANSFER": "0",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
            # The server speaks the Git LFS basic transfer, not Xet.
            "HF_HUB_DISABLE_XET": "1",
        }
    )
    os.environ.pop("HF_TOKEN", None)
    _guard_sockets()
    _state.update(proc=proc, url=url, tokens=tokens, work=work, data=data)


def pytest_sessionfinish(session, exitstatus):
    proc = _state.get("proc")
    if proc is None:
        return
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=30)
    if code != 0 and session.exitstatus == 0:
        session.exitstatus = 1
        log = (_state["work"] / "server.log").read_text()
        print(f"rskill-hub exited with {code} on SIGTERM:\n{log}")


class Hub:
    """The running server: its URL, data directory and tokens."""

    def __init__(self):
        self.url = _state["url"]
        self.data = _state["data"]
        self.hf_home = _state["work"] / "hf_home"
        self.tokens = _state["tokens"]

    def api(self, user=None):
        from huggingface_hub import HfApi

        return HfApi(endpoint=self.url, token=self.tokens[user] if user else False)


@pytest.fixture(scope="session")
def hub() -> Hub:
    return Hub()
