"""The one list of credential stores: what an attacker would loot from a server never goes into an image."""

from __future__ import annotations

import pytest

from a2c.analyzers.common.credstores import (
    credential_store_reason,
    exclude_names,
    is_credential_store,
    system_stores_within,
)


@pytest.mark.parametrize("path", [
    "/etc/ssh", "/etc/ssh/ssh_host_rsa_key", "/etc/ssh/sshd_config", "/etc/shadow", "/etc/gshadow", "/etc/gshadow-",
    "/etc/sudoers", "/etc/sudoers.d/admins", "/etc/ssl/private/server.key", "/etc/pki/tls/private/a.key",
    "/etc/kubernetes/admin.conf", "/etc/krb5.keytab", "/var/backups/shadow.bak", "/etc/mysql/debian.cnf",
    # wherever they are
    "/home/app/.ssh/id_rsa", "/root/.ssh", "/opt/app/.ssh/authorized_keys", "/root/.aws/credentials",
    "/srv/app/.aws", "/home/u/.docker/config.json", "/home/u/.kube/config", "/home/u/.gnupg/secring.gpg",
    "/home/u/.pgpass", "/opt/app/.netrc", "/home/u/.git-credentials", "/home/u/.npmrc", "/home/u/.pypirc",
    "/home/u/.m2/settings-security.xml", "/home/u/.m2/settings.xml", "/home/u/.config/gcloud",
    "/home/u/.config/gcloud/application_default_credentials.json", "/home/u/.azure/accessTokens.json",
    "/root/.bash_history", "/opt/app/service.keytab", "/tmp/krb5cc_1000", "/opt/app/keys/ssh_host_ed25519_key",
    # key material under /etc or a home folder
    "/home/app/id_rsa", "/home/app/id_ed25519.bak", "/root/id_ecdsa", "/etc/app/server.pem", "/etc/app/tls.key",
    "/etc/tomcat9/keystore.p12", "/home/app/shop/conf/server.jks", "/root/cert.pfx", "/etc/app/app.keystore",
    # not normalised on the way in
    "//etc//ssh/", "/etc/app/../shadow", "etc/gshadow",
])
def test_credential_stores(path):
    assert is_credential_store(path), path
    assert credential_store_reason(path)


@pytest.mark.parametrize("path", [
    "/", "/etc", "/home", "/home/app", "/root", "/opt/app", "/opt/app/app.jar", "/opt/app/conf/app.properties",
    "/etc/sudoers.dx", "/etc/sshd", "/etc/app/app.conf", "/home/u/.m2/repository/org/x/x.jar",
    "/home/u/.m2", "/home/u/.config", "/opt/jboss/standalone/configuration/standalone_xml_history",
    # public trust stores, which the runtime needs
    "/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/certs/ISRG_Root_X1.pem", "/etc/ssl/certs/java/cacerts",
    "/etc/pki/ca-trust/extracted/java/cacerts",
    # key material deployed inside an application folder: the application's own (reported by process mode)
    "/opt/shop/conf/tls.p12", "/opt/tomcat/conf/keystore.jks", "/u01/domains/d/security/DemoIdentity.jks",
    "/opt/app/id_rsa.pub.txt",
])
def test_not_credential_stores(path):
    assert not is_credential_store(path), credential_store_reason(path)


def test_exclude_names_and_system_stores_within():
    assert {".ssh", ".aws", ".docker", ".kube", ".gnupg", ".pgpass", ".netrc", ".git-credentials"} <= set(exclude_names())
    assert "/etc/ssh" in system_stores_within("/etc") and "/etc/shadow" in system_stores_within("/")
    assert system_stores_within("/etc/myapp") == [] and system_stores_within("/opt/app") == []
    assert system_stores_within("/etc/ssh") == ["/etc/ssh"]
