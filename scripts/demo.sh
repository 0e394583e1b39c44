#!/usr/bin/env bash
# The main job: installs what syscage needs, builds it, prepares a busybox
# bundle and runs one sandboxed container that shows what the sandbox does.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
[ "$(id -u)" = 0 ] || { echo "demo: run as root (containers need it)" >&2; exit 1; }
./scripts/setup.sh
make build >/dev/null
work=$(mktemp -d /tmp/syscage-demo.XXXXXX)
trap 'bin/syscage --root "$work/state" delete --force demo >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

./scripts/mkbundle.sh "$work/bundle" sh -c '
echo "inside:  uname -r           -> $(uname -r)"
echo "inside:  /proc/version      -> $(cat /proc/version)"
echo "inside:  osrelease          -> $(cat /proc/sys/kernel/osrelease)"
echo "inside:  unshare -m true    -> $(unshare -m true 2>&1 || true)"
echo "inside:  mount -t tmpfs     -> $(mount -t tmpfs none /tmp 2>&1 || true)"
echo "inside:  ls / | wc -l       -> $(ls / | wc -l) entries (ordinary programs run unchanged)"
'
echo "host:    uname -r           -> $(uname -r)"
bin/syscage --root "$work/state" --strace-log "$work/audit.jsonl" run --bundle "$work/bundle" demo
echo
echo "the sentry's audit stream ($work/audit.jsonl), first lines:"
head -n 5 "$work/audit.jsonl"
echo
echo "the default profile, by tier:"
bin/syscage syscalls --profile default | tail -n 1
