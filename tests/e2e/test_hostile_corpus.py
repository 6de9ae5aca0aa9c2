"""The hostile corpus (fixtures/hostile/workflow/), each case through the whole workflow.

One test per case, so the output names exactly which defect is still there. The cases run once,
side by side, in a module fixture (tests/hostile_corpus.py); each test then reports its case's
crashes, leaked canaries (with where each was found) and injected commands that ran. With a
Docker engine every secret and injection case is also built, saved and started; without one
those checks are skipped locally and fail in CI (missing())."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import hostile_corpus
from tests.conftest import missing

pytestmark = [pytest.mark.slow]

CASES = hostile_corpus.load_cases_module()
NAMES = [case.name for case in CASES.all_cases()]


@pytest.fixture(scope="module")
def docker_tools():
    why = hostile_corpus.Docker.available()
    return None if why else hostile_corpus.Docker()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, docker_tools):
    return hostile_corpus.run_corpus(tmp_path_factory.mktemp("hostile-corpus"), docker_tools)


@pytest.mark.docker
def test_image_checks_have_an_engine(docker_tools):
    if docker_tools is None:
        missing("the Docker engine and the local base image", hostile_corpus.Docker.available() + "; run scripts/setup.sh")


@pytest.mark.parametrize("name", NAMES)
def test_case(corpus, name):
    result = corpus[name]
    assert not result.problems, result.report()


def test_corpus_covers_every_kind_and_canaries_are_unique():
    cases = CASES.all_cases()
    assert {c.kind for c in cases} == {"secret", "injection", "archive", "crash"}
    canaries = [canary for case in cases for canary in case.canaries]
    assert len(canaries) == len(set(canaries)) and len(canaries) >= 50
    assert len(NAMES) == len(set(NAMES))
    for case in cases:
        assert all(f"{case.number:02d}S" in canary for canary in case.canaries), case.name
        assert case.kind != "injection" or case.markers, case.name


def test_committed_cases_match_the_generator(tmp_path):
    written = CASES.main(tmp_path)
    committed = hostile_corpus.CORPUS
    for path in written:
        relative = path.relative_to(tmp_path)
        assert (committed / relative).is_file(), f"{relative} is generated but not committed"
        assert (committed / relative).read_bytes() == path.read_bytes(), f"{relative} differs from the generator"
    folders = {p.name for p in committed.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == set(NAMES)


def test_scanner_finds_canaries_in_nested_archives(tmp_path):
    """The judge itself: a canary inside a gzipped tar inside a tar is found, a marker only as a file name."""
    import gzip
    import io
    import tarfile

    inner = io.BytesIO()
    with tarfile.open(fileobj=inner, mode="w") as tar:
        data = b"password=A2CCANARY99S1DEADBEEF\n"
        info = tarfile.TarInfo("etc/app.properties")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        touched = tarfile.TarInfo("tmp/a2c-pwned-x")
        tar.addfile(touched, io.BytesIO(b""))
    outer = tmp_path / "image.tar"
    with tarfile.open(outer, "w") as tar:
        layer = gzip.compress(inner.getvalue())
        info = tarfile.TarInfo("blobs/sha256/abc")
        info.size = len(layer)
        tar.addfile(info, io.BytesIO(layer))
    scanner = hostile_corpus.Scanner(["A2CCANARY99S1DEADBEEF", "A2CCANARY99S2NOTHERE"], ["a2c-pwned-x"])
    scanner.tar(tarfile.open(outer), "image")
    kinds = sorted((p.kind, p.what) for p in scanner.problems)
    assert kinds == [("injection", "a2c-pwned-x was created (tmp/a2c-pwned-x)"), ("leak", "A2CCANARY99S1DEADBEEF")]
    scanner = hostile_corpus.Scanner([], ["a2c-pwned-x"])
    scanner.name("webapps/shop$(touch /tmp/a2c-pwned-x)", "a copied hostile name")
    assert not scanner.problems


def test_leak_figure_counts_each_canary_once():
    result = hostile_corpus.CaseResult("c", "secret", ["A", "B"], problems=[
        hostile_corpus.Problem("leak", "A", "x"), hostile_corpus.Problem("leak", "A", "y")])
    kept, planted, leaks = hostile_corpus.leak_figure([result])
    assert (kept, planted) == (1, 2) and leaks == [("c", "A", ["x", "y"])]


def test_case_json_describes_each_case():
    for name in NAMES:
        described = json.loads((hostile_corpus.CORPUS / name / "case.json").read_text())
        assert described["name"] == name and described["kind"] and described["defect"]
        assert Path(hostile_corpus.CORPUS / name / "host.json").is_file()
