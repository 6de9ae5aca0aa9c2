# Shared by scripts/setup.sh and scripts/setup-dotnet.sh (sourced; set SETUP_NAME first).
# Temporary root file systems go in tmpdirs and are removed at exit, /proc unmounted first.

tmpdirs=()
cleanup_rootfs() {
    for d in "${tmpdirs[@]}"; do
        umount "$d/proc" 2>/dev/null || true
        # Never rm -rf through a still-mounted /proc.
        mountpoint -q "$d/proc" || rm -rf --one-file-system "$d"
    done
}

# step NAME COMMAND…: run it and print how long it took.
step() {
    local name=$1 start=$EPOCHREALTIME
    shift
    "$@"
    awk -v p="$SETUP_NAME" -v n="$name" -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%s: %-16s %6.1fs\n", p, n, b - a }'
}

# Run quietly into a log; show its tail only when the command fails.
logged() {
    local log=$1
    shift
    "$@" >"$log" 2>&1 || { echo "$SETUP_NAME: failed: $*" >&2; tail -n 40 "$log" >&2; return 1; }
}

# The machine's own Debian mirror (never a hard-coded host).
apt_mirror() {
    local uri="" f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -n "$uri" ] || uri=$(awk '/^URIs:/ && !/security/ { print $2; exit }' "$f")
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -n "$uri" ] || [ ! -f "$f" ] || uri=$(awk '$1 == "deb" && !/security/ {
            for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' "$f")
    done
    [ -n "$uri" ] || { echo "$SETUP_NAME: no Debian mirror in /etc/apt sources" >&2; return 1; }
    echo "$uri"
}

# Strip what an image does not need from a root file system.
strip_rootfs() {
    rm -rf "$1"/usr/share/{doc,man,info,locale}/* "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/*.log
}
