#!/usr/bin/env bash
# Machine set-up for a2c's tests on Debian 12, as root: the Debian packages, a running
# Docker engine, and local base images (nothing can be pulled from a public registry).
# Idempotent: each step checks first, so a second run takes seconds.
set -euo pipefail
SETUP_NAME=setup
# shellcheck source=scripts/setup-lib.sh
source "$(dirname "$0")/setup-lib.sh"
shopt -s nullglob
export DEBIAN_FRONTEND=noninteractive

JRE_IMAGE=a2c-test/jre17:latest
BUSYBOX_IMAGE=a2c-test/busybox:latest
PACKAGES=(docker.io tomcat10 tomcat10-docs debootstrap docker-registry skopeo apache2-utils
          openssh-server curl busybox-static jetty9 unzip
          tomcat10-examples tomcat10-admin libhsqldb-java hsqldb-utils libderby-java derby-tools
          libh2-java zookeeper activemq)

our_policy=""
cleanup() {
    cleanup_rootfs
    if [ -n "$our_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
}
trap cleanup EXIT



install_packages() {
    command -v javac >/dev/null || PACKAGES+=(openjdk-17-jdk-headless)
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    # Keep apt from starting the packaged services: tests run their own on free ports.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        our_policy=1
    fi
    logged /var/log/a2c-apt.log apt-get -q update
    logged /var/log/a2c-apt.log apt-get -q -y install "${missing[@]}"
}

disable_tomcat_service() {
    # Only systemd machines have a tomcat10 service (Debian ships no init script for it).
    if [ -d /run/systemd/system ]; then
        systemctl disable --now tomcat10 >/dev/null 2>&1 || true
    fi
}

start_docker() {
    docker info >/dev/null 2>&1 && return 0
    # One dockerd per machine: a second one breaks the first one's bridge.
    local pid
    pid=$(cat /var/run/docker.pid 2>/dev/null || true)
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
        setsid dockerd --host unix:///var/run/docker.sock >>/var/log/a2c-dockerd.log 2>&1 </dev/null &
    fi
    for _ in $(seq 60); do
        docker info >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    echo "setup: dockerd did not answer within 30 s" >&2
    tail -n 30 /var/log/a2c-dockerd.log >&2
    return 1
}


build_jre_image() {
    docker image inspect "$JRE_IMAGE" >/dev/null 2>&1 && return 0
    local mirror rootfs java_home
    mirror=$(apt_mirror)
    rootfs=$(mktemp -d /var/tmp/a2c-jre17.XXXXXX)
    tmpdirs+=("$rootfs")
    logged /var/log/a2c-debootstrap.log debootstrap --variant=minbase bookworm "$rootfs" "$mirror"
    # The JRE's postinst needs /proc.
    mount -t proc proc "$rootfs/proc"
    logged /var/log/a2c-jre-install.log chroot "$rootfs" sh -c \
        'apt-get -q update && DEBIAN_FRONTEND=noninteractive apt-get -q -y install --no-install-recommends openjdk-17-jre-headless'
    umount "$rootfs/proc"
    # Resolve inside the rootfs: its alternatives symlinks are absolute.
    java_home=$(chroot "$rootfs" readlink -f /usr/bin/java)
    java_home=${java_home%/bin/java}
    strip_rootfs "$rootfs"
    tar --numeric-owner -C "$rootfs" -c . | docker import \
        -c "ENV JAVA_HOME=$java_home" \
        -c "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$java_home/bin" \
        -c "ENV LANG=C.UTF-8" \
        - "$JRE_IMAGE" >/dev/null
    echo "setup: built $JRE_IMAGE (JAVA_HOME=$java_home)"
}

# A tiny image that imports in a second, for tests that need any container at all.
build_busybox_image() {
    docker image inspect "$BUSYBOX_IMAGE" >/dev/null 2>&1 && return 0
    local rootfs app
    rootfs=$(mktemp -d /var/tmp/a2c-busybox.XXXXXX)
    tmpdirs+=("$rootfs")
    mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp"
    chmod 1777 "$rootfs/tmp"
    cp /bin/busybox "$rootfs/bin/busybox"
    for app in $(/bin/busybox --list); do
        [ "$app" = busybox ] || ln -s busybox "$rootfs/bin/$app"
    done
    echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
    echo 'root:x:0:' >"$rootfs/etc/group"
    tar --numeric-owner -C "$rootfs" -c . | docker import \
        -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' - "$BUSYBOX_IMAGE" >/dev/null
    echo "setup: built $BUSYBOX_IMAGE"
}

install_checkov() {
    # checkov pins its own boto3/botocore/packaging: a venv of its own keeps a2c's environment
    # (moto, awscli) as it is; only the command lands on PATH.
    command -v checkov >/dev/null && checkov --version >/dev/null 2>&1 && return 0
    local venv=/opt/a2c-tools/checkov
    python3 -m venv "$venv"
    logged /var/log/a2c-checkov.log "$venv/bin/pip" install -q checkov
    ln -sf "$venv/bin/checkov" /usr/local/bin/checkov
}

[ "$(id -u)" = 0 ] || { echo "setup.sh must run as root" >&2; exit 1; }
total=$EPOCHREALTIME
step packages install_packages
step tomcat-service disable_tomcat_service
step dockerd start_docker
step jre17-image build_jre_image
step sshd-jre-image bash scripts/sshd_image.sh
step busybox-image build_busybox_image
step dotnet bash scripts/setup-dotnet.sh
step checkov install_checkov
awk -v a="$total" -v b="$EPOCHREALTIME" 'BEGIN { printf "setup: %-16s %6.1fs\n", "total", b - a }'
