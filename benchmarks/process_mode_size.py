#!/usr/bin/env python3
"""Process mode must not copy the disk: the image a2c builds for a plain `java -jar` service,
against a hand-written Dockerfile (same base + the jar), on the same machine and engine.

App2Container's process mode is known to make 10-16 GB images for such services. Goal: at most
1.3x the hand-written image. Needs root, a Docker engine and a local JRE base image
(scripts/setup.sh makes a2c-test/jre17:latest).

    python3 benchmarks/process_mode_size.py [--base-image a2c-test/jre17:latest]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_jar(folder: Path) -> Path:
    classes = folder / "classes"
    subprocess.run(["javac", "--release", "11", "-d", str(classes), str(ROOT / "fixtures/samples/plain-java/Main.java")],
                   check=True)
    jar = folder / "service.jar"
    subprocess.run(["jar", "--create", "--file", str(jar), "--main-class", "Main", "-C", str(classes), "."], check=True)
    return jar


def a2c(*args: str, env: dict) -> dict:
    out = subprocess.run([sys.executable, "-m", "a2c", "--json", *args], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.exit(f"a2c {' '.join(args)} failed: {out.stdout}{out.stderr}")
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-image", default="a2c-test/jre17:latest")
    args = parser.parse_args()
    import docker

    client = docker.from_env()
    with tempfile.TemporaryDirectory() as tmp:
        app = Path(tmp) / "srv" / "service"
        app.mkdir(parents=True)
        jar = build_jar(app)
        (app / "service.properties").write_text("greeting=hello\n")
        (app / "logs").mkdir()
        (app / "logs" / "service.log").write_bytes(os.urandom(5 * 2**20))  # a log the image must not carry
        port = free_port()
        proc = subprocess.Popen(["java", "-jar", str(jar), str(port)], cwd=app, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        env = {**os.environ, "A2C_WORKSPACE": str(Path(tmp) / "ws"), "A2C_CONFIG": str(Path(tmp) / "cfg.json")}
        try:
            deadline = time.monotonic() + 30
            while socket.socket().connect_ex(("127.0.0.1", port)) != 0 and time.monotonic() < deadline:
                time.sleep(0.2)
            inventory = a2c("inventory", env=env)
            app_id = next(k for k, v in inventory.items() if v["processId"] == proc.pid)
            a2c("analyze", "--application-id", app_id, env=env)
            started = time.perf_counter()
            result = a2c("containerize", "--application-id", app_id, "--base-image", args.base_image,
                         "--no-validate", env=env)
            a2c_seconds = time.perf_counter() - started
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        dockerfile = (f"FROM {args.base_image}\nCOPY service.jar {jar}\nWORKDIR {app}\n"
                      f'CMD ["java", "-jar", "{jar}"]\n').encode()
        context = io.BytesIO()
        import tarfile

        with tarfile.open(fileobj=context, mode="w") as tar:
            info = tarfile.TarInfo("Dockerfile")
            info.size = len(dockerfile)
            tar.addfile(info, io.BytesIO(dockerfile))
            tar.add(str(jar), "service.jar")
        context.seek(0)
        started = time.perf_counter()
        hand, _ = client.images.build(fileobj=context, custom_context=True, tag="a2c-bench/hand-written:latest", rm=True)
        hand_seconds = time.perf_counter() - started
        ours = client.images.get(result["image"])
        base = client.images.get(args.base_image)
    base_size, our_size, hand_size = base.attrs["Size"], ours.attrs["Size"], hand.attrs["Size"]
    mib = 2**20
    print(f"base image {args.base_image}: {base_size / mib:.1f} MiB")
    print(f"hand-written (base + the jar): {hand_size / mib:.1f} MiB, built in {hand_seconds:.1f}s")
    print(f"a2c process mode: {our_size / mib:.1f} MiB ({result['context_files']} files from the host), "
          f"containerize in {a2c_seconds:.1f}s")
    print(f"ratio: {our_size / hand_size:.3f}x (goal <= 1.3x); above the base: a2c {(our_size - base_size) / 1024:.0f} KiB, "
          f"hand-written {(hand_size - base_size) / 1024:.0f} KiB")
    client.images.remove(hand.id, force=True)
    client.images.remove(ours.id, force=True)


if __name__ == "__main__":
    main()
