"""bench/bench.py still measures every figure, for warden and ipykernel (about 20 s).

The bench asserts nothing about speed, and neither does this test: it runs the one command with
the smallest counts and checks that every figure came out for both kernels, that no figure failed
its own check of the output (every line, a PNG, the DataFrame's HTML, every byte), and that the
flood is cut where warden's output limit says, with ipykernel's flood arriving whole.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import harness

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import bench_table  # noqa: E402

FLOOD_MIB = 33  # just past warden's default 32 MiB output limit
SMALLEST = ["--launches", "1", "--round-trips", "10", "--rounds", "2", "--warmup", "1",
            "--output-reps", "1",
            "--throughput-mib", "1", "--flood-mib", str(FLOOD_MIB), "--plots", "1",
            "--restarts", "1", "--settle", "0.5"]
WARDEN_ONLY = {"restart_ms", "agent_request_ms", "agent_overhead_ms"}


@pytest.fixture(scope="module")
def bench_run():
    env = dict(os.environ, WARDEN_BIN=harness.warden_bin())
    proc = subprocess.run(
        [sys.executable, str(BENCH / "bench.py"), "--json", "--kernels", "warden,ipykernel"]
        + SMALLEST, capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.warden_only
@pytest.mark.parametrize("label", ["warden", "ipykernel"])
def test_every_figure_is_measured(bench_run, label):
    res = bench_run["results"][label]
    assert "error" not in res, res.get("error")
    wanted = [key for _title, key, _kind, _target in bench_table.ROWS
              if label == "warden" or key not in WARDEN_ONLY]
    missing = [key for key in wanted if res.get(key) is None]
    assert not missing, f"{label}: no figure for {missing}"
    assert res["rss_cells"] >= 100


@pytest.mark.warden_only
def test_the_flood_is_cut_at_wardens_output_limit_and_whole_in_ipykernel(bench_run):
    warden, ipykernel = bench_run["results"]["warden"], bench_run["results"]["ipykernel"]
    assert warden["flood_cut"] and warden["flood_bytes"] == 32 << 20
    assert not ipykernel["flood_cut"] and ipykernel["flood_bytes"] == FLOOD_MIB << 20


@pytest.mark.warden_only
def test_every_target_is_judged(bench_run):
    summary = bench_run["summary"]
    judged = [key for _title, key, _kind, target in bench_table.ROWS if target]
    assert [key for key in judged if summary[key]["met"] is None] == []


@pytest.mark.warden_only
def test_jupyter_clients_floor_is_measured(bench_run):
    """The launch with a kernel up before it: what bounds launch -> ready for any kernel."""
    summary = bench_run["summary"]
    res = bench_run["results"]["warden"]
    assert len(res["ready_floor_all_ms"]) == 1  # one round after the discarded one
    assert summary["ready_client_floor_ms"] == res["ready_floor_ms"] > 0
    assert summary["ready_client_cap"] is not None


def lean_client(*args, timeout=60):
    binary = Path(harness.warden_bin()).with_name("lean-client")
    return subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.warden_only
def test_the_lean_c_client_prints_one_round_trip_a_measured_cell(kernel):
    proc = lean_client(kernel.manager.connection_file, 2, 5, "%%python\n1+1")
    assert proc.returncode == 0, proc.stderr
    times = [float(line) for line in proc.stdout.split()]
    assert len(times) == 5 and all(t > 0 for t in times)
    # its cells ran in this kernel and are in its history: In[0], its seven, then this one
    assert kernel.run("%%python\nprint(In[-2].strip(), len(In))").stdout == "1+1 9\n"


@pytest.mark.warden_only
def test_the_lean_c_client_says_a_failed_cell_and_a_wrong_key(kernel, tmp_path):
    proc = lean_client(kernel.manager.connection_file, 0, 1, "%%python\n1/0")
    assert proc.returncode == 1
    assert "ZeroDivisionError" in proc.stderr and "the cell failed" in proc.stderr
    # signed with another key, its requests are dropped by the kernel: no reply, and after the
    # timeout given (2 s) a clear failure
    info = json.loads(Path(kernel.manager.connection_file).read_text())
    info["key"] = "not-" + info["key"]
    wrong = tmp_path / "wrong-key.json"
    wrong.write_text(json.dumps(info))
    proc = lean_client(wrong, 0, 1, "%%python\n1+1", 2)
    assert proc.returncode == 1 and "no kernel_info_reply and idle within 2 s" in proc.stderr


def test_the_lean_c_client_refuses_bad_arguments(tmp_path):
    assert lean_client().returncode == 2
    assert lean_client("x", "-1", "3").returncode == 2
    assert lean_client("x", "1", "3", "1+1", "0").returncode == 2
    missing = lean_client(tmp_path / "none.json", 0, 1)
    assert missing.returncode == 1 and "none.json" in missing.stderr
