"""The live Windows host's path mapping and fact gathering. No Windows machine runs here, so
the registry and the service manager are stand-ins with the shapes winreg and psutil return."""

from __future__ import annotations

import pytest

from a2c.hosts.windows import gather_windows_facts, to_host, to_native


@pytest.mark.parametrize("host_path, native", [
    ("/C/inetpub/wwwroot", "C:\\inetpub\\wwwroot"),
    ("/C", "C:\\"),
    ("/d/content/images", "D:\\content\\images"),
])
def test_paths_map_both_ways(host_path, native):
    assert to_native(host_path) == native
    assert to_host(native) == host_path.replace("/d/", "/D/")


def test_paths_without_a_drive_are_left_alone():
    assert to_native("/usr/share") == "/usr/share"
    assert to_host("\\\\server\\share\\x") == "//server/share/x"


class FakeRegistry:
    HKEY_LOCAL_MACHINE = "HKLM"
    keys = {
        r"SOFTWARE\Microsoft\Windows NT\CurrentVersion": {"ProductName": "Windows Server 2019 Datacenter",
                                                           "CurrentBuildNumber": "17763"},
        r"SOFTWARE\Microsoft\InetStp": {"MajorVersion": 10, "MinorVersion": 0},
    }

    def OpenKey(self, root, path):
        if path not in self.keys:
            raise OSError("no such key")
        return self.keys[path]

    def QueryValueEx(self, key, name):
        if name not in key:
            raise OSError("no such value")
        return key[name], 1

    def CloseKey(self, key):
        pass


class FakeService:
    def __init__(self, **info):
        self.info = info

    def as_dict(self):
        if self.info.get("name") == "vanished":
            raise ProcessLookupError("gone")
        return self.info


def test_facts_have_the_snapshot_shape():
    services = [FakeService(name="OrderProcessor", display_name="Order Processor",
                            binpath='"C:\\Services\\OrderProcessor\\OrderProcessor.exe" --queue orders',
                            username="NT AUTHORITY\\NetworkService", start_type="automatic", status="running", pid=4242),
                FakeService(name="vanished")]
    facts = gather_windows_facts(FakeRegistry(), lambda: services, lambda: ("2019Server", "10.0.17763", "", ""),
                                 {"SystemDrive": "C:"})
    assert facts["os"] == "Windows Server 2019 Datacenter" and facts["build"] == "17763"
    assert facts["iisVersion"] == "10.0"
    assert facts["services"] == [{"name": "OrderProcessor", "displayName": "Order Processor",
                                  "binaryPath": '"C:\\Services\\OrderProcessor\\OrderProcessor.exe" --queue orders',
                                  "startName": "NT AUTHORITY\\NetworkService", "startType": "automatic",
                                  "state": "running", "pid": 4242}]


def test_facts_without_iis():
    registry = FakeRegistry()
    registry.keys = {k: v for k, v in FakeRegistry.keys.items() if "InetStp" not in k}
    facts = gather_windows_facts(registry, lambda: [], lambda: ("2022Server", "10.0.20348", "", ""), {})
    assert "iisVersion" not in facts and facts["services"] == []
