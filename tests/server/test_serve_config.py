"""`warden serve`'s own settings (the config file's serve section): an entry it cannot read
stops it from starting, never silently leaves the entry out."""
import subprocess

from conftest import write_config


def test_a_listen_entry_too_long_to_read_stops_the_server_instead_of_falling_back(warden_bin, pki, tmp_path):
    # left out, the only entry would have been replaced by the default 127.0.0.1:8181
    extra = "serve = { listen = { %r } }," % ("127.0.0.1:" + "9" * 5000)
    path = write_config(str(tmp_path), pki, extra)
    run = subprocess.run([warden_bin, "serve", "-c", path], stdin=subprocess.DEVNULL, capture_output=True,
                         timeout=120)
    assert run.returncode == 2, run.stderr
    assert "serve.listen: cannot read entry 1" in run.stderr.decode(errors="replace")
