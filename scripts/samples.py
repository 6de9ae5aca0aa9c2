#!/usr/bin/env python3
"""Run the bundled sample Java apps as real processes on loopback, for discovery tests.

    python3 scripts/samples.py start|stop|status [--state-dir DIR]

`start` runs Debian's Tomcat 10 (private CATALINA_BASE, hello.war + sample.war) and the
Spring-Boot-layout hello-boot.jar, waits until both answer 200, and writes state.json.
It reuses services that are already up, so tests and CI can both call it. Needs root
(as CI runs): Debian's /etc/tomcat10 files are readable by root and group tomcat only.
Stdlib only, so it runs before the project is installed.
"""

import argparse
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "fixtures" / "samples"
DEFAULT_STATE_DIR = "/tmp/a2c-samples"
CATALINA_HOME = Path("/usr/share/tomcat10")
TOMCAT_CONF = Path("/etc/tomcat10")
SAMPLE_WAR = Path("/usr/share/tomcat10-docs/docs/appdev/sample/sample.war")
START_TIMEOUT = 60

# Ask loopback directly even if the environment names a proxy.
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# Popen objects of services started by this process: kept so they are not reported as
# leaked, and so stop() in the same process can reap them.
_children = {}


def read_state(state_dir=DEFAULT_STATE_DIR):
    try:
        return json.loads((Path(state_dir) / "state.json").read_text())
    except FileNotFoundError:
        return None


def start_samples(state_dir=DEFAULT_STATE_DIR):
    state_dir = Path(state_dir).resolve()
    if os.geteuid() != 0:
        raise RuntimeError("samples.py must run as root (it reads /etc/tomcat10)")
    with _locked(state_dir):
        state = read_state(state_dir)
        if state and all(_healthy(svc) for svc in state.values()):
            return state
        _stop(state_dir)  # whatever is left of an earlier, half-dead start
        build = _build(state_dir / "build")
        logs = state_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        state = {}
        try:
            state["tomcat"] = _start_tomcat(state_dir / "tomcat", build / "hello.war", logs)
            state["springboot"] = _start_boot(state_dir / "hello-boot", build / "hello-boot.jar", logs)
            _write_state(state_dir, state)  # before waiting, so a failure can still be stopped
            for svc in state.values():
                _wait_http(svc)
        except BaseException:
            _write_state(state_dir, state)
            _stop(state_dir)
            raise
        return state


def stop_samples(state_dir=DEFAULT_STATE_DIR):
    state_dir = Path(state_dir).resolve()
    with _locked(state_dir):
        _stop(state_dir)


def _stop(state_dir):
    for svc in (read_state(state_dir) or {}).values():
        pid = svc.get("pid")
        if pid and _is_ours(svc):
            _kill_group(pid)
    (state_dir / "state.json").unlink(missing_ok=True)
    for name in ("tomcat", "hello-boot"):
        shutil.rmtree(state_dir / name, ignore_errors=True)


# --- building ------------------------------------------------------------------------

def _build(out):
    outputs = [out / "hello-boot.jar", out / "hello.war"]
    newest_source = max(p.stat().st_mtime for p in SAMPLES.rglob("*") if p.is_file())
    if not all(p.exists() and p.stat().st_mtime >= newest_source for p in outputs):
        subprocess.run(["bash", str(SAMPLES / "build.sh"), str(out)], check=True,
                       stdout=subprocess.DEVNULL)
    return out


# --- Tomcat --------------------------------------------------------------------------

def _start_tomcat(base, war, logs):
    port = _free_port()
    shutil.rmtree(base, ignore_errors=True)
    subprocess.run(["sh", str(CATALINA_HOME / "bin/makebase.sh"), str(base)], check=True,
                   stdout=subprocess.DEVNULL)
    # Debian keeps Tomcat's conf in /etc, so makebase copied nothing. Catalina/ is left
    # out: its context files would also deploy the packaged docs and examples apps.
    shutil.copytree(TOMCAT_CONF, base / "conf", dirs_exist_ok=True,
                    ignore=lambda d, names: ["Catalina"] if Path(d) == TOMCAT_CONF else [])
    server_xml = base / "conf" / "server.xml"
    server_xml.write_text(_private_server_xml(server_xml.read_text(), port))
    # makebase's empty ROOT would show up as a (bogus) application to discovery.
    shutil.rmtree(base / "webapps" / "ROOT", ignore_errors=True)
    shutil.copy(war, base / "webapps" / "hello.war")
    if SAMPLE_WAR.exists():
        shutil.copy(SAMPLE_WAR, base / "webapps" / "sample.war")
    env = dict(os.environ, CATALINA_HOME=str(CATALINA_HOME), CATALINA_BASE=str(base))
    # catalina.sh execs java, so this pid is Tomcat's JVM.
    pid = _spawn([str(CATALINA_HOME / "bin/catalina.sh"), "run"], base, env, logs / "tomcat.log")
    return {"pid": pid, "port": port, "catalina_home": str(CATALINA_HOME),
            "catalina_base": str(base), "url": f"http://127.0.0.1:{port}/hello/",
            "log": str(logs / "tomcat.log")}


def _private_server_xml(xml, port):
    # Drop comments first so that only live elements are edited below.
    xml = re.sub(r"<!--.*?-->", "", xml, flags=re.S)
    xml = re.sub(r'<Server port="[^"]*"', '<Server port="-1"', xml)
    # The SecurityListener refuses to start Tomcat as root, and we run as root.
    xml = re.sub(r'<Listener className="org\.apache\.catalina\.security\.SecurityListener"[^>]*/>',
                 "", xml)
    xml = re.sub(r'<Connector[^>]*"AJP/1\.3"[^>]*/>', "", xml)

    def loopback(match):
        tag = re.sub(r'\saddress="[^"]*"', "", match.group(0))
        return re.sub(r'\sport="[^"]*"', f' address="127.0.0.1" port="{port}"', tag, count=1)

    xml, count = re.subn(r"<Connector\b[^>]*>", loopback, xml)
    if count != 1:
        raise RuntimeError(f"expected one HTTP Connector in {TOMCAT_CONF}/server.xml, found {count}")
    return xml


# --- Spring Boot ---------------------------------------------------------------------

def _start_boot(cwd, jar, logs):
    port = _free_port()
    shutil.rmtree(cwd, ignore_errors=True)
    cwd.mkdir(parents=True)
    shutil.copy(jar, cwd / jar.name)
    # server.port here must lose to --server.port on the command line (tests check it).
    (cwd / "application.properties").write_text(
        "server.port=9999\n"
        "server.address=127.0.0.1\n"
        "spring.application.name=hello-boot\n"
        "spring.datasource.url=jdbc:postgresql://127.0.0.1:5432/hello\n"
        "spring.datasource.username=hello\n"
        "logging.level.root=INFO\n")
    cmd = ["java", "-jar", str(cwd / jar.name), f"--server.port={port}"]
    pid = _spawn(cmd, cwd, dict(os.environ), logs / "hello-boot.log")
    return {"pid": pid, "port": port, "jar": str(cwd / jar.name), "cwd": str(cwd),
            "url": f"http://127.0.0.1:{port}/", "log": str(logs / "hello-boot.log")}


# --- processes -----------------------------------------------------------------------

def _spawn(cmd, cwd, env, log):
    with open(log, "ab") as out:
        # Own session and process group: survives the caller and can be stopped as a unit.
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    _children[proc.pid] = proc
    return proc.pid


def _alive(pid):
    if pid in _children and _children[pid].poll() is not None:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # zombies of another parent count as dead


def _is_ours(svc):
    """Guards against a recycled pid: the process must still be our service."""
    if not _alive(svc["pid"]):
        return False
    try:
        cmdline = Path(f"/proc/{svc['pid']}/cmdline").read_bytes().decode(errors="replace")
    except FileNotFoundError:
        return False
    marker = svc.get("catalina_base") or svc.get("jar")
    return bool(marker) and marker in cmdline


def _kill_group(pid):
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        return
    if pgid == os.getpgrp():  # never signal our own group
        pgid = None
    for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            if pgid:
                os.killpg(pgid, sig)
            else:
                os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not _alive(pid):
                child = _children.pop(pid, None)
                if child is not None:
                    child.wait(timeout=5)  # reap it: a zombie seen before poll() would be reported as leaked
                return
            time.sleep(0.1)
    raise RuntimeError(f"process {pid} did not exit")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url, timeout=2):
    try:
        with _http.open(url, timeout=timeout) as resp:
            return resp.status == 200
    except OSError:
        return False


def _healthy(svc):
    return _is_ours(svc) and _answers(svc["url"])


def _wait_http(svc):
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if _answers(svc["url"]):
            return
        if not _alive(svc["pid"]):
            break
        time.sleep(0.5)
    tail = "".join(Path(svc["log"]).read_text(errors="replace").splitlines(True)[-40:])
    state = "exited" if not _alive(svc["pid"]) else f"no HTTP 200 within {START_TIMEOUT}s"
    raise RuntimeError(f"{svc['url']} (pid {svc['pid']}): {state}; tail of {svc['log']}:\n{tail}")


def _write_state(state_dir, state):
    tmp = state_dir / "state.json.tmp"
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(state_dir / "state.json")


@contextmanager
def _locked(state_dir):
    # Parallel test workers may all call start(): one builds and starts, the rest reuse.
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["start", "stop", "status"])
    parser.add_argument("--state-dir", default=DEFAULT_STATE_DIR)
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            print(json.dumps(start_samples(args.state_dir), indent=2))
        elif args.command == "stop":
            stop_samples(args.state_dir)
            print("stopped")
        else:
            state = read_state(args.state_dir)
            if not state:
                print("not running")
                return 1
            healthy = True
            for name, svc in state.items():
                up = _healthy(svc)
                healthy &= up
                print(f"{name}: pid {svc['pid']} {svc['url']} {'up' if up else 'DOWN'}")
            return 0 if healthy else 1
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"samples.py {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
