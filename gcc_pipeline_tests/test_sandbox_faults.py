"""Fault injection seen by raw HTTP clients, the admin endpoint, and the command line."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests

from gcc_pipeline.sandbox import Company, CompanyConfig, FaultConfig, SandboxServer

KEY = "fault-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    co = Company(CompanyConfig(jobs=300, seed=1, anchor=datetime(2026, 11, 1, tzinfo=UTC)))
    with SandboxServer(co, api_key=KEY) as sb:
        yield sb


def _raw_get(sb: SandboxServer, path: str) -> str:
    """One request on a fresh connection; the outcome's kind as a short label."""
    conn = http.client.HTTPConnection(sb.host, sb.port, timeout=10)
    try:
        conn.request("GET", path, headers=AUTH)
        resp = conn.getresponse()
        try:
            body = resp.read()
        except http.client.IncompleteRead:
            return "truncated"
        if resp.status == 429:
            assert resp.getheader("Retry-After") == "0"
        if resp.status == 200:
            json.loads(body)
        return str(resp.status)
    except (http.client.RemoteDisconnected, ConnectionError):
        return "dropped"
    finally:
        conn.close()


def test_fault_config_parsing():
    f = FaultConfig.parse("429=0.05,500=0.02,503=0.02,slow=0.01,truncated=0.02,drop=0.02")
    assert (f.rate_429, f.rate_500, f.rate_503) == (0.05, 0.02, 0.02)
    assert (f.rate_slow, f.rate_truncated, f.rate_drop) == (0.01, 0.02, 0.02)
    u = FaultConfig.uniform(0.3)
    assert abs(u.total - 0.3) < 1e-9 and u.rate_drop == pytest.approx(0.05)
    for bad in ("429", "teapot=0.1", "500=2"):
        with pytest.raises(ValueError):
            FaultConfig.parse(bad)
    assert FaultConfig.parse("").total == 0


def test_uniform_faults_reach_raw_clients(server):
    server.faults = FaultConfig.uniform(0.3, retry_after=0, slow_seconds=0.05, seed=3)
    try:
        seen = Counter(_raw_get(server, "/api1/jobs?size=20") for _ in range(300))
    finally:
        server.faults = FaultConfig()
    assert {"200", "429", "500", "503", "truncated", "dropped"} <= set(seen), seen
    assert 0.15 < 1 - seen["200"] / 300 < 0.35, seen  # slow answers still succeed
    # admin paths are never faulted, and faults off means clean answers
    assert _raw_get(server, "/api1/jobs?size=1") == "200"


def test_faults_admin_endpoint(server):
    url = f"{server.url}/sandbox/faults"
    r = requests.post(url, json={"rate_500": 1.0}, headers=AUTH, timeout=10)
    assert r.status_code == 200 and r.json()["rate_500"] == 1.0
    try:
        assert requests.get(f"{server.base_url}/jobs", headers=AUTH, timeout=10).status_code == 500
        state = requests.get(f"{server.url}/sandbox/state", headers=AUTH, timeout=10)
        assert state.status_code == 200 and state.json()["faults"]["rate_500"] == 1.0
    finally:
        r = requests.post(url, json={}, headers=AUTH, timeout=10)
    assert r.json()["rate_500"] == 0.0
    assert requests.post(url, json={"rate_500": 3}, headers=AUTH, timeout=10).status_code == 400
    assert requests.post(url, json={"rate_500": 0.1}, timeout=10).status_code == 401


def test_command_line_prints_env_lines():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gcc_pipeline.sandbox",
            "--jobs",
            "50",
            "--port",
            "0",
            "--key",
            "cli-key",
            "--anchor",
            "2026-11-01",
            "--faults",
            "429=0.0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().strip() for _ in range(2)]
        url = lines[0].removeprefix("export ").split("=", 1)
        key = lines[1].removeprefix("export ").split("=", 1)
        assert url[0] == "JOBNIMBUS_BASE_URL" and url[1].startswith("http://127.0.0.1:")
        assert key == ["JOBNIMBUS_API_KEY", "cli-key"]
        r = requests.get(
            f"{url[1]}/jobs?size=1", headers={"Authorization": "Bearer cli-key"}, timeout=10
        )
        assert r.status_code == 200 and r.json()["count"] == 50
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # a loaded machine: the output is what is tested
            proc.kill()
            proc.wait()
