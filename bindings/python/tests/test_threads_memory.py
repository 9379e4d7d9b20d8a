"""Threads from Python sharing one engine, and handles freed: no growth over 10,000
receive/decide cycles."""
import ctypes
import gc
import os
import threading
import time

import warden

NOW = "2026-11-25T12:00:30Z"


def test_four_threads_decide_concurrently(engine_options, zeep, pki):
    options = dict(engine_options, replay_backend="none")
    allow = zeep.signed(pki, amount="250")
    deny = zeep.signed(pki, amount="5000")
    status = zeep.username(action="GetStatus")
    rejected = zeep.tamper_amount(allow)
    cases = [(allow, True, "permitted"), (deny, False, "no-permit"),
             (status, True, "permitted"), (rejected, None, "digest-mismatch")]
    failures = []
    counts = [0] * 4
    start = threading.Barrier(4)

    def work(index, e):
        start.wait()
        deadline = time.monotonic() + 1.5
        i = index
        while time.monotonic() < deadline or counts[index] < 50:
            data, allowed, reason = cases[i % len(cases)]
            i += 1
            try:
                with e.receive(data, now=NOW) as m:
                    d = e.decide(m)
                    if (d.allowed, d.reason) != (allowed, reason):
                        failures.append((index, d.allowed, d.reason, reason))
                    d.close()
            except warden.SecurityRejected as r:
                if r.reason != reason:
                    failures.append((index, "rejected", r.reason, reason))
            except Exception as x:  # noqa: BLE001 - report everything
                failures.append((index, repr(x)))
            counts[index] += 1

    with warden.Engine(**options) as e:
        threads = [threading.Thread(target=work, args=(k, e)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not any(t.is_alive() for t in threads)
    assert failures == []
    assert all(c >= 50 for c in counts), counts


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def _allocated():
    """(what, bytes currently allocated by malloc), or None: from the AddressSanitizer runtime
    when it is loaded (its quarantine keeps freed memory mapped, so RSS says little there),
    else from glibc's mallinfo2 (all arenas, plus mmapped blocks)."""
    process = ctypes.CDLL(None)
    fn = getattr(process, "__sanitizer_get_current_allocated_bytes", None)
    if fn is not None:
        fn.restype = ctypes.c_size_t
        fn.argtypes = []
        return "ASan allocated bytes", int(fn())
    fn = getattr(process, "mallinfo2", None)
    if fn is not None:
        fn.restype = _MallInfo2
        fn.argtypes = []
        info = fn()
        return "malloc allocated bytes", int(info.uordblks + info.hblkhd)
    return None


def _rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _memory():
    """{what: bytes}: the resident set size, and malloc's count of allocated bytes when it can
    be had."""
    gc.collect()
    out = {"RSS": _rss()}
    allocated = _allocated()
    if allocated is not None:
        out[allocated[0]] = allocated[1]
    return out


# RSS moves in pages and with the allocator's pools: a leaked message per cycle would be
# ~180 MB, a leaked decision ~1.5 MB. The malloc count is exact: 10,000 leaked decisions are
# ~1.4 MB there; 256 KB is 26 bytes a cycle.
TOLERANCE = {"RSS": 1024 * 1024}
TOLERANCE_ALLOCATED = 256 * 1024


def test_no_growth_over_10000_receive_decide_cycles(engine_options, zeep, pki):
    options = dict(engine_options, replay_backend="none")
    signed = zeep.signed(pki)
    user = zeep.username(action="GetStatus")
    rejected = zeep.tamper_amount(signed)

    def cycle(e, i):
        data = (signed, user)[i % 2]
        m = e.receive(data, now=NOW, attrs={"n": str(i)})
        if i % 10 == 0:  # read properties now and then: tokens, certificates
            assert m.cert is not None or m.username == "alice"
            m.to_dict()
        d = e.decide(m)
        assert d.allowed
        if i % 3 == 0:  # and let some handles go only through the garbage of Python objects
            del d, m
        else:
            d.close()
            m.close()
        if i % 50 == 0:
            try:
                e.receive(rejected, now=NOW)
            except warden.SecurityRejected:
                pass

    with warden.Engine(**options) as e:
        for i in range(1000):  # warm-up: per-thread Lua state, caches, allocator pools
            cycle(e, i)
        before = _memory()
        for i in range(10000):
            cycle(e, i)
        after = _memory()
    if "ASan allocated bytes" in before:
        del before["RSS"]  # ASan's quarantine and shadow memory make RSS meaningless
    for what in before:
        growth = after[what] - before[what]
        limit = TOLERANCE.get(what, TOLERANCE_ALLOCATED)
        assert growth < limit, "%s grew by %d bytes over 10,000 cycles" % (what, growth)
