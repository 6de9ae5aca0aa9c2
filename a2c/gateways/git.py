"""git, the one place a2c runs it: a folder committed and pushed to a remote as one commit.

Why a throwaway repository: the folder (``Artifacts/Pipeline/repository/``) is a2c's output, not
the user's clone, so a2c keeps no ``.git`` in it. Each push builds a fresh repository in a
temporary directory whose work tree is the folder, fetches the remote branch (when it exists)
so that the new commit follows it, commits the folder as it stands and pushes without force:
history on the remote is kept, and a branch that moved meanwhile makes the push fail instead of
being overwritten.

CodeCommit is reached the way AWS documents: through ``git-remote-codecommit``
(``codecommit::REGION://NAME``, signed with the standard credential chain) when that helper is
installed, else HTTPS with the AWS CLI's credential helper.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from a2c.errors import A2CError, NotSupported

AUTHOR = ("a2c", "a2c@users.noreply.invalid")


class GitError(A2CError):
    """git failed; the message holds the end of its output."""


@dataclass(frozen=True)
class Pushed:
    url: str
    branch: str
    commit: str
    files: int
    unchanged: bool = False  # the remote branch already held exactly this tree


def codecommit_remote(region: str, repository: str, profile: str | None = None,
                      which: object = shutil.which) -> tuple[str, dict[str, str]]:
    """The remote URL for a CodeCommit repository and the git config that reaches it."""
    if which("git-remote-codecommit"):  # type: ignore[operator]
        return f"codecommit::{region}://{(profile + '@') if profile else ''}{repository}", {}
    if which("aws"):  # type: ignore[operator]
        helper = "!aws" + (f" --profile {profile}" if profile else "") + " codecommit credential-helper $@"
        return (f"https://git-codecommit.{region}.amazonaws.com/v1/repos/{repository}",
                {"credential.helper": helper, "credential.UseHttpPath": "true"})
    raise NotSupported("pushing to CodeCommit needs git-remote-codecommit or the AWS CLI's credential helper",
                       "pip install git-remote-codecommit (it signs with your AWS credentials), then run again.")


def push_folder(folder: Path, url: str, branch: str, message: str, *, config: Mapping[str, str] | None = None,
                timeout: float = 600.0, environ: Mapping[str, str] | None = None) -> Pushed:
    """Commit ``folder`` as the next commit of ``branch`` at ``url`` and push it (never forced)."""
    if shutil.which("git") is None:
        raise NotSupported("git is not installed", "Install git (apt-get install git), then run again.")
    folder = folder.resolve()
    settings = dict(config or {})
    with tempfile.TemporaryDirectory(prefix="a2c-git-") as git_dir:
        env = {**(environ if environ is not None else os.environ), "GIT_DIR": git_dir, "GIT_WORK_TREE": str(folder),
               "GIT_AUTHOR_NAME": AUTHOR[0], "GIT_AUTHOR_EMAIL": AUTHOR[1],
               "GIT_COMMITTER_NAME": AUTHOR[0], "GIT_COMMITTER_EMAIL": AUTHOR[1],
               "GIT_TERMINAL_PROMPT": "0"}

        def git(*args: str, check: bool = True) -> subprocess.CompletedProcess:
            command = ["git", *(f"-c{k}={v}" for k, v in settings.items()), *args]
            try:
                done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=timeout)
            except subprocess.TimeoutExpired:
                raise GitError(f"git {args[0]} did not finish within {timeout:.0f} s ({url})",
                               "Check the network path to the repository, then run again.") from None
            if check and done.returncode != 0:
                raise GitError(f"git {args[0]} failed for {url}: {_tail(done.stderr or done.stdout)}",
                               _hint(done.stderr or done.stdout))
            return done

        git("init", "-q", "-b", branch)
        git("config", "core.autocrlf", "false")
        git("config", "core.fileMode", "true")
        git("remote", "add", "origin", url)
        fetched = git("fetch", "-q", "--depth", "1", "origin", f"refs/heads/{branch}", check=False)
        parent = ""
        if fetched.returncode == 0:
            parent = git("rev-parse", "FETCH_HEAD").stdout.strip()
            git("reset", "-q", "--soft", parent)  # the index starts from the remote's tree
        elif not _missing_branch(fetched.stderr):
            raise GitError(f"git fetch failed for {url}: {_tail(fetched.stderr)}", _hint(fetched.stderr))
        git("add", "-A", "--", ".")
        files = len([line for line in git("ls-files", "-z").stdout.split("\0") if line])
        if parent and git("diff", "--cached", "--quiet", check=False).returncode == 0:
            return Pushed(url, branch, parent, files, unchanged=True)
        git("commit", "-q", "-m", message)
        commit = git("rev-parse", "HEAD").stdout.strip()
        git("push", "-q", "origin", f"HEAD:refs/heads/{branch}")
        return Pushed(url, branch, commit, files)


def _missing_branch(stderr: str) -> bool:
    """git fetch of a branch an empty (new) repository does not have yet."""
    text = stderr.lower()
    return "couldn't find remote ref" in text or "could not find remote ref" in text


def _tail(text: str, lines: int = 6) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(kept) or "(no output)"


def _hint(text: str) -> str:
    lower = text.lower()
    if "non-fast-forward" in lower or "fetch first" in lower or "rejected" in lower:
        return "The branch moved while a2c pushed; run the command again (a2c never force-pushes)."
    if "403" in lower or "permission" in lower or "denied" in lower or "authentication" in lower:
        return ("The credentials may not push to this repository: for CodeCommit they need "
                "codecommit:GitPull and codecommit:GitPush on it.")
    return "Run the git command by hand in the folder to see more (git push -v)."
