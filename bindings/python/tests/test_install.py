"""The package installs offline into a virtual environment and works from there, as the README
says: python3 -m venv --system-site-packages VENV; VENV/bin/pip install --no-build-isolation
--no-index bindings/python. (The copy keeps pip's in-tree build out of the checkout.)"""
import importlib
import os
import shutil
import subprocess
import sys

import pytest

BINDING = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = """\
import os, sys, warden
assert os.path.realpath(warden.__file__).startswith(os.path.realpath(sys.prefix)), warden.__file__
engine = warden.Engine(config=sys.argv[1], reload_watch=False)
with open(sys.argv[2], "rb") as f:
    with engine.receive(f.read(), now="2026-11-25T12:00:30Z") as message:
        decision = engine.decide(message)
        print(message.cert.subject["CN"], decision.allowed, decision.reason)
"""


def test_pip_install_into_a_venv_offline(tmp_path, source_dir):
    try:
        importlib.import_module("ensurepip")
        importlib.import_module("venv")
    except ImportError as e:
        pytest.fail("python3 -m venv needs the Debian package python3-venv: %s" % e,
                    pytrace=False)
    src = tmp_path / "src"
    shutil.copytree(BINDING, str(src), ignore=shutil.ignore_patterns(
        "__pycache__", "build", "*.egg-info", ".pytest_cache"))
    env_dir = tmp_path / "venv"
    run = dict(capture_output=True, text=True, timeout=300, cwd=str(tmp_path))
    proc = subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(env_dir)],
                          **run)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pip = [str(env_dir / "bin" / "python"), "-m", "pip", "install", "--no-build-isolation",
           "--no-index", "--disable-pip-version-check", str(src)]
    proc = subprocess.run(pip, **run)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    script = tmp_path / "use.py"
    script.write_text(SCRIPT)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # the installed copy, not the checkout's
    proc = subprocess.run([str(env_dir / "bin" / "python"), str(script),
                           os.path.join(source_dir, "examples", "orders.lua"),
                           os.path.join(source_dir, "policies", "fixtures", "create-small.xml")],
                          env=env, **run)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.split() == ["alice", "True", "permitted"]
