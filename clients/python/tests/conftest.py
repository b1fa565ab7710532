"""A live server for the tests: `./jointspace serve` from the repository root, on a free port,
with its own PostgreSQL under a temporary folder; stopped with SIGTERM at the end.

Set JOINTSPACE_TEST_ADDRESS (host:port) to test against a server already running instead.
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest

from jointspace import Client, JointspaceError

REPO_ROOT = Path(__file__).resolve().parents[3]
SAMPLES = REPO_ROOT / "docs" / "samples"
START_TIMEOUT_S = 240
STOP_TIMEOUT_S = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_ready(address: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    with Client(address, timeout=2.0, retry_attempts=1) as client:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.fail(f"the server exited with {server.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if client.server_ready():
                    return
            except JointspaceError:
                pass
            time.sleep(0.5)
    pytest.fail(f"the server was not ready within {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """host:port of a ready server."""
    if os.environ.get("JOINTSPACE_TEST_ADDRESS"):
        yield os.environ["JOINTSPACE_TEST_ADDRESS"]
        return
    folder = tmp_path_factory.mktemp("server")
    address = f"127.0.0.1:{_free_port()}"
    log = folder / "serve.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [str(REPO_ROOT / "jointspace"), "serve", "--grpc-port", address.rsplit(":", 1)[1],
             "--http-port", "-1", "--data-dir", str(folder / "pg")],
            cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    try:
        _wait_until_ready(address, server, log)
        yield address
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
            pytest.fail(f"the server did not stop within {STOP_TIMEOUT_S} s of SIGTERM")
    assert server.returncode == 0, f"the server exited with {server.returncode}:\n{log.read_text()[-3000:]}"


@pytest.fixture(scope="session")
def client(address: str) -> Iterator[Client]:
    with Client(address, timeout=60.0) as client:
        yield client


_names = itertools.count()


@pytest.fixture
def collection_name(client: Client) -> Iterator[str]:
    """A fresh collection name; the collection, if the test made one, is dropped after it."""
    name = f"pytest_{os.getpid()}_{next(_names)}"
    yield name
    try:
        client.delete_collection(name)
    except JointspaceError:
        pass
