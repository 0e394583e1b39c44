#!/usr/bin/env bash
# podman-rootless.sh [USER] [SYSCAGE]: rootless Podman with syscage as its
# OCI runtime, as USER (default sctest): imports a busybox image from a
# rootfs tarball (no registry), then run, exec and stop a container, and
# prints what the sandbox shows. Needs podman (apt-get install podman) and
# a user with subordinate ids; run as root (it switches to USER).
set -euo pipefail
user=${1:-sctest}
syscage=$(readlink -f "${2:-$(dirname "$0")/../bin/syscage}")
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
chmod 755 "$bin"
cp "$syscage" "$bin/syscage" # readable by the user whatever its source's directory
su - "$user" -s /bin/sh -c "set -eu
P='podman --runtime $bin/syscage'
work=\$(mktemp -d)
mkdir -p \$work/r/bin
cp /bin/busybox \$work/r/bin/
for a in \$(/bin/busybox --list); do [ \$a = busybox ] || ln -s busybox \$work/r/bin/\$a; done
tar -C \$work/r -cf \$work/bb.tar .
podman import -q \$work/bb.tar localhost/syscage-bb:latest >/dev/null
rm -rf \$work
echo '== podman run'
\$P run --rm --network none localhost/syscage-bb sh -c 'uname -r; cat /proc/version; unshare -U true || echo unshare refused'
echo '== podman run -d, exec, stop'
\$P run -d --name syscage-podman-demo --network none localhost/syscage-bb sleep 1000 >/dev/null
\$P exec syscage-podman-demo sh -c 'uname -r; id'
\$P stop -t 1 syscage-podman-demo >/dev/null 2>&1
\$P ps -a --filter name=syscage-podman-demo --format '{{.Names}} {{.Status}}'
\$P rm syscage-podman-demo >/dev/null
podman rmi localhost/syscage-bb >/dev/null
echo '== done'
"
