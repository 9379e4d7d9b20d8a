"""replay.backend = "redis": replicas sharing a Redis share the replay window; with Redis
gone, messages are rejected replay-unavailable (fail closed); a Redis that hangs is backed off
rather than waited for on every message. A real redis-server is started on loopback by the
test and stopped by PID."""
import os
import shutil
import socket
import subprocess
import threading
import time

import pytest

from conftest import decision, free_port


class Redis:
    def __init__(self, directory, unix_socket=None, port=None):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (Debian package redis-server; scripts/setup)",
                        pytrace=False)
        self.port = port or free_port()
        self.unix_socket = unix_socket
        extra = ["--unixsocket", unix_socket, "--unixsocketperm", "700"] if unix_socket else []
        self.proc = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no", "--dir", str(directory)] + extra,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    if unix_socket is None or os.path.exists(unix_socket):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise AssertionError("redis-server did not listen")

    def url(self):
        return "redis://127.0.0.1:%d/0" % self.port

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def redis(tmp_path):
    r = Redis(tmp_path)
    yield r
    r.stop()


def redis_config(redis, prefix="warden:test:"):
    return 'replay = { backend = "redis", url = %r, prefix = %r, timeout_ms = 1000 },' % (redis.url(), prefix)


def test_a_message_accepted_by_one_replica_is_a_replay_at_the_other(make_server, redis, signer):
    a = make_server(redis_config(redis), name="a")
    b = make_server(redis_config(redis), name="b")
    message = signer.signed("alice")
    status, _, body = a.post("/v1/decide", message)
    assert status == 200, body
    status, _, body = b.post("/v1/decide", message)
    assert status == 403
    assert decision(body)["reason"] == "replay"
    assert b.post("/v1/decide", signer.signed("alice"))[0] == 200  # a fresh one passes at b
    status, _, body = b.request("GET", "/v1/status")
    assert decision(body)["replay"]["backend"] == "redis"


def test_replicas_with_different_prefixes_do_not_share(make_server, redis, signer):
    a = make_server(redis_config(redis, "tenant-a:"), name="a")
    b = make_server(redis_config(redis, "tenant-b:"), name="b")
    message = signer.signed("alice")
    assert a.post("/v1/decide", message)[0] == 200
    assert b.post("/v1/decide", message)[0] == 200


def test_with_redis_gone_messages_are_rejected_replay_unavailable(make_server, redis, signer):
    s = make_server(redis_config(redis))
    assert s.post("/v1/decide", signer.signed("alice"))[0] == 200
    redis.stop()
    status, _, body = s.post("/v1/decide", signer.signed("alice"))
    d = decision(body)
    assert status == 403
    assert (d["stage"], d["reason"]) == ("security", "replay-unavailable")
    assert s.stop() == 0


def test_redis_back_again_is_used_again(make_server, redis, signer, tmp_path):
    s = make_server(redis_config(redis))
    redis.stop()
    assert decision(s.post("/v1/decide", signer.signed("alice"))[2])["reason"] == "replay-unavailable"
    # a new Redis on the same port: the next message reconnects
    port = redis.port
    redis.port = port
    redis.proc = subprocess.Popen([shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1",
                                   "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.05)
    assert s.post("/v1/decide", signer.signed("alice"))[0] == 200


def test_a_redis_that_does_not_answer_in_time_is_replay_unavailable(make_server, redis, signer):
    import signal
    s = make_server(redis_config(redis).replace("timeout_ms = 1000", "timeout_ms = 200"))
    assert s.post("/v1/decide", signer.signed("alice"))[0] == 200
    redis.proc.send_signal(signal.SIGSTOP)  # connected, but silent
    try:
        status, _, body = s.post("/v1/decide", signer.signed("alice"))
    finally:
        redis.proc.send_signal(signal.SIGCONT)
    assert status == 403
    assert decision(body)["reason"] == "replay-unavailable"
    assert s.post("/v1/decide", signer.signed("alice"))[0] == 200  # reconnected once it answers


def test_replicas_share_a_redis_through_its_unix_socket(make_server, signer, tmp_path):
    sock = str(tmp_path / "redis.sock")
    r = Redis(tmp_path, unix_socket=sock)
    try:
        config = 'replay = { backend = "redis", url = %r, prefix = "warden:unix:", timeout_ms = 1000 },' % (
            "unix://" + sock + "?db=3")
        a = make_server(config, name="a")
        b = make_server(config, name="b")
        message = signer.signed("alice")
        status, _, body = a.post("/v1/decide", message)
        assert status == 200, body
        status, _, body = b.post("/v1/decide", message)
        assert (status, decision(body)["reason"]) == (403, "replay")
        # the key went to database 3 through the socket, not to the TCP port's database 0
        cli = shutil.which("redis-cli")
        if cli:
            keys = subprocess.run([cli, "-s", sock, "-n", "3", "--scan", "--pattern", "warden:unix:*"],
                                  capture_output=True, text=True, timeout=60).stdout.split()
            assert len(keys) == 1
        r.stop()
        status, _, body = b.post("/v1/decide", signer.signed("alice"))
        assert (status, decision(body)["reason"]) == (403, "replay-unavailable")
    finally:
        r.stop()


class BlackHole:
    """A hung Redis: accepts TCP connections on loopback, counts them, never reads or answers."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.accepted = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping.is_set():
            try:
                self.accepted.append(self.listener.accept()[0])
            except socket.timeout:
                pass
        self.listener.setblocking(False)
        while True:  # the connections the kernel completed but not yet accepted count too
            try:
                self.accepted.append(self.listener.accept()[0])
            except OSError:
                break

    def stop(self):
        """Closes everything; returns how many connections were made to it."""
        if not self.stopping.is_set():
            self.stopping.set()
            self.thread.join(timeout=60)
            for c in self.accepted:
                c.close()
            self.listener.close()
        return len(self.accepted)


def test_a_hung_redis_is_backed_off_and_tried_again_later(make_server, signer, tmp_path):
    hole = BlackHole()
    try:
        # one worker, so that every message meets the same connection and back-off; a long
        # timeout makes the first back-off (never shorter) long enough for a loaded machine
        s = make_server('serve = { threads = 1 }, replay = { backend = "redis", url = "redis://127.0.0.1:%d/0", '
                        'prefix = "warden:hung:", timeout_ms = 2000 },' % hole.port)
        messages = [signer.signed("alice") for _ in range(10)]  # signed first, then sent back to back
        answers = [s.post("/v1/decide", m) for m in messages]
        for status, _, body in answers:
            d = decision(body)
            assert (status, d["stage"], d["reason"]) == (403, "security", "replay-unavailable"), body
        # the first failure is a blip; from the second on, Redis is backed off and the messages
        # meanwhile are refused at once, saying when Redis is tried next
        assert "backed off" not in decision(answers[0][2])["detail"]
        for _, _, body in answers[2:]:
            detail = decision(body)["detail"]
            assert "backed off" in detail and "tried again in" in detail, detail
        connections = hole.stop()
        assert 2 <= connections <= 3, connections  # without the back-off: one per message

        # a real Redis where the hung one was: once the back-off has passed, messages pass again
        redis = Redis(tmp_path, port=hole.port)
        try:
            deadline = time.monotonic() + 60
            while True:
                status, _, body = s.post("/v1/decide", signer.signed("alice"))
                if status == 200 or time.monotonic() > deadline:
                    break
                assert decision(body)["reason"] == "replay-unavailable", body
                time.sleep(0.2)
            assert status == 200, body
            # and Redis is used again: the accepted message is a replay for a second replica
            status, _, body = s.post("/v1/decide", messages[0])
            assert status == 200, body
            b = make_server(redis_config(redis, "warden:hung:"), name="b")
            status, _, body = b.post("/v1/decide", messages[0])
            assert (status, decision(body)["reason"]) == (403, "replay"), body
        finally:
            redis.stop()
        assert s.stop() == 0
    finally:
        hole.stop()
