"""bench/python_decide.py — what the Python binding adds to a decision.

On one verified message (the same one bench/decide.c uses), measures per call:
  - the binding:        engine.decide(message).allowed  (decide, read allowed, free the decision)
  - raw ctypes:         warden_engine_decide + warden_decision_allowed + warden_decision_free
                        called directly through the binding's ctypes declarations
  - the ctypes floor:   one trivial foreign call (warden_decision_allowed(NULL))
and estimates the C decision as raw ctypes - 3 x floor, so that the binding's added cost is
binding - C. bench/decide.sh prints bench_decide's C figure for the same message just before
this, in the same (release) build: its "example set, 1 thread" mean is 1e6 / (decisions/s) us,
which is what "binding" here should be compared with (both are means over many calls).
Batches of calls are timed with time.perf_counter_ns; medians over rounds, interleaved.

usage: python3 bench/python_decide.py CONFIG_LUA ENVELOPE NOW_UNIX [SECONDS_PER_ROUND] [ROUNDS]
(the warden package from bindings/python, or installed; libwarden found as the package finds it,
e.g. through WARDEN_LIBRARY)
"""
import ctypes
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
try:
    import warden
except ImportError:
    sys.path.insert(0, os.path.join(HERE, "..", "bindings", "python"))
    import warden
from warden import _native

BATCH = 1000


def per_call_us(fn, seconds):
    """Mean microseconds per call of fn() over batches for `seconds`."""
    calls = 0
    elapsed = 0
    deadline = time.perf_counter_ns() + int(seconds * 1e9)
    while True:
        start = time.perf_counter_ns()
        for _ in range(BATCH):
            fn()
        end = time.perf_counter_ns()
        elapsed += end - start
        calls += BATCH
        if end >= deadline:
            break
    return elapsed / calls / 1000.0


def main(argv):
    if len(argv) < 4:
        sys.exit("usage: python_decide.py CONFIG_LUA ENVELOPE NOW_UNIX [SECONDS_PER_ROUND] [ROUNDS]")
    config, envelope, now = argv[1], argv[2], int(argv[3])
    seconds = float(argv[4]) if len(argv) > 4 else 1.0
    rounds = int(argv[5]) if len(argv) > 5 else 5
    engine = warden.Engine(config=config, replay_backend="none")
    with open(envelope, "rb") as f:
        message = engine.receive(f.read(), now=now)

    decide = engine.decide

    def binding():
        if not decide(message).allowed:
            raise SystemExit("unexpected deny")

    c_decide = _native.warden_engine_decide
    c_allowed = _native.warden_decision_allowed
    c_free = _native.warden_decision_free
    engine_ptr = engine._handle.ptr
    message_ptr = message._ptr
    out = ctypes.c_void_p()
    err = _native.Error()
    out_ref, err_ref = ctypes.byref(out), ctypes.byref(err)

    def raw():
        c_decide(engine_ptr, message_ptr, out_ref, err_ref)
        handle = out.value
        if c_allowed(handle) != 1:
            raise SystemExit("unexpected deny")
        c_free(handle)

    def floor():
        c_allowed(None)

    names = ("engine.decide(m).allowed (binding)", "raw ctypes decide+allowed+free",
             "ctypes floor (1 trivial call)")
    fns = (binding, raw, floor)
    for fn in fns:  # warm up
        per_call_us(fn, 0.2)
    results = [[] for _ in fns]
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            results[i].append(per_call_us(fn, seconds))
    med = [statistics.median(r) for r in results]
    c_estimate = med[1] - 3 * med[2]
    print("python %s, libwarden %s (%s); %d rounds of %.1f s, medians over rounds"
          % (sys.version.split()[0], warden.library_version, warden.library_path, rounds, seconds))
    print("%-40s %10s" % ("", "us/call"))
    for name, value in zip(names, med):
        print("%-40s %10.3f" % (name, value))
    print("%-40s %10.3f" % ("C decide estimate (raw - 3 x floor)", c_estimate))
    print("%-40s %10.3f" % ("added by the binding (binding - C est.)", med[0] - c_estimate))
    print("%-40s %10.3f" % ("added over raw ctypes (binding - raw)", med[0] - med[1]))
    message.close()
    engine.close()


if __name__ == "__main__":
    main(sys.argv)
