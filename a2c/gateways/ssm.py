"""AWS Systems Manager Run Command as a shell: how a2c reads EC2 and hybrid instances without SSH.

One ``run`` is one SendCommand of ``AWS-RunShellScript``. Run Command has no stdin and a text-only
output channel (GetCommandInvocation returns the first 24,000 characters of stdout), so the
script travels inside a wrapper (``build_wrapper``) that runs it on the instance with its stdin
from a here-doc, keeps its stdout in a private temporary folder (capped at the caller's limit),
and prints it base64-encoded between two lines carrying a random nonce, the exit code and the
byte count. The wrapper itself exits 0 or 1, never the script's code: the SSM agent reboots
an instance whose script exits 194. ``decode_frame`` turns that back into bytes; an output
that does not fit in GetCommandInvocation is read from the S3 object the agent writes when
the command names a bucket (the one ``a2c init`` saved, or ``bucket=``).

``ssm_fleet_scan`` sends one command to many instances with SSM's own MaxConcurrency and
MaxErrors, follows them with ListCommandInvocations and decodes each output the same way.
``select_instances`` turns ids, tags and resource groups into managed instances, and says why
an instance cannot be used.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import secrets
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

from a2c.errors import A2CError, AWSError, HostError, excerpt
from a2c.gateways.aws import translate

log = logging.getLogger(__name__)

DOCUMENT = "AWS-RunShellScript"
PLUGIN = "aws:runShellScript"
DEFAULT_LIMIT = 64 * 1024 * 1024          # the Shell protocol's default stdout limit
DEFAULT_TIMEOUT = 600.0                   # seconds a command may run on the instance
DEFAULT_KEY_PREFIX = "a2c/ssm/"
INLINE_OUTPUT_CHARS = 24_000              # GetCommandInvocation's StandardOutputContent
INLINE_ERROR_CHARS = 8_000                # ... and StandardErrorContent
MAX_WRAPPER_CHARS = 60_000                # what a2c sends in one SendCommand's parameters (AWS caps the request)
MIN_DELIVERY_TIMEOUT = 30                 # SendCommand's TimeoutSeconds minimum
MAX_EXECUTION_TIMEOUT = 172_800           # AWS-RunShellScript's executionTimeout maximum
IDS_PER_COMMAND_FIELD = 50                # InstanceIds, and a Target's Values, hold at most 50
TARGETS_PER_COMMAND = 5                   # Targets holds at most 5 entries
POLL_MAX = 10.0
STDERR_EXCERPT = 600
S3_RETRY_DELAYS = (1.0, 3.0)              # the agent's upload may land just after the status says done

TERMINAL = {"Success", "Failed", "Cancelled", "TimedOut"}
PENDING = {"Pending", "InProgress", "Delayed", "Cancelling"}


# -- the wrapper that runs on the instance --------------------------------------------------------

WRAPPER = """\
# a2c over AWS Systems Manager: runs one script, frames its stdout (see a2c/gateways/ssm.py)
umask 077
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${{PATH:+:$PATH}}
export PATH
a2c_t=$(mktemp -d 2>/dev/null) || a2c_t=
if [ -z "$a2c_t" ]; then
  a2c_t="${{TMPDIR:-/tmp}}/a2c-ssm.$$"
  mkdir -m 700 "$a2c_t" || {{ echo "a2c: cannot create a temporary folder" >&2; exit 97; }}
fi
trap 'rm -rf "$a2c_t"' EXIT
{script}
{stdin}
if (printf ab | head -c 1) >/dev/null 2>&1; then a2c_cap="head -c {cap}"; else a2c_cap=cat; fi
{{ (cd / && /bin/sh "$a2c_t/script" < "$a2c_t/stdin"); echo $? > "$a2c_t/rc"; }} | $a2c_cap > "$a2c_t/out"
a2c_rc=$(cat "$a2c_t/rc" 2>/dev/null)
a2c_n=$(wc -c < "$a2c_t/out" | tr -d ' ')
a2c_over=0
if [ "$a2c_n" -gt {limit} ]; then a2c_over=1; fi
if command -v base64 >/dev/null 2>&1; then a2c_enc=b64; else a2c_enc=hex; fi
printf 'A2C-SSM {nonce} begin rc=%s size=%s enc=%s over=%s\\n' "${{a2c_rc:-255}}" "$a2c_n" "$a2c_enc" "$a2c_over"
if [ "$a2c_over" = 0 ]; then
  if [ "$a2c_enc" = b64 ]; then base64 < "$a2c_t/out"; else od -An -v -tx1 < "$a2c_t/out"; fi
fi
printf 'A2C-SSM {nonce} end\\n'
# 1, never the script's own code: the agent reboots the instance after an exit 194.
if [ "${{a2c_rc:-255}}" = 0 ]; then exit 0; fi
exit 1
"""

PLAIN_HEREDOC = """\
cat > "$a2c_t/{file}" <<'A2C_{tag}_{nonce}'
{payload}A2C_{tag}_{nonce}"""

BASE64_HEREDOC = """\
base64 -d > "$a2c_t/{file}" <<'A2C_{tag}_{nonce}' || {{ echo "a2c: base64 is missing on this instance (coreutils)" >&2; exit 96; }}
{payload}
A2C_{tag}_{nonce}"""

NO_STDIN = ': > "$a2c_t/stdin"'


def new_nonce() -> str:
    return secrets.token_hex(8)


def build_wrapper(script: str, stdin: bytes | None = None, *, nonce: str, limit: int = DEFAULT_LIMIT) -> str:
    """The shell text SSM runs: ``script`` under /bin/sh with ``stdin`` and its stdout framed.

    The script rides in a quoted here-doc (nothing in it is expanded) whose delimiter carries the
    nonce; stdin rides base64-encoded in another one, since Run Command has none. A script with
    ``{{`` in it (a path a host named, say) rides base64-encoded too: SSM would resolve
    ``{{ssm:NAME}}`` in a command's parameters with the caller's rights and hand the value to
    the instance. So does one with bytes that are not UTF-8 (surrogate-escaped file names)."""
    if not re.fullmatch(r"[0-9a-f]{8,64}", nonce):
        raise ValueError(f"nonce must be lowercase hex, not {nonce!r}")
    if limit < 0:
        raise ValueError("limit must be >= 0")
    if not script.endswith("\n"):
        script += "\n"
    if "{{" in script or f"A2C_SCRIPT_{nonce}" in script or not _is_utf8(script):
        script_text = BASE64_HEREDOC.format(file="script", tag="SCRIPT", nonce=nonce,
                                            payload=_base64(script.encode("utf-8", "surrogateescape")))
    else:
        script_text = PLAIN_HEREDOC.format(file="script", tag="SCRIPT", nonce=nonce, payload=script)
    if stdin:
        stdin_text = BASE64_HEREDOC.format(file="stdin", tag="STDIN", nonce=nonce, payload=_base64(stdin))
    else:
        stdin_text = NO_STDIN
    wrapper = WRAPPER.format(nonce=nonce, script=script_text, stdin=stdin_text, limit=limit, cap=limit + 1)
    if "{{" in wrapper:  # cannot happen: every payload above is plain text without it, or base64
        raise ValueError("the command would hold an SSM parameter reference")
    if len(wrapper) > MAX_WRAPPER_CHARS:
        raise HostError(f"the command for SSM is {len(wrapper)} characters (script {len(script)}, stdin "
                        f"{len(stdin or b'')} bytes); Run Command takes at most about {MAX_WRAPPER_CHARS}",
                        "Pass less through stdin in one call (Run Command has no stream to send it on).")
    return wrapper


# -- decoding what came back -----------------------------------------------------------------------

def _is_utf8(text: str) -> bool:
    """False for text holding surrogate escapes (a file name that is not UTF-8): SSM takes UTF-8 only."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _base64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii").rstrip("\n")


@dataclass(frozen=True)
class Frame:
    """What the wrapper printed: the script's exit code and stdout (None when it passed the limit)."""

    exit_code: int
    size: int
    data: bytes | None

    @property
    def over_limit(self) -> bool:
        return self.data is None


class FrameIncomplete(Exception):
    """The frame began but did not end: the text was cut (GetCommandInvocation's 24,000 characters)."""

    def __init__(self, size: int | None) -> None:
        super().__init__("output cut before its end marker")
        self.size = size


_BEGIN = re.compile(r"rc=(-?\d+) size=(\d+) enc=(b64|hex) over=([01])")


def decode_frame(text: str, nonce: str, *, limit: int = DEFAULT_LIMIT) -> Frame | None:
    """The frame inside ``text`` (an invocation's stdout), None when there is none at all.
    Raises FrameIncomplete when it was cut, HostError when it is corrupt."""
    begin = f"A2C-SSM {nonce} begin "
    end = f"A2C-SSM {nonce} end"
    start = text.find(begin)
    if start < 0:
        return None
    header_end = text.find("\n", start)
    if header_end < 0:
        raise FrameIncomplete(None)
    match = _BEGIN.fullmatch(text[start + len(begin):header_end].strip())
    if match is None:
        raise HostError(f"SSM output has a malformed a2c header: {excerpt(text[start:header_end], 120)!r}",
                        "Report it: the instance's shell printed something a2c does not expect.")
    exit_code, size, encoding, over = int(match[1]), int(match[2]), match[3], match[4] == "1"
    stop = text.find("\n" + end, header_end)
    if stop < 0:
        raise FrameIncomplete(size)
    if over or size > limit:
        return Frame(exit_code, size, None)
    body = text[header_end + 1:stop]
    try:
        if encoding == "b64":
            data = base64.b64decode("".join(body.split()), validate=True)
        else:
            data = bytes.fromhex("".join(body.split()))
    except (binascii.Error, ValueError) as exc:
        raise HostError(f"SSM output is not valid {encoding} ({exc})",
                        "Report it: the output was altered on its way.") from exc
    if len(data) != size:
        raise HostError(f"SSM output decodes to {len(data)} bytes, the instance counted {size}",
                        "Run the command again; report it if it repeats.")
    return Frame(exit_code, size, data)


def max_encoded_chars(limit: int) -> int:
    """The longest text a frame of at most ``limit`` bytes takes (hex: 3 characters a byte)."""
    return 3 * limit + 4096


def output_keys(key_prefix: str, command_id: str, instance_id: str, url: str = "", bucket: str = "") -> list[str]:
    """The S3 keys where the agent writes this invocation's stdout: the one StandardOutputUrl names
    (when it is in ``bucket``), then the agent's documented layout
    ``<prefix>/<command id>/<instance id>/awsrunShellScript/0.awsrunShellScript/stdout``."""
    keys = []
    from_url = _key_from_url(url, bucket)
    if from_url:
        keys.append(from_url)
    parts = [p for p in (key_prefix.strip("/"), command_id, instance_id, "awsrunShellScript",
                         "0.awsrunShellScript", "stdout") if p]
    keys.append("/".join(parts))
    return list(dict.fromkeys(keys))


def _key_from_url(url: str, bucket: str) -> str:
    """The key of an S3 URL (path style ``https://s3.REGION.amazonaws.com/BUCKET/KEY`` or virtual
    hosted ``https://BUCKET.s3...``) when it is in ``bucket``; "" otherwise."""
    if not url or not bucket:
        return ""
    parsed = urllib.parse.urlsplit(url)
    path = urllib.parse.unquote(parsed.path).lstrip("/")
    host = parsed.hostname or ""
    if host.startswith(bucket + "."):
        return path
    first, _, rest = path.partition("/")
    return rest if first == bucket else ""


# -- statuses ---------------------------------------------------------------------------------------

def _stderr(invocation: Mapping[str, Any]) -> str:
    text = str(invocation.get("StandardErrorContent") or "").strip()
    return f": {excerpt(text, STDERR_EXCERPT)}" if text else ""


def status_error(name: str, invocation: Mapping[str, Any], timeout: float | None = None) -> HostError | None:
    """The HostError for an invocation that ended without running the script to its end; None when
    it ran (Success, or Failed with the script's own exit code: the frame says)."""
    status = str(invocation.get("Status") or "")
    details = str(invocation.get("StatusDetails") or status)
    if status == "Success" or (status == "Failed" and details == "Failed"):
        return None
    after = f" after {timeout:.0f} s" if timeout else ""
    known: dict[str, tuple[str, str]] = {
        "ExecutionTimedOut": (f"the command ran too long on {name}{after} and SSM stopped it",
                              "Raise the timeout (--timeout), or look at what is slow on the instance."),
        "DeliveryTimedOut": (f"{name} did not pick up the command in time: its SSM agent is offline or "
                             "cannot reach the Systems Manager endpoints",
                             "Check `aws ssm describe-instance-information` (PingStatus Online), the agent "
                             "(systemctl status amazon-ssm-agent) and the instance's route to ssm/ssmmessages/"
                             "ec2messages."),
        "Undeliverable": (f"SSM could not deliver the command to {name}: the instance does not exist, is "
                          "not a managed instance, or was terminated",
                          "Check the id and region; the instance needs the SSM agent and an instance profile "
                          "with AmazonSSMManagedInstanceCore."),
        "Terminated": (f"{name} was stopped or terminated while the command ran",
                       "Start the instance and run a2c again."),
        "InvalidPlatform": (f"{name} is not a Linux instance: AWS-RunShellScript runs only on Linux",
                            "Read Windows servers locally (run a2c on them) or leave them out of the selection."),
        "AccessDenied": (f"SSM refused to run the command on {name} for this identity (AccessDenied)",
                         "Grant ssm:SendCommand on the instance and on the AWS-RunShellScript document "
                         "(the README lists a2c's IAM policy)."),
        "Cancelled": (f"the command on {name} was cancelled", "Run a2c again; someone or something "
                      "(a2c after its timeout, MaxErrors reached) cancelled it."),
        "Canceled": (f"the command on {name} was cancelled", "Run a2c again; someone or something "
                     "(a2c after its timeout, MaxErrors reached) cancelled it."),
    }
    if details in known:
        message, hint = known[details]
        return HostError(message + _stderr(invocation), hint)
    if status == "TimedOut":
        message, hint = known["ExecutionTimedOut"]
        return HostError(message + _stderr(invocation), hint)
    if status == "Cancelled":
        message, hint = known["Cancelled"]
        return HostError(message, hint)
    return HostError(f"the command on {name} ended with status {status} ({details}){_stderr(invocation)}",
                     "See the command in the Systems Manager console (Run Command history).")


def interpret_invocation(invocation: Mapping[str, Any], nonce: str, *, name: str, limit: int = DEFAULT_LIMIT,
                         fetch_s3: Callable[[], str] | None = None, timeout: float | None = None) -> bytes:
    """The script's stdout from a terminal GetCommandInvocation answer, or the HostError saying why not.
    ``fetch_s3`` reads the full output object when the inline text was cut (None: no bucket)."""
    failure = status_error(name, invocation, timeout)
    if failure is not None:
        raise failure
    text = str(invocation.get("StandardOutputContent") or "")
    try:
        frame = decode_frame(text, nonce, limit=limit)
    except FrameIncomplete as cut:
        if fetch_s3 is None:
            size = f"{cut.size} bytes of output" if cut.size is not None else "the output"
            raise HostError(f"{size} from {name} did not fit in what GetCommandInvocation returns "
                            f"({INLINE_OUTPUT_CHARS:,} characters) and no S3 bucket was set",
                            "Set an S3 bucket for the output: `a2c init --s3-bucket BUCKET` (or --bucket); the "
                            "instance role needs s3:PutObject on it.") from None
        frame = decode_frame(fetch_s3(), nonce, limit=limit)
        if frame is None:
            raise HostError(f"the S3 output object of {name} holds no a2c output",
                            "Check that nothing else writes under a2c's key prefix in the bucket.") from None
    if frame is None:
        code = invocation.get("ResponseCode")
        if str(invocation.get("Status")) == "Failed":
            raise HostError(f"the a2c wrapper failed on {name} (exit {code}){_stderr(invocation)}",
                            "Check that /bin/sh, mktemp and base64 exist there and /tmp is writable.")
        raise HostError(f"{name} answered without a2c's framed output (nothing ran the wrapper)",
                        "Check that the instance runs the SSM agent's aws:runShellScript plugin.")
    if frame.over_limit:
        raise HostError(f"the output of a command on {name} passed the limit of {limit} bytes",
                        "The host printed more than a2c reads; it stopped there.")
    if frame.exit_code != 0:
        raise HostError(f"a command on {name} exited with status {frame.exit_code}{_stderr(invocation)}",
                        "The script's stderr on the instance is quoted above; the command id is in the "
                        "workspace log (log/a2c.log).")
    assert frame.data is not None
    return frame.data


# -- requests ---------------------------------------------------------------------------------------

def send_command_request(wrapper: str, *, instance_ids: Sequence[str] = (), targets: Sequence[Mapping[str, Any]] = (),
                         execution_timeout: float = DEFAULT_TIMEOUT, delivery_timeout: float = 60.0,
                         bucket: str = "", key_prefix: str = DEFAULT_KEY_PREFIX, max_concurrency: str = "",
                         max_errors: str = "") -> dict[str, Any]:
    """SendCommand's arguments for one run of ``wrapper``."""
    if bool(instance_ids) == bool(targets):
        raise ValueError("give instance ids or targets, not both or neither")
    request: dict[str, Any] = {
        "DocumentName": DOCUMENT,
        "Comment": "a2c: read-only inventory",
        "Parameters": {"commands": [wrapper],
                       "executionTimeout": [str(max(1, min(MAX_EXECUTION_TIMEOUT, int(execution_timeout + 0.999))))]},
        "TimeoutSeconds": max(MIN_DELIVERY_TIMEOUT, int(delivery_timeout)),
    }
    if instance_ids:
        request["InstanceIds"] = list(instance_ids)
    else:
        request["Targets"] = [{"Key": t["Key"], "Values": list(t["Values"])} for t in targets]
    if max_concurrency:
        request["MaxConcurrency"] = max_concurrency
    if max_errors:
        request["MaxErrors"] = max_errors
    if bucket:
        request["OutputS3BucketName"] = bucket
        if key_prefix:
            request["OutputS3KeyPrefix"] = key_prefix
    return request


def fleet_batches(instance_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Instance ids as SendCommand selections: up to 50 as InstanceIds; more as Targets with the
    key InstanceIds (5 targets of 50 values, 250 a command), so one command covers them."""
    ids = list(dict.fromkeys(instance_ids))
    if len(ids) <= IDS_PER_COMMAND_FIELD:
        return [{"instance_ids": ids}] if ids else []
    per_command = IDS_PER_COMMAND_FIELD * TARGETS_PER_COMMAND
    batches = []
    for start in range(0, len(ids), per_command):
        chunk = ids[start:start + per_command]
        batches.append({"targets": [{"Key": "InstanceIds", "Values": chunk[i:i + IDS_PER_COMMAND_FIELD]}
                                    for i in range(0, len(chunk), IDS_PER_COMMAND_FIELD)]})
    return batches


# -- talking to AWS ----------------------------------------------------------------------------------

_HOST_CODES = {
    "InvalidInstanceId": ("{name} is not a managed instance SSM can reach now (stopped, not registered, "
                          "or in another region/account)",
                          "Check `aws ssm describe-instance-information`; the instance needs the SSM agent "
                          "and an instance profile with AmazonSSMManagedInstanceCore."),
    "UnsupportedPlatformType": ("{name} is not a Linux instance: AWS-RunShellScript runs only on Linux",
                                "Leave Windows instances out of the selection."),
}


def _api(method: Any, name: str = "", **kwargs: Any) -> Any:
    """A boto3 call; the errors that concern one instance become HostError, the rest AWSError."""
    import botocore.exceptions as bce

    try:
        return method(**kwargs)
    except bce.ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _HOST_CODES and name:
            message, hint = _HOST_CODES[code]
            raise HostError(message.format(name=name), hint) from exc
        raise translate(exc) from exc
    except bce.BotoCoreError as exc:
        raise translate(exc) from exc


def _error_code(exc: BaseException) -> str:
    cause = exc.__cause__
    response = getattr(cause, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def saved_bucket() -> str:
    """The S3 bucket ``a2c init`` saved ("" when none)."""
    from a2c.config import load_config

    config = load_config()
    return config.s3Bucket if config is not None else ""


def read_s3_output(clients: Any, bucket: str, keys: Sequence[str], name: str, max_chars: int) -> str:
    """The first of ``keys`` that exists in ``bucket``, read at most ``max_chars`` (+1 to tell)."""
    import botocore.exceptions as bce

    s3 = clients.client("s3")
    for attempt, key in [(a, k) for a in range(len(S3_RETRY_DELAYS) + 1) for k in keys]:
        if attempt and key == keys[0]:
            time.sleep(S3_RETRY_DELAYS[attempt - 1])
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        except bce.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404", "NotFound"):
                continue
            if code in ("AccessDenied", "403"):
                raise HostError(f"cannot read the SSM output of {name} from s3://{bucket}/{key} (AccessDenied)",
                                f"Grant s3:GetObject on arn:aws:s3:::{bucket}/{key.split('/')[0]}/* to the "
                                "identity a2c uses.") from exc
            raise translate(exc) from exc
        except bce.BotoCoreError as exc:
            raise translate(exc) from exc
        try:
            data = body.read(max_chars + 1)
        finally:
            body.close()
        if len(data) > max_chars:
            raise HostError(f"the SSM output object of {name} passes {max_chars} bytes",
                            "The host printed more than a2c reads; it stopped there.")
        return data.decode("ascii", "replace")
    raise HostError(f"the output of {name} was cut in GetCommandInvocation and is not in s3://{bucket}/"
                    f"{keys[-1] if keys else ''}",
                    "Check that the instance role may s3:PutObject under the key prefix (and KMS, if the bucket "
                    "is encrypted with a key), and that the bucket is in a region the instance reaches.")


class SsmShell:
    """A Shell (a2c.hosts.shell) on one managed instance, through Run Command."""

    def __init__(self, clients: Any, instance_id: str, *, bucket: str | None = None,
                 key_prefix: str = DEFAULT_KEY_PREFIX, poll: float = 1.0, timeout: float = DEFAULT_TIMEOUT,
                 delivery_timeout: float = 60.0, sleep: Callable[[float], None] = time.sleep) -> None:
        if not re.fullmatch(r"(i|mi)-[0-9a-f]{8,32}", instance_id):
            raise HostError(f"{instance_id!r} is not an instance id (i-… or mi-…)",
                            "Give an EC2 instance id or a hybrid managed instance id.")
        self.clients = clients
        self.instance_id = instance_id
        self.bucket = saved_bucket() if bucket is None else bucket
        self.key_prefix = key_prefix
        self.poll = poll
        self.timeout = timeout
        self.delivery_timeout = delivery_timeout
        self._sleep = sleep
        region = getattr(clients, "region", "") or ""
        self.name = f"{instance_id} (SSM{' ' + region if region else ''})"
        self._ssm = clients.client("ssm")

    def run(self, script: str, *, stdin: bytes | None = None, timeout: float | None = None,
            limit: int = DEFAULT_LIMIT) -> bytes:
        timeout = self.timeout if timeout is None else timeout
        nonce = new_nonce()
        wrapper = build_wrapper(script, stdin, nonce=nonce, limit=limit)
        request = send_command_request(wrapper, instance_ids=[self.instance_id], execution_timeout=timeout,
                                       delivery_timeout=self.delivery_timeout, bucket=self.bucket,
                                       key_prefix=self.key_prefix)
        command_id = _api(self._ssm.send_command, self.name, **request)["Command"]["CommandId"]
        log.debug("SSM command %s on %s (%d characters)", command_id, self.instance_id, len(wrapper))
        invocation = self._wait(command_id, time.monotonic() + self.delivery_timeout + timeout + 30, timeout)
        return interpret_invocation(invocation, nonce, name=self.name, limit=limit, timeout=timeout,
                                    fetch_s3=self._s3_reader(command_id, invocation, limit))

    def open(self, path: str) -> None:
        """Run Command has no ranged reads: CommandHost reads files with dd through run()."""
        return None

    def close(self) -> None:
        """Nothing stays open: each run is its own command."""

    def _wait(self, command_id: str, deadline: float, timeout: float) -> dict[str, Any]:
        interval = self.poll
        while True:
            self._sleep(interval)
            try:
                invocation = _api(self._ssm.get_command_invocation, self.name, CommandId=command_id,
                                  InstanceId=self.instance_id)
            except AWSError as exc:
                if _error_code(exc) != "InvocationDoesNotExist":  # not listed yet, right after SendCommand
                    raise
                invocation = {"Status": "Pending"}
            if invocation.get("Status") in TERMINAL:
                return dict(invocation)
            if time.monotonic() > deadline:
                _cancel(self._ssm, command_id, [self.instance_id])
                raise HostError(f"no answer from {self.name} within {timeout:.0f} s (SSM status "
                                f"{invocation.get('StatusDetails') or invocation.get('Status')})",
                                "Raise the timeout (--timeout), or check the instance's agent.")
            interval = min(POLL_MAX, interval * 1.5)

    def _s3_reader(self, command_id: str, invocation: Mapping[str, Any], limit: int) -> Callable[[], str] | None:
        if not self.bucket:
            return None
        keys = output_keys(self.key_prefix, command_id, self.instance_id,
                           str(invocation.get("StandardOutputUrl") or ""), self.bucket)
        return lambda: read_s3_output(self.clients, self.bucket, keys, self.name, max_encoded_chars(limit))


def _cancel(ssm: Any, command_id: str, instance_ids: Sequence[str] = ()) -> None:
    """Best effort: a2c stops waiting, so the command should stop too."""
    try:
        kwargs: dict[str, Any] = {"CommandId": command_id}
        if instance_ids:
            kwargs["InstanceIds"] = list(instance_ids)
        _api(ssm.cancel_command, **kwargs)
    except A2CError:
        pass


# -- many instances at once -----------------------------------------------------------------------------

def ssm_fleet_scan(clients: Any, selection: Sequence[str] | Sequence[Mapping[str, Any]], script: str, *,
                   max_concurrency: str = "10%", max_errors: str = "10%", bucket: str | None = None,
                   key_prefix: str = DEFAULT_KEY_PREFIX, timeout: float = DEFAULT_TIMEOUT,
                   deadline: float | None = None, poll: float = 2.0, limit: int = DEFAULT_LIMIT,
                   sleep: Callable[[float], None] = time.sleep) -> dict[str, bytes | HostError]:
    """Run ``script`` on many instances with one SendCommand (one per 250 ids) and SSM's own
    MaxConcurrency and MaxErrors; each instance's stdout, or the HostError saying why not.

    ``selection`` is instance ids or SSM Targets (``{"Key": "tag:Role", "Values": ["web"]}``,
    ``resource-groups:Name``); ``timeout`` bounds one instance's run, ``deadline`` the whole
    command (default: enough for every concurrency wave to take ``timeout``)."""
    bucket = saved_bucket() if bucket is None else bucket
    nonce = new_nonce()
    wrapper = build_wrapper(script, None, nonce=nonce, limit=limit)
    ssm = clients.client("ssm")
    region = getattr(clients, "region", "") or ""
    if selection and all(isinstance(s, str) for s in selection):
        batches = fleet_batches([str(s) for s in selection])
        expected = set(str(s) for s in selection)
    else:
        batches = [{"targets": [dict(t) for t in selection if not isinstance(t, str)]}] if selection else []
        expected = set()
    if deadline is None:
        deadline = timeout * 10 + 120  # ten waves at 10% concurrency
    commands = []
    results: dict[str, bytes | HostError] = {}
    for batch in batches:
        request = send_command_request(wrapper, instance_ids=batch.get("instance_ids", ()),
                                       targets=batch.get("targets", ()), execution_timeout=timeout,
                                       delivery_timeout=deadline, bucket=bucket, key_prefix=key_prefix,
                                       max_concurrency=max_concurrency, max_errors=max_errors)
        try:
            commands.append(_api(ssm.send_command, **request)["Command"]["CommandId"])
        except A2CError as exc:
            if not expected or not commands:
                raise  # nothing sent yet, or targets: the whole scan failed
            for target in batch["targets"]:  # a later batch of ids: those fail, the sent ones go on
                for instance_id in target["Values"]:
                    results[instance_id] = HostError(exc.message, exc.hint)
            continue
        log.debug("SSM fleet command %s: %s", commands[-1],
                  request.get("Targets") or f"{len(request['InstanceIds'])} instances")
    stop_at = time.monotonic() + deadline + 30
    for command_id in commands:
        results.update(_follow(clients, ssm, command_id, nonce, region=region, bucket=bucket, key_prefix=key_prefix,
                               limit=limit, timeout=timeout, stop_at=stop_at, poll=poll, sleep=sleep))
    for instance_id in sorted(expected - set(results)):
        results[instance_id] = HostError(f"SSM did not run the command on {instance_id}",
                                         "Check that it is an Online managed instance (a2c lists the selection "
                                         "with why each instance cannot be used).")
    return results


def _follow(clients: Any, ssm: Any, command_id: str, nonce: str, *, region: str, bucket: str, key_prefix: str,
            limit: int, timeout: float, stop_at: float, poll: float,
            sleep: Callable[[float], None]) -> dict[str, bytes | HostError]:
    """Poll one command's invocations until the command and each of them ended; decode each once."""
    results: dict[str, bytes | HostError] = {}
    interval = poll
    while True:
        sleep(interval)
        command_status = _command_status(ssm, command_id)
        listed_all = _invocations(ssm, command_id)
        for listed in listed_all:
            instance_id = str(listed.get("InstanceId"))
            if instance_id in results or listed.get("Status") not in TERMINAL:
                continue
            name = f"{instance_id} (SSM{' ' + region if region else ''})"
            result = _fetch_result(clients, ssm, command_id, instance_id, name, nonce, listed,
                                   bucket=bucket, key_prefix=key_prefix, limit=limit, timeout=timeout)
            if result is not None:
                results[instance_id] = result
        still_open = [i for i in listed_all if str(i.get("InstanceId")) not in results]
        if command_status in TERMINAL:
            for listed in still_open:
                if listed.get("Status") in TERMINAL:
                    continue  # ended, but GetCommandInvocation does not say so yet
                instance_id = str(listed.get("InstanceId"))  # the command ended (MaxErrors, cancelled) first
                results[instance_id] = HostError(
                    f"the command ended ({command_status}) before it ran on {instance_id} (SSM status "
                    f"{listed.get('StatusDetails') or listed.get('Status')})",
                    "MaxErrors may have been reached: look at the other instances' errors, then run a2c again.")
            still_open = [i for i in still_open if str(i.get("InstanceId")) not in results]
            if not still_open:
                return results
        if time.monotonic() > stop_at:
            _cancel(ssm, command_id)
            for listed in still_open:
                instance_id = str(listed.get("InstanceId"))
                results[instance_id] = HostError(
                    f"no answer from {instance_id} before the fleet deadline (SSM status "
                    f"{listed.get('StatusDetails') or listed.get('Status')})",
                    "Raise the timeout or MaxConcurrency, or scan fewer instances at once.")
            return results
        interval = min(POLL_MAX, interval * 1.5)


def _fetch_result(clients: Any, ssm: Any, command_id: str, instance_id: str, name: str, nonce: str,
                  listed: Mapping[str, Any], *, bucket: str, key_prefix: str, limit: int,
                  timeout: float) -> bytes | HostError | None:
    """One instance's result once GetCommandInvocation agrees it ended (None: not yet, ask again)."""
    try:
        invocation = _api(ssm.get_command_invocation, name, CommandId=command_id, InstanceId=instance_id)
    except AWSError as exc:
        if _error_code(exc) != "InvocationDoesNotExist":
            return HostError(exc.message, exc.hint)
        invocation = dict(listed)  # never started (MaxErrors reached, undeliverable): the listing says why
    if invocation.get("Status") not in TERMINAL:
        return None  # the listing ran ahead of GetCommandInvocation
    fetch = None
    if bucket:
        keys = output_keys(key_prefix, command_id, instance_id, str(invocation.get("StandardOutputUrl") or ""), bucket)
        fetch = lambda: read_s3_output(clients, bucket, keys, name, max_encoded_chars(limit))  # noqa: E731
    try:
        return interpret_invocation(invocation, nonce, name=name, limit=limit, fetch_s3=fetch, timeout=timeout)
    except HostError as exc:
        return exc


def _command_status(ssm: Any, command_id: str) -> str:
    commands = _api(ssm.list_commands, CommandId=command_id).get("Commands") or []
    return str(commands[0].get("Status")) if commands else "Pending"


def _invocations(ssm: Any, command_id: str) -> list[dict[str, Any]]:
    """Every invocation of a command (ListCommandInvocations, 50 a page, without plugin output)."""
    found: list[dict[str, Any]] = []
    token = ""
    while True:
        kwargs: dict[str, Any] = {"CommandId": command_id, "MaxResults": 50}
        if token:
            kwargs["NextToken"] = token
        page = _api(ssm.list_command_invocations, **kwargs)
        found.extend(page.get("CommandInvocations") or [])
        token = page.get("NextToken") or ""
        if not token:
            return found


# -- which instances ------------------------------------------------------------------------------------

REASONS = {
    "ConnectionLost": "its SSM agent has not reported for a while (PingStatus ConnectionLost): the instance is "
                      "stopped, or the agent lost its way to the Systems Manager endpoints",
    "Inactive": "its registration is inactive (PingStatus Inactive): a terminated instance or an expired "
                "hybrid activation",
}


def parse_tag(tag: str | tuple[str, str]) -> tuple[str, str | None]:
    """``"Key=Value"`` or ``("Key", "Value")`` -> (key, value); ``"Key"`` alone -> (key, None): any value."""
    if isinstance(tag, tuple):
        return tag[0], tag[1]
    key, sep, value = tag.partition("=")
    if not key:
        raise HostError(f"{tag!r} is not a tag (Key=Value or Key)", "Write --tag Role=web, or --tag Role.")
    return key, (value if sep else None)


def tag_filters(tags: Iterable[str | tuple[str, str]]) -> list[dict[str, Any]]:
    """DescribeInstanceInformation filters that AND the tags (as SSM's own tag targets do)."""
    filters = []
    for tag in tags:
        key, value = parse_tag(tag)
        filters.append({"Key": "tag-key", "Values": [key]} if value is None else
                       {"Key": f"tag:{key}", "Values": [value]})
    return filters


def describe_instances(ssm: Any, filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    token = ""
    while True:
        kwargs: dict[str, Any] = {"Filters": filters, "MaxResults": 50}
        if token:
            kwargs["NextToken"] = token
        page = _api(ssm.describe_instance_information, **kwargs)
        found.extend(page.get("InstanceInformationList") or [])
        token = page.get("NextToken") or ""
        if not token:
            return found


def group_instance_ids(clients: Any, group: str) -> list[str]:
    """The EC2 and hybrid managed instances in a resource group (ListGroupResources)."""
    rg = clients.client("resource-groups")
    ids: list[str] = []
    token = ""
    while True:
        kwargs: dict[str, Any] = {"Group": group, "MaxResults": 50,
                                  "Filters": [{"Name": "resource-type",
                                               "Values": ["AWS::EC2::Instance", "AWS::SSM::ManagedInstance"]}]}
        if token:
            kwargs["NextToken"] = token
        page = _api(rg.list_group_resources, **kwargs)
        for item in page.get("Resources") or [{"Identifier": i} for i in page.get("ResourceIdentifiers") or []]:
            arn = str((item.get("Identifier") or {}).get("ResourceArn") or "")
            if arn:
                ids.append(arn.rsplit("/", 1)[-1])
        token = page.get("NextToken") or ""
        if not token:
            return list(dict.fromkeys(ids))


def describe_selected(record: Mapping[str, Any], selected_by: Sequence[str]) -> dict[str, Any]:
    """One managed instance as a2c reports it, with whether it can be read and why not."""
    ping = str(record.get("PingStatus") or "")
    platform = str(record.get("PlatformType") or "")
    reason = ""
    if ping != "Online":
        reason = REASONS.get(ping, f"PingStatus {ping or 'unknown'}")
    elif platform != "Linux":
        reason = f"{platform or 'unknown'} platform: AWS-RunShellScript runs only on Linux"
    return {"instanceId": str(record.get("InstanceId")), "computerName": str(record.get("ComputerName") or ""),
            "ipAddress": str(record.get("IPAddress") or ""), "platformType": platform,
            "platformName": str(record.get("PlatformName") or ""), "pingStatus": ping,
            "agentVersion": str(record.get("AgentVersion") or ""),
            "resourceType": str(record.get("ResourceType") or ""),
            "usable": not reason, "reason": reason, "selectedBy": sorted(set(selected_by))}


def not_managed(instance_id: str, selected_by: Sequence[str]) -> dict[str, Any]:
    return {"instanceId": instance_id, "computerName": "", "ipAddress": "", "platformType": "", "platformName": "",
            "pingStatus": "", "agentVersion": "", "resourceType": "", "usable": False,
            "reason": "Systems Manager has no record of it: no SSM agent running, no instance profile with "
                      "AmazonSSMManagedInstanceCore, or another region or account",
            "selectedBy": sorted(set(selected_by))}


def select_instances(clients: Any, instance_ids: Sequence[str] = (), tags: Sequence[str | tuple[str, str]] = (),
                     resource_groups: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Managed instances chosen by id, by tags (all of them) and by resource group, each once, sorted
    by id; ``usable`` is true for Online Linux instances, ``reason`` says why the others are not."""
    ssm = clients.client("ssm")
    wanted: dict[str, list[str]] = {}
    for instance_id in instance_ids:
        wanted.setdefault(instance_id, []).append("id")
    for group in resource_groups:
        for instance_id in group_instance_ids(clients, group):
            wanted.setdefault(instance_id, []).append(f"resource-group:{group}")
    records: dict[str, dict[str, Any]] = {}
    ids = list(wanted)
    for start in range(0, len(ids), IDS_PER_COMMAND_FIELD):
        for record in describe_instances(ssm, [{"Key": "InstanceIds",
                                                "Values": ids[start:start + IDS_PER_COMMAND_FIELD]}]):
            records[str(record.get("InstanceId"))] = record
    if tags:
        label = "tags:" + ",".join(f"{k}={v}" if v is not None else k for k, v in map(parse_tag, tags))
        for record in describe_instances(ssm, tag_filters(tags)):
            instance_id = str(record.get("InstanceId"))
            records[instance_id] = record
            wanted.setdefault(instance_id, []).append(label)
    return [describe_selected(records[i], wanted[i]) if i in records else not_managed(i, wanted[i])
            for i in sorted(wanted)]
