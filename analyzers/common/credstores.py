"""Credential stores: files and folders that never go into an image or an extraction archive.

a2c runs as root on production servers. Whatever it copies ends up in an image layer that
anyone who can pull the image reads, so a copied credential store hands the server's keys to
them: its SSH host keys, users' SSH keys, password hashes, cloud and registry credentials,
Kubernetes admin configs, Kerberos keytabs, database password files, shell histories with typed
passwords. This module is the one list of what an attacker would loot from a server; process
mode consults it before it adds a path (and excludes the stores inside a folder it takes
whole), and the build context writer refuses every path it matches whatever the plan says.

Four kinds of rule:

- locations on the system (``/etc/ssh``, ``/etc/shadow``, ``/etc/ssl/private``, …), with all
  they hold;
- names that are a credential store wherever they are (``.ssh``, ``.aws``, ``.pgpass``,
  ``.git-credentials``, ``*.keytab``, …), with all they hold;
- paths that are one wherever they are (``.m2/settings-security.xml``, ``.config/gcloud``, …);
- private key material by name (``id_rsa*``, ``*.pem``, ``*.key``, ``*.p12``, ``*.jks``, …) under
  ``/etc`` or a home folder, outside the public trust stores (``/etc/ssl/certs``, …).

Keystores the application names itself (``-Djavax.net.ssl.keyStore=…``, ``server.ssl.key-store``)
are decided by where they are, not by who names them: under ``/etc`` or a home folder they are
the server's or a user's keys and stay out (the container gets them at run time, mounted from a
secret store at the same path); inside an application folder (``/opt/app/conf/tls.p12``) they
were deployed with the application, so they are copied, and process mode reports each one so
the user can exclude it and mount it instead. Either way there is a finding.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re

from a2c.hosts.base import is_within

# Locations on the system, each with the reason it is kept out.
SYSTEM_STORES: dict[str, str] = {
    "/etc/ssh": "the server's SSH host keys",
    "/etc/shadow": "password hashes",
    "/etc/shadow-": "password hashes (backup)",
    "/etc/gshadow": "group password hashes",
    "/etc/gshadow-": "group password hashes (backup)",
    "/etc/security/opasswd": "old password hashes",
    "/etc/sudoers": "sudo rules",
    "/etc/sudoers.d": "sudo rules",
    "/etc/ssl/private": "TLS private keys",
    "/etc/pki/tls/private": "TLS private keys",
    "/etc/pki/CA/private": "a CA's private keys",
    "/etc/letsencrypt": "TLS private keys (Let's Encrypt)",
    "/etc/krb5.keytab": "Kerberos keys",
    "/etc/kubernetes": "Kubernetes admin configs and cluster keys",
    "/var/lib/kubelet/pki": "Kubernetes node keys",
    "/etc/rancher": "Kubernetes (k3s) admin config",
    "/var/lib/rancher/k3s/server": "Kubernetes (k3s) cluster keys and token",
    "/etc/wireguard": "VPN keys",
    "/etc/openvpn": "VPN keys",
    "/etc/ipsec.secrets": "VPN keys",
    "/etc/ipsec.d/private": "VPN keys",
    "/etc/ppp/chap-secrets": "dial-up passwords",
    "/etc/ppp/pap-secrets": "dial-up passwords",
    "/etc/NetworkManager/system-connections": "network passwords",
    "/etc/mysql/debian.cnf": "the MySQL maintenance password",
    "/etc/sssd": "directory service bind passwords",
    "/etc/ldap.secret": "LDAP bind password",
    "/etc/libnss-ldap.secret": "LDAP bind password",
    "/etc/pam_ldap.secret": "LDAP bind password",
    "/etc/samba/smbpasswd": "Samba password hashes",
    "/var/lib/samba/private": "Samba password hashes",
    "/etc/postfix/sasl_passwd": "mail relay passwords",
    "/etc/docker/key.json": "the Docker engine's key",
    "/etc/boto.cfg": "cloud credentials",
    "/var/backups": "backups of password hashes",
    "/var/lib/cloud": "cloud-init user data (often holds secrets)",
    "/var/lib/waagent": "Azure provisioning data (holds passwords)",
}

# Names that are a credential store wherever they appear as a path component.
NAME_STORES: dict[str, str] = {
    ".ssh": "SSH keys",
    ".gnupg": "GnuPG keys",
    ".aws": "AWS credentials",
    ".azure": "Azure credentials",
    ".oci": "Oracle Cloud credentials",
    ".docker": "container registry credentials",
    ".dockercfg": "container registry credentials",
    ".kube": "Kubernetes credentials",
    "*.kubeconfig": "Kubernetes credentials",
    ".pgpass": "PostgreSQL passwords",
    ".my.cnf": "MySQL passwords",
    ".netrc": "network passwords",
    "_netrc": "network passwords",
    ".git-credentials": "git credentials",
    ".npmrc": "npm registry tokens",
    ".pypirc": "PyPI tokens",
    ".vault-token": "a Vault token",
    ".boto": "cloud credentials",
    ".s3cfg": "S3 credentials",
    ".smbcredentials": "file share passwords",
    ".password-store": "a password store",
    ".*_history": "a shell or client history (typed passwords)",
    ".history": "a shell history (typed passwords)",
    "ssh_host_*key": "an SSH host key",
    "krb5cc_*": "a Kerberos ticket cache",
    "*.keytab": "Kerberos keys",
}

# Paths that are a credential store wherever they end a path (component by component).
PATH_STORES: dict[str, str] = {
    ".m2/settings-security.xml": "the Maven master password",
    ".m2/settings.xml": "Maven repository passwords",
    ".gradle/gradle.properties": "Gradle repository credentials",
    ".ivy2/.credentials": "Ivy repository credentials",
    ".sbt/.credentials": "sbt repository credentials",
    ".config/gcloud": "Google Cloud credentials",
    ".config/gh": "GitHub tokens",
    ".config/hub": "GitHub tokens",
    ".config/containers/auth.json": "container registry credentials",
    ".config/rclone": "cloud storage credentials",
    ".config/composer/auth.json": "Composer credentials",
    ".composer/auth.json": "Composer credentials",
    ".cargo/credentials": "Cargo registry tokens",
    ".cargo/credentials.toml": "Cargo registry tokens",
    ".gem/credentials": "RubyGems tokens",
    ".terraform.d/credentials.tfrc.json": "Terraform tokens",
    ".local/share/keyrings": "a desktop keyring",
}

# Private key material, a credential store under /etc or a home folder.
KEY_NAMES = ("id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", "*.pem", "*.key", "*.p12", "*.pfx", "*.jks",
             "*.jceks", "*.bcfks", "*.keystore", "*.ppk", "*.kdb", "*.sth")
# Public trust stores under /etc: certificates only, which the runtime may need (Java's cacerts).
TRUST_STORES = ("/etc/ssl/certs", "/etc/pki/ca-trust", "/etc/pki/tls/certs", "/etc/ca-certificates",
                "/etc/pki/java")
HOME_ROOTS = ("/root", "/home")  # the folders users' homes are in (/root is root's own)


def _component(pattern: str) -> str:
    """A shell pattern (only ``*`` is used here) as a regular expression for one path component."""
    return "[^/]*".join(re.escape(piece) for piece in pattern.split("*"))


# One search over the whole path finds any component that is a store by its name.
_NAME_SEARCH = re.compile("/(" + "|".join(_component(p) for p in NAME_STORES) + r")(?=/|\Z)")
_SYSTEM_MATCH = re.compile("(" + "|".join(re.escape(p) for p in sorted(SYSTEM_STORES, key=len)) + r")(?=/|\Z)")
_PATH_SEARCH = re.compile("/(" + "|".join(re.escape(p) for p in PATH_STORES) + r")(?=/|\Z)")
_KEY_MATCH = re.compile("(?:" + "|".join(_component(p) for p in KEY_NAMES) + r")\Z")


def credential_store_reason(path: str) -> str | None:
    """Why ``path`` (an absolute path on the host) is or lies in a credential store, else None.

    Called for every file the build context streams, so it is a handful of regular expressions."""
    path = posixpath.normpath("/" + path.lstrip("/"))
    match = _SYSTEM_MATCH.match(path)
    if match:
        return f"{SYSTEM_STORES[match.group(1)]} ({match.group(1)})"
    match = _NAME_SEARCH.search(path)
    if match:
        part = match.group(1)
        why = next((w for p, w in NAME_STORES.items() if fnmatch.fnmatchcase(part, p)), "a credential store")
        return f"{why} ({part})"
    match = _PATH_SEARCH.search(path)
    if match:
        return f"{PATH_STORES[match.group(1)]} ({match.group(1)})"
    if is_key_material(path) and in_home_or_etc(path):
        return "private key material under /etc or a home folder"
    return None


def is_credential_store(path: str) -> bool:
    return credential_store_reason(path) is not None


def is_key_material(path: str) -> bool:
    """Whether the file's name is one private keys and keystores are stored under."""
    return _KEY_MATCH.match(posixpath.basename(path)) is not None


def in_home_or_etc(path: str) -> bool:
    if any(is_within(path, trusted) for trusted in TRUST_STORES):
        return False
    return is_within(path, "/etc") or any(is_within(path, home) and path != home for home in HOME_ROOTS) \
        or path == "/root"


def exclude_names() -> tuple[str, ...]:
    """Name patterns for a copy's ``exclude_names``: the stores that are one wherever they are."""
    return tuple(NAME_STORES)


def system_stores_within(folder: str) -> list[str]:
    """The system locations that lie inside ``folder`` (for a copy's ``excludes``)."""
    return [store for store in SYSTEM_STORES if is_within(store, folder)]


__all__ = ["credential_store_reason", "is_credential_store", "is_key_material", "in_home_or_etc",
           "exclude_names", "system_stores_within", "SYSTEM_STORES", "NAME_STORES", "PATH_STORES", "KEY_NAMES"]
