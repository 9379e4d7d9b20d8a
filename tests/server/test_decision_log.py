"""Decision logs of `warden serve`: one JSON line per decision, security rejections
included, with the peer address, written off the request path; all written by the time
the server has drained."""
import json
import os
import time

from conftest import metric


def test_every_decision_is_one_json_line_with_the_peer(make_server, signer, tmp_path):
    log = str(tmp_path / "decisions.jsonl")
    s = make_server('log = { decisions = %r, queue = 1024, when_full = "block" },' % log)
    s.post("/v1/decide", signer.signed("alice"))
    s.post("/v1/decide", signer.signed("mallory"))
    s.post("/ext/authz", b"not xml")
    assert s.stop() == 0
    with open(log) as f:
        lines = [json.loads(line) for line in f]
    assert [(l["decision"], l["stage"], l["reason"]) for l in lines] == [
        ("allow", "policy", "permitted"), ("deny", "security", "cert-untrusted"), ("deny", "security", "malformed")]
    allowed = lines[0]
    assert allowed["action"] == "urn:example:orders/Create"
    assert allowed["operation"] == "{urn:example:orders}CreateOrder"
    assert allowed["message_id"].startswith("urn:uuid:")
    assert allowed["principal"]["cert_subject"] == "CN=alice,OU=Payments,O=Example"
    assert allowed["rules"] == ["alice may create orders"] and allowed["errors"] == []
    assert allowed["revision"].startswith("sha256:")
    assert isinstance(allowed["latency_us"], int)
    assert allowed["remote"].startswith("127.0.0.1:")
    assert allowed["time"].endswith("Z") and len(allowed["id"]) == 36
    assert lines[2].get("principal", {}) == {} and "detail" in lines[1]
    assert all(l["revision"] == allowed["revision"] for l in lines)
    assert len({l["id"] for l in lines}) == 3


def test_the_engine_does_not_write_the_lines_a_second_time(make_server, signer, tmp_path):
    log = str(tmp_path / "decisions.jsonl")
    s = make_server('log = { decisions = %r },' % log)
    s.post("/v1/decide", signer.signed("alice"))
    assert metric(s.metrics(), "warden_decision_log_dropped_total") == 0
    assert s.stop() == 0
    with open(log) as f:
        assert len(f.read().splitlines()) == 1


def writer_thread(pid):
    """The decision log writer's (policy, nice) from /proc: stat fields 19 (nice) and 41 (policy)."""
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
            if f.read().strip() != "warden-log":
                continue
        with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[38]), int(fields[16])  # fields after the name start at field 3
    raise AssertionError("no warden-log thread")


SCHED_IDLE = 5


def test_the_writer_never_preempts_a_worker_and_still_writes(make_server, signer, tmp_path):
    # "drop": the writer runs SCHED_IDLE (only on a CPU no worker wants); "block": nice 19, so a
    # busy machine cannot starve it while requests wait for room in the queue
    for when_full, expected in (("drop", SCHED_IDLE), ("block", 19)):
        log = str(tmp_path / ("%s.jsonl" % when_full))
        s = make_server('log = { decisions = %r, queue = 2, when_full = "%s" },' % (log, when_full), name=when_full)
        for _ in range(6):
            s.post("/v1/decide", signer.signed("alice"))
        policy, nice = writer_thread(s.proc.pid)
        assert (policy if when_full == "drop" else nice) == expected
        assert s.stop() == 0
        with open(log) as f:
            lines = f.read().splitlines()
        if when_full == "block":
            assert len(lines) == 6
        else:
            assert 1 <= len(lines) <= 6


def test_lines_reach_the_file_within_the_flush_interval_while_serving(make_server, signer, tmp_path):
    # the writer lets a batch gather for log.flush_ms, then writes it: the lines are in the
    # file while the server still runs, not only once it has drained
    log = str(tmp_path / "decisions.jsonl")
    s = make_server('log = { decisions = %r, flush_ms = 20 },' % log)
    for _ in range(3):
        s.post("/v1/decide", signer.signed("alice"))
    deadline = time.monotonic() + 30
    lines = []
    while time.monotonic() < deadline:
        with open(log) as f:
            lines = f.read().splitlines()
        if len(lines) == 3:
            break
        time.sleep(0.02)
    assert [json.loads(l)["decision"] for l in lines] == ["allow"] * 3
    assert s.stop() == 0


def test_lines_the_disk_refuses_are_counted_as_dropped_and_said_once(make_server, signer):
    # /dev/full fails every write with ENOSPC: the server keeps deciding, the lost lines are
    # counted, and the failure is said once, not per batch
    s = make_server('log = { decisions = "/dev/full", flush_ms = 0 },')
    for _ in range(4):
        assert s.post("/v1/decide", signer.signed("alice"))[0] == 200
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and metric(s.metrics(), "warden_decision_log_dropped_total") < 4:
        time.sleep(0.02)
    assert metric(s.metrics(), "warden_decision_log_dropped_total") == 4
    assert s.stop() == 0
    said = [l for l in s.output().splitlines() if "decision log: write failed" in l]
    assert len(said) == 1 and "No space left on device" in said[0]


def test_a_full_block_is_written_before_its_time_and_every_line_whole_and_in_order(make_server, signer, tmp_path):
    # flush_ms would hold the lines for a minute, but a batch ends once a 64 KiB block is full:
    # the first block's lines are in the file while the server runs. Written a page at a
    # time, lines cross block and write boundaries; after the drain every line is there once.
    log = str(tmp_path / "decisions.jsonl")
    s = make_server('log = { decisions = %r, flush_ms = 60000 },' % log)
    messages = [signer.signed("alice" if i % 3 else "mallory") for i in range(240)]
    conn = s.connection()
    try:
        for body in messages:
            conn.request("POST", "/v1/decide", body=body, headers={"Content-Type": "text/xml"})
            r = conn.getresponse()
            r.read()
    finally:
        conn.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and os.path.getsize(log) < 65536:
        time.sleep(0.02)
    assert s.proc.poll() is None
    with open(log, "rb") as f:
        written_while_serving = f.read()
    assert len(written_while_serving) >= 65536  # a block, a minute before flush_ms
    assert s.stop() == 0
    with open(log, "rb") as f:
        data = f.read()
    assert data.startswith(written_while_serving)
    assert len(data) > 65536 and data.endswith(b"\n")  # more than one block
    lines = [json.loads(l) for l in data.splitlines()]
    assert [l["decision"] for l in lines] == ["allow" if i % 3 else "deny" for i in range(240)]
    assert len({l["id"] for l in lines}) == 240
