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
trap 'for c in demo demo-uid1000 demo-sentry; do bin/syscage --root "$work/state" delete --force $c >/dev/null 2>&1 || true; done; rm -rf "$work"' EXIT

./scripts/mkbundle.sh "$work/bundle" sh -c '
echo "inside:  uname -r           -> $(uname -r)"
echo "inside:  /proc/version      -> $(cat /proc/version)"
echo "inside:  osrelease          -> $(cat /proc/sys/kernel/osrelease)"
echo "inside:  unshare -m true    -> $(unshare -m true 2>&1 || true)"
echo "inside:  mount -t tmpfs     -> $(mount -t tmpfs none /tmp 2>&1 || true)"
echo "inside:  ls / | wc -l       -> $(ls / | wc -l) entries (ordinary programs run unchanged)"
echo "inside:  free -m; nproc     -> $(free -m | awk "/^Mem/{print \$2}") MiB, $(nproc) CPU (the container'"'"'s limits: 256 MiB, 1 CPU)"
'
# Limits, which the container sees as its own memory and CPUs.
jq '.linux.resources = {"memory": {"limit": 268435456}, "cpu": {"quota": 100000, "period": 100000}}' \
	"$work/bundle/config.json" >"$work/config.json" && mv "$work/config.json" "$work/bundle/config.json"
echo "host:    uname -r           -> $(uname -r)"
echo "host:    free -m; nproc     -> $(free -m | awk '/^Mem/{print $2}') MiB, $(nproc) CPUs"
bin/syscage --root "$work/state" --strace-log "$work/audit.jsonl" run --bundle "$work/bundle" demo
# The same sandbox for a workload that is not root (Kubernetes
# runAsNonRoot, docker --user): a second container, as uid 1000.
jq '.process.user = {"uid": 1000, "gid": 1000} | .process.args = ["sh", "-c",
  "echo \"inside, as uid $(id -u): uname -r -> $(uname -r), hostname -> $(hostname)\""]' \
	"$work/bundle/config.json" >"$work/config.json" && mv "$work/config.json" "$work/bundle/config.json"
bin/syscage --root "$work/state" run --bundle "$work/bundle" demo-uid1000
# What the sentry itself is, seen from the host: not root, two
# capabilities, jailed in an empty directory, in the container's cgroups
# and pid namespace (where every pid it can name is the container's).
jq '.process.args = ["sleep", "60"]' "$work/bundle/config.json" >"$work/config.json" && mv "$work/config.json" "$work/bundle/config.json"
bin/syscage --root "$work/state" run -d --bundle "$work/bundle" demo-sentry >/dev/null
s=$(cat "$work/state/demo-sentry/sentry.pid")
caps=$(awk '/^CapEff/{print $2}' "/proc/$s/status")
echo "host:    the sentry (pid $s) -> uid $(awk '/^Uid/{print $2}' "/proc/$s/status"), capabilities $(capsh --decode="$caps" 2>/dev/null | cut -d= -f2 || echo "$caps"), root $(readlink "/proc/$s/root")"
echo "host:    its memory cgroup  -> $(awk -F: '$2 == "memory" {print $3}' "/proc/$s/cgroup") (the container's, charged to it)"
echo "host:    it serves from     -> $(bin/syscage --root "$work/state" state demo-sentry | jq -r .sentryServesFrom), where it is pid $(awk '/^NSpid/{print $NF}' "/proc/$s/status")"
bin/syscage --root "$work/state" delete --force demo-sentry
echo
echo "the sentry's audit stream ($work/audit.jsonl), first lines:"
head -n 5 "$work/audit.jsonl"
echo
echo "the default profile, by tier:"
bin/syscage syscalls --profile default | tail -n 1
