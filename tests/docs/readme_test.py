#!/usr/bin/env python3
"""Runs the README's block of commands as written, in a fresh directory.

Every line must exit 0 and show something. `tally serve` runs until
SIGINT: each serve line runs for a few seconds and must stop cleanly; the
`tally load` line runs against the first one (its TOKEN is the token the
block made; the port is a free one instead of 8080, the load 3 s long).

    readme_test.py TALLY README.md
"""
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def block(readme):
    text = open(readme, encoding="utf-8").read()
    found = re.search(r"```sh\n(tally master-key.*?)```", text, re.S)
    assert found, "no command block starting with tally master-key in the README"
    lines = []
    for line in found.group(1).splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        if line:
            lines.append(line)
    return lines


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(argv, env, cwd):
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    shown = (done.stdout + done.stderr).strip()
    assert done.returncode == 0, f"{shlex.join(argv)}: exit {done.returncode}\n{shown}"
    assert shown, f"{shlex.join(argv)} showed nothing"
    return done.stdout


def serve(argv, env, cwd, then=None):
    server = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    time.sleep(3)
    if then is not None:
        then()
    server.send_signal(signal.SIGINT)
    out, _ = server.communicate(timeout=60)
    assert server.returncode == 0, f"{shlex.join(argv)}: exit {server.returncode}\n{out}"
    assert "stopped cleanly" in out, f"{shlex.join(argv)}:\n{out}"
    return out


def main():
    tally, readme = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    lines = block(readme)
    load = [l for l in lines if l.startswith("tally load")]
    work = tempfile.mkdtemp(prefix="tally-readme-")
    try:
        run_block(tally, readme, lines, load, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("every README command ran")


def run_block(tally, readme, lines, load, work):
    os.symlink(os.path.join(os.path.dirname(readme), "docs"), os.path.join(work, "docs"))
    env = dict(os.environ)
    token, port, served = "", str(free_port()), False
    for line in lines:
        print("$", line, flush=True)
        if line.startswith("export "):
            name, value = line[len("export "):].split("=", 1)
            env[name] = value.replace("$PWD", work)
            continue
        argv = shlex.split(line.replace("127.0.0.1:8080", "127.0.0.1:" + port))
        assert argv[0] == "tally", line
        argv[0] = tally
        if argv[1] == "load":
            continue  # run beside the first serve
        if argv[1] == "serve":
            def drive_load():
                for l in load:
                    l = l.replace("127.0.0.1:8080", "127.0.0.1:" + port)
                    l = l.replace("TOKEN", token).replace("--duration 10", "--duration 3")
                    print(run([tally] + shlex.split(l)[1:], env, work), flush=True)
            out = serve(argv, env, work, None if served else drive_load)
            served = True
            print(out[-600:], flush=True)
            continue
        out = run(argv, env, work)
        if argv[1:3] == ["token", "create"]:
            token = out.strip().splitlines()[-1]
        print(out[:600], flush=True)


if __name__ == "__main__":
    main()
