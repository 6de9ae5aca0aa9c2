"""a2c init: non-interactive with flags, interactive on a real terminal, and the saved workspace used later."""

from __future__ import annotations

import json
import os
import pty
import select
import sys
import time


def test_init_with_flags_then_commands_use_that_workspace(run_a2c, tmp_path, monkeypatch):
    config = tmp_path / "conf" / "config.json"
    chosen = tmp_path / "chosen-ws"
    env = {"A2C_CONFIG": str(config), "A2C_WORKSPACE": None}
    result = run_a2c("--json", "init", "--defaults", "--workspace-dir", str(chosen), "--profile", "migration",
                     "--region", "eu-west-1", "--s3-bucket", "my-bucket", env=env)
    assert result.exit_code == 0, result
    saved = json.loads(config.read_text())
    assert saved["workspace"] == str(chosen) and saved["awsProfile"] == "migration"
    assert saved["awsRegion"] == "eu-west-1" and saved["s3Bucket"] == "my-bucket"
    assert chosen.is_dir()
    # Later commands find the workspace through the saved configuration.
    empty_host = tmp_path / "empty-host"
    empty_host.mkdir()
    result = run_a2c("--json", "inventory", "--snapshot", str(empty_host), env=env)
    assert result.exit_code == 0 and result.json() == {}, result
    assert (chosen / "inventory.json").exists()
    result = run_a2c("inventory", "--snapshot", str(tmp_path / "missing"), env=env)
    assert result.exit_code == 6 and "no such host snapshot folder" in result.stderr


def test_init_defaults_without_terminal(run_a2c, tmp_path):
    env = {"A2C_CONFIG": str(tmp_path / "c.json"), "HOME": str(tmp_path), "A2C_WORKSPACE": None}
    result = run_a2c("init", "--defaults", env=env)
    assert result.exit_code == 0, result
    assert json.loads((tmp_path / "c.json").read_text())["workspace"] == str(tmp_path / "a2c")


def test_init_interactive_on_a_terminal(tmp_path):
    config = tmp_path / "config.json"
    env = {**os.environ, "A2C_CONFIG": str(config), "HOME": str(tmp_path)}
    env.pop("A2C_WORKSPACE", None)
    answers = [str(tmp_path / "typed-ws"), "ops", "us-west-2", ""]
    pid, fd = pty.fork()
    if pid == 0:  # child: a2c on a real terminal
        os.execvpe(sys.executable, [sys.executable, "-m", "a2c", "init"], env)
    output = b""
    deadline = time.monotonic() + 30
    try:
        while answers and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1)
            if ready:
                output += os.read(fd, 4096)
            if output.rstrip().endswith(b":"):
                os.write(fd, answers.pop(0).encode() + b"\r")
                output += b"\n"
        while time.monotonic() < deadline:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
    finally:
        _, status = os.waitpid(pid, 0)
    text = output.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "Workspace directory path for artifacts" in text and "AWS profile" in text
    saved = json.loads(config.read_text())
    assert saved["workspace"] == str(tmp_path / "typed-ws")
    assert saved["awsProfile"] == "ops" and saved["awsRegion"] == "us-west-2" and saved["s3Bucket"] == ""
