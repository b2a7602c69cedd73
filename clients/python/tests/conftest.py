"""A real Herald for the tests: `herald up --with-mocks` started once per session, with a tenant,
its API key and the mock FCM credential."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from herald_client import Client

REPO = Path(__file__).resolve().parents[3]
START_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0


def herald_binary() -> Path:
    """`HERALD_BIN`, else the debug build in `$CARGO_TARGET_DIR` (default: the repository's target/)."""
    if os.environ.get("HERALD_BIN"):
        return Path(os.environ["HERALD_BIN"])
    return Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target") / "debug" / "herald"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class Herald:
    """A running Herald with one tenant."""

    endpoint: str
    admin_key: str
    api_key: str
    tenant_id: str
    data_dir: Path

    def client(self, **options: Any) -> Client:
        return Client(self.endpoint, api_key=self.api_key, **options)


@pytest.fixture(scope="session")
def herald(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Herald]:
    binary = herald_binary()
    if not binary.is_file():
        pytest.fail(
            f"no herald binary at {binary}: build it with `cargo build --bins --all-features` in {REPO} "
            "(or point HERALD_BIN at one)",
            pytrace=False,
        )
    root = tmp_path_factory.mktemp("herald")
    data_dir = root / "herald-data"
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("HERALD_DATABASE_URL", "HERALD_MASTER_KEY", "HERALD_ADMIN_KEY", "HERALD_API_KEY")
    }
    env.update(
        HERALD_DATA_DIR=str(data_dir),
        # Nothing listens there: `herald up` starts its own nats-server, its store in the data dir.
        NATS_URL=f"nats://127.0.0.1:{free_port()}",
        HERALD_METRICS_ADDR=f"127.0.0.1:{free_port()}",
    )
    command = [str(binary), "up", "--with-mocks", "--grpc-addr", f"127.0.0.1:{port}"]
    for mock in ("fcm", "hms", "apns", "push", "webhook"):
        command += [f"--mock-{mock}-port", str(free_port())]
    log_path = root / "up.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        started = time.monotonic()
        while not listening(port):
            if process.poll() is not None or time.monotonic() - started > START_TIMEOUT:
                log_text = log_path.read_text(errors="replace")
                pytest.fail(f"herald up did not start listening (exit {process.poll()}):\n{log_text}", pytrace=False)
            time.sleep(0.1)
        endpoint = f"127.0.0.1:{port}"
        admin_key = (data_dir / "admin.key").read_text().strip()
        with Client(endpoint, api_key=admin_key) as admin:
            tenant = admin.create_tenant(f"python-client-{uuid.uuid4().hex[:8]}")
            api_key = admin.create_api_key(tenant.tenant_id, "python client tests").key
        with Client(endpoint, api_key=api_key) as client:
            client.set_fcm_credential((data_dir / "mock-fcm-service-account.json").read_text())
        yield Herald(endpoint, admin_key, api_key, tenant.tenant_id, data_dir)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def client(herald: Herald) -> Iterator[Client]:
    with herald.client() as client:
        yield client


@pytest.fixture
def user_id() -> str:
    """A user of its own for each test."""
    return f"user-{uuid.uuid4().hex[:12]}"
