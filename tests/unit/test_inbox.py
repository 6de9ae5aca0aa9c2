"""File-drop evidence (analyzers/common/inbox.py) and the workload kind every analysis gets
(analyzers/common/workload.py), on the real local host: folders named as inboxes, files open
for reading, files moved away between two looks (the ``sleep`` between looks is where the test
plays the poller), and the kind each combination gives."""

from __future__ import annotations

import os

from a2c.analyzers.common import inbox
from a2c.analyzers.common.workload import workload_facts
from a2c.hosts.local import LocalHost
from a2c.model import ProcessInfo, Socket


def test_folders_named_as_inboxes():
    cmdline = ["java", "-Dinbox.dir=/srv/inbox", "-Dlog.dir=/var/log/app", "--input-folder=/data/in",
               "-Dapp.work.path=/data/incoming", "/data/spool", "/data/other"]
    found = {c.path: c.evidence for c in inbox.from_command_line(cmdline)}
    assert found == {"/srv/inbox": ["named on the command line (inbox.dir)"],
                     "/data/in": ["named on the command line (input-folder)"],
                     "/data/incoming": ["named on the command line (app.work.path)"],
                     "/data/spool": ["named on the command line"]}
    settings = {"Watch:Folder": "/srv/drop", "app.output.dir": "/srv/out", "app.home": "/srv/inbox-app",
                "spring.datasource.url": "jdbc:h2:/srv/db"}
    assert [c.path for c in inbox.named_folders(settings, "/app/appsettings.json")] == ["/srv/drop"]
    assert inbox.named_folders({"inbox.dir": "relative/inbox"}, "x") == []


def test_merge_keeps_each_folder_once_with_all_its_evidence():
    merged = inbox.merge([inbox.from_command_line(["-Dinbox.dir=/srv/inbox"]),
                          inbox.named_folders({"inbox": "/srv/inbox"}, "/app/a.properties")])
    assert [(c.path, len(c.evidence)) for c in merged] == [("/srv/inbox", 2)]


def _files(folder, *names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text(name)


def test_files_moved_away_between_two_looks_are_evidence(tmp_path):
    box = tmp_path / "inbox"
    _files(box, "a.csv", "b.csv")
    (box / "done").mkdir()
    looks = []

    def poller_between_looks(seconds):
        looks.append(seconds)
        os.rename(box / "a.csv", box / "done" / "a.csv")

    candidate = inbox.Candidate(str(box), ["named on the command line (inbox.dir)"])
    (seen,) = inbox.observe(LocalHost(), [candidate], ProcessInfo(1, ("java",)), seconds=5, sleep=poller_between_looks)
    assert looks == [inbox.POLL_SECONDS]
    assert f"files moved away while a2c watched: {box}/a.csv" in seen.evidence
    assert any(e.startswith("files arrived or changed") and "done/a.csv" in e for e in seen.evidence)
    assert inbox.is_active(seen)


def test_a_quiet_folder_is_watched_for_the_window_only_and_is_not_active(tmp_path):
    box = tmp_path / "incoming"
    _files(box, "waiting.txt")
    looks = []
    (seen,) = inbox.observe(LocalHost(), [inbox.Candidate(str(box), ["named"])], ProcessInfo(1, ("java",)),
                            seconds=0.0, sleep=looks.append)
    assert looks == [] and seen.evidence == ["named"] and not inbox.is_active(seen)
    assert inbox.observe(LocalHost(), [inbox.Candidate(str(tmp_path / "absent"))], ProcessInfo(1, ()), 0) == []


def test_a_file_held_open_for_reading_is_evidence_one_open_for_writing_is_not(tmp_path):
    box = tmp_path / "drop"
    _files(box, "reading.xml", "writing.xml")
    proc = ProcessInfo(1, ("java",), open_files=(str(box / "reading.xml"), str(box / "writing.xml")),
                       written_files=(str(box / "writing.xml"),))
    (seen,) = inbox.observe(LocalHost(), [inbox.Candidate(str(box))], proc, seconds=0)
    assert seen.evidence == [f"open for reading: {box}/reading.xml"]


# -- the workload kind ---------------------------------------------------------------------------------

def _info(config, **extra):
    return {"ports": [], "processMode": {"configFiles": [str(config)]}, **extra}


def test_a_process_with_no_port_and_a_queue_is_a_worker(tmp_path):
    config = tmp_path / "application.properties"
    config.write_text("app.queue.url=http://127.0.0.1:5000/123456789012/orders\n")
    facts = workload_facts(LocalHost(), ProcessInfo(1, ("java", "Worker")), _info(config), watch_seconds=0)
    assert facts == {"kind": "worker", "queues": [
        {"type": "sqs", "name": "orders", "url": "http://127.0.0.1:5000/123456789012/orders", "endpoint": "",
         "foundIn": str(config)}]}


def test_a_listening_process_stays_a_service_with_its_queues_and_a_plain_one_gets_nothing(tmp_path):
    config = tmp_path / "application.yml"
    config.write_text("spring:\n  kafka:\n    bootstrap-servers: k:9092\n")
    info = _info(config, ports=[{"localPort": 8080, "protocol": "tcp"}])
    facts = workload_facts(LocalHost(), ProcessInfo(1, ("java",), listening=(Socket(8080),)), info, watch_seconds=0)
    assert facts["kind"] == "service" and [q["type"] for q in facts["queues"]] == ["kafka"]
    plain = tmp_path / "plain.properties"
    plain.write_text("greeting=hello\n")
    assert workload_facts(LocalHost(), ProcessInfo(1, ("java",)), _info(plain), watch_seconds=0) == {}
    incidental = _info(plain, ports=[{"localPort": 41000, "protocol": "tcp", "incidental": "ephemeral"}])
    assert workload_facts(LocalHost(), ProcessInfo(1, ("java",)), incidental, watch_seconds=0) == {}


def test_an_inbox_seen_at_work_makes_a_file_drop_processor_even_beside_a_queue(tmp_path, monkeypatch):
    box = tmp_path / "inbox"
    _files(box, "1.txt", "2.txt")
    config = tmp_path / "application.properties"
    config.write_text("app.queue.url=http://127.0.0.1:5000/123456789012/orders\n")

    def poller(seconds):
        (box / "1.txt").unlink()

    monkeypatch.setattr(inbox.time, "sleep", poller)
    proc = ProcessInfo(1, ("java", f"-Dinbox.dir={box}", "Poller"))
    facts = workload_facts(LocalHost(), proc, _info(config), watch_seconds=5)
    assert facts["kind"] == "fileDrop" and facts["inbox"]["path"] == str(box)
    assert facts["inbox"]["evidence"][0] == "named on the command line (inbox.dir)"
    assert any(e.startswith("files moved away") for e in facts["inbox"]["evidence"])
    assert [q["name"] for q in facts["queues"]] == ["orders"]


def test_a_named_inbox_that_stayed_quiet_counts_only_without_port_or_queue(tmp_path):
    box = tmp_path / "spool"
    box.mkdir()
    proc = ProcessInfo(1, ("java", f"-Dwatch.dir={box}", "Poller"))
    facts = workload_facts(LocalHost(), proc, {"ports": []}, watch_seconds=0)
    assert facts["kind"] == "fileDrop" and "no file arrived" in facts["inbox"]["evidence"][-1]
    config = tmp_path / "application.properties"
    config.write_text("spring.rabbitmq.host=rabbit\n")
    assert workload_facts(LocalHost(), proc, _info(config), watch_seconds=0)["kind"] == "worker"


def test_a_scheduled_job_keeps_its_kind_and_gains_its_queues(tmp_path):
    config = tmp_path / "application.properties"
    config.write_text("spring.activemq.broker-url=tcp://mq:61616\n")
    schedule = {"cron": "30 2 * * 1-5", "onCalendar": "", "timezone": "UTC", "user": "batch", "source": "crontab",
                "file": "/etc/cron.d/billing", "line": 3, "unit": ""}
    info = _info(config, workload={"kind": "scheduled", "schedule": schedule})
    facts = workload_facts(LocalHost(), ProcessInfo(1, ("java",)), info, watch_seconds=0)
    assert facts["kind"] == "scheduled" and facts["schedule"] == schedule
    assert facts["queues"][0]["endpoint"] == "tcp://mq:61616"
