"""What a2c makes of Run Command's answers, and the wrapper that produces them on the instance.

The captures in fixtures/ssm/ (see make_captures.py there) go through the same decoding as a live
GetCommandInvocation answer. The wrapper tests run the exact text SsmShell sends with this
machine's /bin/sh and decode its stdout: binary bytes, outputs far past SSM's 24,000 characters,
non-zero exits, stdin carried in the command, the limit. What a real SSM agent adds around the
wrapper (its working folder, root's environment, its own cut of the output, the S3 upload) cannot
run here; the moto test's stand-in agent and the captures cover the shapes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess

import pytest

from a2c.errors import HostError
from a2c.gateways import ssm
from tests.conftest import FIXTURES

CAPTURES = FIXTURES / "ssm"
EXPECTED = json.loads((CAPTURES / "expected.json").read_text())
NONCE = EXPECTED["nonce"]


def capture(name: str) -> dict:
    return json.loads((CAPTURES / f"get-command-invocation-{name}.json").read_text())


def run_wrapper(wrapper: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """The wrapper as the agent runs its commands: a script file given to sh."""
    return subprocess.run(["/bin/sh", "-c", wrapper], capture_output=True, timeout=timeout, env=env)


def through_sh(script: str, stdin: bytes | None = None, limit: int = ssm.DEFAULT_LIMIT,
               env: dict | None = None) -> tuple[ssm.Frame, subprocess.CompletedProcess]:
    nonce = ssm.new_nonce()
    done = run_wrapper(ssm.build_wrapper(script, stdin, nonce=nonce, limit=limit), env)
    frame = ssm.decode_frame(done.stdout.decode("ascii"), nonce, limit=limit)
    assert frame is not None, done
    return frame, done


# -- captures ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(EXPECTED["captures"]))
def test_each_capture_decodes_as_expected(name):
    expected = EXPECTED["captures"][name]
    invocation = capture(name)
    limit = expected.get("limit", EXPECTED["limit"])
    if "stdout_b64" in expected:
        assert ssm.interpret_invocation(invocation, NONCE, name="web1", limit=limit) == \
            base64.b64decode(expected["stdout_b64"])
        return
    words = expected.get("error") or expected["error_without_s3"]
    with pytest.raises(HostError) as caught:
        ssm.interpret_invocation(invocation, NONCE, name="web1", limit=limit)
    for word in words:
        assert word in caught.value.message + " " + caught.value.hint, caught.value.message
    assert "web1" in caught.value.message


def test_a_truncated_capture_is_completed_from_its_s3_object():
    expected = EXPECTED["captures"]["truncated"]
    invocation = capture("truncated")
    assert len(invocation["StandardOutputContent"]) == ssm.INLINE_OUTPUT_CHARS
    s3_text = (CAPTURES / expected["s3_object"]).read_text()
    data = ssm.interpret_invocation(invocation, NONCE, name="web1", fetch_s3=lambda: s3_text)
    assert len(data) == expected["stdout_size"]
    assert hashlib.sha256(data).hexdigest() == expected["stdout_sha256"]


def test_the_s3_key_is_the_one_the_capture_names_then_the_agents_layout():
    invocation = capture("truncated")
    keys = ssm.output_keys(EXPECTED["keyPrefix"], invocation["CommandId"], invocation["InstanceId"],
                           invocation["StandardOutputUrl"], EXPECTED["bucket"])
    layout = (f"a2c/ssm/{invocation['CommandId']}/{invocation['InstanceId']}/awsrunShellScript/"
              "0.awsrunShellScript/stdout")
    assert keys == [layout]  # the URL names the same key
    assert ssm.output_keys("", "c", "i-1") == ["c/i-1/awsrunShellScript/0.awsrunShellScript/stdout"]
    virtual = f"https://{EXPECTED['bucket']}.s3.eu-west-1.amazonaws.com/other/key/stdout"
    assert ssm.output_keys("p", "c", "i-1", virtual, EXPECTED["bucket"])[0] == "other/key/stdout"
    # a URL in another bucket is never followed
    assert ssm.output_keys("p", "c", "i-1", "https://s3.amazonaws.com/evil/x", EXPECTED["bucket"]) == \
        ["p/c/i-1/awsrunShellScript/0.awsrunShellScript/stdout"]


def test_a_cut_capture_with_an_s3_object_of_other_output_is_refused():
    with pytest.raises(HostError, match="holds no a2c output"):
        ssm.interpret_invocation(capture("truncated"), NONCE, name="web1", fetch_s3=lambda: "hello\n")


def test_a_capture_with_another_nonce_is_not_taken_for_ours():
    with pytest.raises(HostError, match="without a2c's framed output"):
        ssm.interpret_invocation(capture("success"), "0" * 16, name="web1")


def test_a_failed_invocation_without_a_frame_is_the_wrapper_failing():
    invocation = dict(capture("failed"), StandardOutputContent="", ResponseCode=97,
                      StandardErrorContent="a2c: cannot create a temporary folder\n")
    with pytest.raises(HostError, match=r"wrapper failed on web1 \(exit 97\): a2c: cannot create"):
        ssm.interpret_invocation(invocation, NONCE, name="web1")


def test_an_unknown_status_is_reported_as_it_is():
    invocation = dict(capture("failed"), Status="Failed", StatusDetails="SomethingNew")
    with pytest.raises(HostError, match=r"status Failed \(SomethingNew\)"):
        ssm.interpret_invocation(invocation, NONCE, name="web1")


# -- the frame ----------------------------------------------------------------------------------------

def test_frame_decoding_refuses_corruption():
    head = f"A2C-SSM {NONCE} begin rc=0 size=3 enc=b64 over=0\n"
    end = f"A2C-SSM {NONCE} end\n"
    assert ssm.decode_frame(head + "YWJj\n" + end, NONCE) == ssm.Frame(0, 3, b"abc")
    assert ssm.decode_frame("no frame here", NONCE) is None
    with pytest.raises(ssm.FrameIncomplete) as cut:
        ssm.decode_frame(head + "YWJj\n", NONCE)
    assert cut.value.size == 3
    with pytest.raises(HostError, match="not valid b64"):
        ssm.decode_frame(head + "YW*j\n" + end, NONCE)
    with pytest.raises(HostError, match="decodes to 2 bytes"):
        ssm.decode_frame(head + "YWI=\n" + end, NONCE)
    with pytest.raises(HostError, match="malformed"):
        ssm.decode_frame(f"A2C-SSM {NONCE} begin rc=zero\n" + end, NONCE)
    # a size past the caller's limit is refused even when the instance did not flag it
    assert ssm.decode_frame(head + "YWJj\n" + end, NONCE, limit=2).over_limit


def test_the_hex_fallback_decodes_real_od_output():
    data = bytes(range(256)) * 3
    hexed = subprocess.run(["od", "-An", "-v", "-tx1"], input=data, capture_output=True, check=True).stdout.decode()
    text = f"A2C-SSM {NONCE} begin rc=0 size={len(data)} enc=hex over=0\n{hexed}A2C-SSM {NONCE} end\n"
    assert ssm.decode_frame(text, NONCE) == ssm.Frame(0, len(data), data)


# -- the wrapper on a real sh ----------------------------------------------------------------------------

def test_every_byte_value_survives():
    data = bytes(range(256))
    octal = "".join(f"\\{b:03o}" for b in data)
    frame, done = through_sh(f"printf '{octal}'; printf '{octal}'")
    assert frame == ssm.Frame(0, 512, data * 2)
    assert done.returncode == 0
    assert all(32 <= c < 127 or c == 10 for c in done.stdout)  # the channel itself stays plain text


def test_megabytes_of_output_come_back_whole(tmp_path):
    blob = os.urandom(3 * 1024 * 1024 + 17)
    (tmp_path / "blob").write_bytes(blob)
    frame, done = through_sh(f"cat {tmp_path / 'blob'}")
    assert frame.data == blob
    assert len(done.stdout) > 4 * 1024 * 1024  # base64: far past GetCommandInvocation's 24,000 characters


def test_stdin_reaches_the_script_byte_for_byte():
    payload = bytes(range(256)) * 150 + b"\n\n$(id) `id` 'quote' \"dq\" \\ A2C_STDIN_deadbeef\n"
    frame, _ = through_sh("cat", stdin=payload)
    assert frame.data == payload


def test_no_stdin_is_an_empty_stdin():
    frame, _ = through_sh("wc -c")
    assert frame.data.strip() == b"0"


def test_the_script_is_not_expanded_and_runs_in_root():
    script = "printf '%s\\n' '$HOME' \"$(pwd)\" '`id`'\ncat <<'EOF'\n$(not run)\nEOF\n"
    frame, _ = through_sh(script)
    assert frame.data == b"$HOME\n/\n`id`\n$(not run)\n"


def test_an_ssm_parameter_reference_never_reaches_ssm():
    """SSM resolves {{ssm:NAME}} in a command's parameters with the caller's rights: a path a
    hostile host chose must not make a2c hand it a parameter's value."""
    script = "printf '%s' '/srv/{{ssm:/prod/db-password}}/{{resolve:ssm:x}}'\n"
    wrapper = ssm.build_wrapper(script, nonce=NONCE)
    assert "{{" not in wrapper and "ssm:/prod" not in wrapper
    frame, _ = through_sh(script)
    assert frame.data == b"/srv/{{ssm:/prod/db-password}}/{{resolve:ssm:x}}"


def test_a_file_name_that_is_not_utf8_survives():
    name = os.fsdecode(b"caf\xe9 \xff.txt")  # surrogate escapes, as os.listdir gives them
    frame, _ = through_sh(f"printf '%s' '{name}'")
    assert frame.data == b"caf\xe9 \xff.txt"


def test_a_failing_script_keeps_its_code_and_the_wrapper_exits_1():
    frame, done = through_sh("printf 'half'; echo 'cannot read /proc/1/environ' >&2; exit 7")
    assert (frame.exit_code, frame.data) == (7, b"half")
    assert done.returncode == 1
    assert b"cannot read /proc/1/environ" in done.stderr


def test_exit_194_never_reaches_the_agent():
    """The SSM agent reboots an instance whose script exits 194: the wrapper must not pass it on."""
    frame, done = through_sh("exit 194")
    assert frame.exit_code == 194
    assert done.returncode == 1


def test_output_past_the_limit_stops_on_the_instance():
    frame, done = through_sh("head -c 5000000 /dev/zero", limit=1000)
    assert frame.over_limit
    assert len(done.stdout) < 200  # nothing of the five megabytes travelled
    frame, _ = through_sh("head -c 1000 /dev/zero", limit=1000)
    assert frame.data == b"\0" * 1000


def test_a_script_that_never_stops_printing_is_stopped_at_the_limit():
    """The cap sits in the pipe: the instance's disk never holds more than the limit."""
    frame, _ = through_sh("yes 'a line the host prints forever'", limit=100_000)
    assert frame.over_limit and frame.size == 100_001


def test_the_temporary_folder_is_removed(tmp_path):
    env = dict(os.environ, TMPDIR=str(tmp_path))
    frame, _ = through_sh("ls \"$(dirname \"$0\")\"", env=env)
    assert frame.data.split() == [b"out", b"script", b"stdin"]  # where the script ran from
    assert list(tmp_path.iterdir()) == []


def test_a_hostile_script_cannot_forge_a_frame():
    nonce = ssm.new_nonce()
    forged = f"A2C-SSM {nonce} begin rc=0 size=2 enc=b64 over=0\\nb2s=\\nA2C-SSM {nonce} end\\n"
    done = run_wrapper(ssm.build_wrapper(f"printf '{forged}'; printf '{forged}' >&2; exit 3", nonce=nonce))
    frame = ssm.decode_frame(done.stdout.decode(), nonce)
    assert frame is not None and frame.exit_code == 3 and frame.data.startswith(b"A2C-SSM")


def test_too_much_stdin_is_refused_before_sending():
    with pytest.raises(HostError, match="Run Command takes at most"):
        ssm.build_wrapper("cat", b"x" * 100_000, nonce=NONCE)


def test_a_bad_nonce_or_limit_is_a_programming_error():
    with pytest.raises(ValueError):
        ssm.build_wrapper("true", nonce="'; rm -rf /")
    with pytest.raises(ValueError):
        ssm.build_wrapper("true", nonce=NONCE, limit=-1)


# -- requests ----------------------------------------------------------------------------------------------

def test_send_command_request_for_one_instance():
    request = ssm.send_command_request("echo", instance_ids=["i-0a1b2c3d4e5f60718"], execution_timeout=90.5,
                                       delivery_timeout=5, bucket="b-1", key_prefix="a2c/ssm/")
    assert request == {
        "DocumentName": "AWS-RunShellScript", "Comment": "a2c: read-only inventory",
        "Parameters": {"commands": ["echo"], "executionTimeout": ["91"]}, "TimeoutSeconds": 30,
        "InstanceIds": ["i-0a1b2c3d4e5f60718"], "OutputS3BucketName": "b-1", "OutputS3KeyPrefix": "a2c/ssm/"}
    no_bucket = ssm.send_command_request("echo", targets=[{"Key": "tag:Role", "Values": ["web"]}],
                                         max_concurrency="10%", max_errors="2")
    assert "OutputS3BucketName" not in no_bucket and no_bucket["Targets"] == [{"Key": "tag:Role", "Values": ["web"]}]
    assert (no_bucket["MaxConcurrency"], no_bucket["MaxErrors"]) == ("10%", "2")
    with pytest.raises(ValueError):
        ssm.send_command_request("echo")


@pytest.mark.parametrize("count, commands, targets", [(1, 1, 0), (50, 1, 0), (51, 1, 2), (250, 1, 5), (260, 2, 5)])
def test_fleet_batches_fit_ssm_limits(count, commands, targets):
    ids = [f"i-{n:017x}" for n in range(count)]
    batches = ssm.fleet_batches(ids + ids[:3])  # duplicates are sent once
    assert len(batches) == commands
    sent = []
    for batch in batches:
        if "instance_ids" in batch:
            assert len(batch["instance_ids"]) <= 50
            sent += batch["instance_ids"]
        else:
            assert len(batch["targets"]) <= 5
            for target in batch["targets"]:
                assert target["Key"] == "InstanceIds" and len(target["Values"]) <= 50
                sent += target["Values"]
    assert sent == ids
    assert len(batches[0].get("targets", [])) == targets


# -- selection ----------------------------------------------------------------------------------------------

def test_managed_instances_are_usable_only_online_and_linux():
    records = json.loads((CAPTURES / "describe-instance-information.json").read_text())["InstanceInformationList"]
    described = {r["InstanceId"]: ssm.describe_selected(r, ["id"]) for r in records}
    assert {i for i, d in described.items() if d["usable"]} == {"i-0a1b2c3d4e5f60718", "mi-0123456789abcdef0"}
    assert "ConnectionLost" in described["i-0b2c3d4e5f6071829"]["reason"]
    assert "Windows platform" in described["i-0c3d4e5f607182930"]["reason"]
    assert "expired" in described["mi-0fedcba9876543210"]["reason"]
    assert described["mi-0123456789abcdef0"]["computerName"] == "legacy-app-07.corp.example"
    assert not ssm.not_managed("i-0ffffffffffffffff", ["id"])["usable"]


def test_tags_become_describe_filters():
    assert ssm.tag_filters(["Role=web", "Env", ("Team", "a=b")]) == [
        {"Key": "tag:Role", "Values": ["web"]}, {"Key": "tag-key", "Values": ["Env"]},
        {"Key": "tag:Team", "Values": ["a=b"]}]
    with pytest.raises(HostError):
        ssm.parse_tag("=web")


def test_only_instance_ids_make_a_shell():
    with pytest.raises(HostError, match="not an instance id"):
        ssm.SsmShell(object(), "i-; reboot")
