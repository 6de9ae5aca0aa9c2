#!/usr/bin/env bash
# The image of the fleet tests' hosts: the tests' JRE image plus openssh-server, so that one
# container is one real host (its own sshd, processes, /proc, sockets and files).
# Nothing can be pulled or installed from inside a container here, so it is built the way the
# base image is: export the JRE image's file system into a folder, install openssh-server there
# in a chroot (apt's registry is reachable from the machine), and import the result.
# No host keys are kept in the image: every container gets its own at start
# (tests/integration/fleet_hosts.py). Idempotent: a second run only checks that the image exists.
#
#     bash scripts/sshd_image.sh        (as root, after scripts/setup.sh built the JRE image)
set -euo pipefail
SETUP_NAME=sshd-image
# shellcheck source=scripts/setup-lib.sh
source "$(dirname "$0")/setup-lib.sh"
export DEBIAN_FRONTEND=noninteractive

SSHD_IMAGE=${A2C_TEST_SSHD_IMAGE:-a2c-test/sshd-jre:latest}
JRE_IMAGE=${A2C_TEST_JRE_IMAGE:-a2c-test/jre17:latest}

container=""
cleanup() {
    if [ -n "$container" ]; then docker rm -f "$container" >/dev/null 2>&1 || true; fi
    cleanup_rootfs
}
trap cleanup EXIT

build_sshd_image() {
    docker image inspect "$SSHD_IMAGE" >/dev/null 2>&1 && return 0
    docker image inspect "$JRE_IMAGE" >/dev/null 2>&1 \
        || { echo "$SETUP_NAME: no $JRE_IMAGE; run scripts/setup.sh first" >&2; return 1; }
    local rootfs env_lines line
    rootfs=$(mktemp -d /var/tmp/a2c-sshd.XXXXXX)
    tmpdirs+=("$rootfs")
    container=$(docker create "$JRE_IMAGE" /bin/true)
    docker export "$container" | tar --numeric-owner -C "$rootfs" -x
    docker rm "$container" >/dev/null
    container=""
    # Docker leaves its own (empty) resolv.conf in an exported file system: apt needs the machine's.
    cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
    # openssh-server's postinst must not start a daemon in the chroot.
    printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
    chmod +x "$rootfs/usr/sbin/policy-rc.d"
    mount -t proc proc "$rootfs/proc"
    logged /var/log/a2c-sshd-image.log chroot "$rootfs" sh -c \
        'apt-get -q update && apt-get -q -y install --no-install-recommends openssh-server'
    umount "$rootfs/proc"
    rm -f "$rootfs/usr/sbin/policy-rc.d"
    : >"$rootfs/etc/resolv.conf"
    # The postinst made host keys: two containers of one image must never share them.
    rm -f "$rootfs"/etc/ssh/ssh_host_*
    mkdir -p "$rootfs/run/sshd"
    chmod 0755 "$rootfs/run/sshd"
    strip_rootfs "$rootfs"
    # Keep the JRE image's environment (JAVA_HOME, PATH, LANG).
    env_lines=()
    while IFS= read -r line; do
        [ -z "$line" ] || env_lines+=(-c "ENV $line")
    done < <(docker image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$JRE_IMAGE")
    tar --numeric-owner -C "$rootfs" -c . | docker import "${env_lines[@]}" \
        -c 'EXPOSE 22' -c 'CMD ["/usr/sbin/sshd", "-D", "-e"]' - "$SSHD_IMAGE" >/dev/null
    echo "$SETUP_NAME: built $SSHD_IMAGE from $JRE_IMAGE"
}

[ "$(id -u)" = 0 ] || { echo "sshd_image.sh must run as root (chroot, mount)" >&2; exit 1; }
step sshd-jre-image build_sshd_image
