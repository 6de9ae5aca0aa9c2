#!/usr/bin/env bash
# .NET on Linux for a2c's tests, on Debian 12 as root: Debian's mcs (compiles the sample app
# against the runtime's own assemblies), PyPI's dotnetcore2 wheel (a real .NET Core 3.1 runtime)
# in the machine's python3, and a local base image a2c-test/dotnet-runtime:3.1 (debootstrap
# minbase + that runtime at /usr/share/dotnet), since nothing can be pulled from a registry.
# Idempotent: each step checks first, so a second run takes about a second.
# Needs a running Docker engine (scripts/setup.sh starts one) for the image step.
set -euo pipefail
SETUP_NAME=setup-dotnet
# shellcheck source=scripts/setup-lib.sh
source "$(dirname "$0")/setup-lib.sh"
shopt -s nullglob
export DEBIAN_FRONTEND=noninteractive

DOTNET_IMAGE=a2c-test/dotnet-runtime:3.1

cleanup() {
    cleanup_rootfs
}
trap cleanup EXIT



install_mcs() {
    command -v mcs >/dev/null && return 0
    logged /var/log/a2c-apt-dotnet.log apt-get -q update
    logged /var/log/a2c-apt-dotnet.log apt-get -q -y install --no-install-recommends mono-mcs
}

runtime_dir() {
    python3 -c 'import os, dotnetcore2; print(os.path.join(os.path.dirname(dotnetcore2.__file__), "bin"))' 2>/dev/null
}

install_runtime() {
    runtime_dir >/dev/null && return 0
    logged /var/log/a2c-pip-dotnet.log python3 -m pip install -q dotnetcore2
    runtime_dir >/dev/null || { echo "setup-dotnet: dotnetcore2 installed but not importable by python3" >&2; return 1; }
}


build_dotnet_image() {
    docker image inspect "$DOTNET_IMAGE" >/dev/null 2>&1 && return 0
    local mirror rootfs runtime missing=() p
    runtime=$(runtime_dir)
    mirror=$(apt_mirror)
    rootfs=$(mktemp -d /var/tmp/a2c-dotnet.XXXXXX)
    tmpdirs+=("$rootfs")
    logged /var/log/a2c-debootstrap-dotnet.log debootstrap --variant=minbase bookworm "$rootfs" "$mirror"
    # What the runtime links against (minbase usually has them all already; ICU and libssl are
    # not needed: globalization is invariant and the test apps use no TLS).
    for p in libstdc++6 libgcc-s1 zlib1g; do
        chroot "$rootfs" dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        mount -t proc proc "$rootfs/proc"
        logged /var/log/a2c-dotnet-install.log chroot "$rootfs" sh -c \
            "apt-get -q update && DEBIAN_FRONTEND=noninteractive apt-get -q -y install --no-install-recommends ${missing[*]}"
        umount "$rootfs/proc"
    fi
    mkdir -p "$rootfs/usr/share/dotnet"
    cp -a "$runtime/." "$rootfs/usr/share/dotnet/"
    chmod -R a+rX "$rootfs/usr/share/dotnet"
    ln -sf ../share/dotnet/dotnet "$rootfs/usr/bin/dotnet"
    strip_rootfs "$rootfs"
    tar --numeric-owner -C "$rootfs" -c . | docker import \
        -c "ENV DOTNET_ROOT=/usr/share/dotnet" \
        -c "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/share/dotnet" \
        -c "ENV DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1" \
        -c "ENV LANG=C.UTF-8" \
        - "$DOTNET_IMAGE" >/dev/null
    echo "setup-dotnet: built $DOTNET_IMAGE ($(ls "$rootfs/usr/share/dotnet/shared/Microsoft.NETCore.App"))"
}

[ "$(id -u)" = 0 ] || { echo "setup-dotnet.sh must run as root" >&2; exit 1; }
total=$EPOCHREALTIME
step mcs install_mcs
step dotnet-runtime install_runtime
step dotnet-image build_dotnet_image
awk -v a="$total" -v b="$EPOCHREALTIME" 'BEGIN { printf "setup-dotnet: %-16s %6.1fs\n", "total", b - a }'
