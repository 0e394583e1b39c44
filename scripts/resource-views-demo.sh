#!/bin/sh
# resource-views-demo.sh SYSCAGE [ROOTFS]: the resource views side by side
# with runc. One container under each runtime, limited to 256 MiB and one
# CPU (CFS quota 100000/100000), runs free, nproc, python3, uptime and
# head of /proc/meminfo; then `update --memory 512M --cpu-quota 200000`
# and the same again. ROOTFS (default: the compatibility suite's Debian
# root, /var/cache/syscage-compat/rootfs) must have python3 and
# coreutils; busybox is bind-mounted in for free and uptime (they call
# sysinfo(2)). Prints two side-by-side tables (docs/resource-views.md).
set -eu
SYSCAGE=$(realpath "$1")
ROOTFS=${2:-/var/cache/syscage-compat/rootfs}
RUNC=${RUNC:-runc}
work=$(mktemp -d)
trap '$RUNC --root "$work/runc" delete -f demo-runc >/dev/null 2>&1 || true; "$SYSCAGE" --root "$work/syscage" delete -f demo-syscage >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
cd "$work"
"$SYSCAGE" spec
python3 - "$ROOTFS" <<'PY'
import json, sys
c = json.load(open('config.json'))
c['root'] = {'path': sys.argv[1], 'readonly': True}
c['process']['terminal'] = False
c['process']['args'] = ['sleep', '1000']
c['process']['env'] = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm']
c['linux'].setdefault('resources', {})['memory'] = {'limit': 256 << 20}
c['linux']['resources']['cpu'] = {'quota': 100000, 'period': 100000}
c['mounts'].append({'destination': '/mnt', 'type': 'tmpfs', 'source': 'tmpfs', 'options': ['nosuid', 'nodev', 'size=16m']})
c['mounts'].append({'destination': '/mnt/busybox', 'type': 'bind', 'source': '/bin/busybox', 'options': ['rbind', 'ro']})
json.dump(c, open('config.json', 'w'), indent=1)
PY
probe='echo "\$ free -m"; /mnt/busybox free -m
echo "\$ nproc"; nproc
echo "\$ python3 -c \"import os; print(os.cpu_count(), os.sysconf(\\\"SC_PHYS_PAGES\\\"))\""; python3 -c "import os; print(os.cpu_count(), os.sysconf(\"SC_PHYS_PAGES\"))"
echo "\$ uptime"; /mnt/busybox uptime
echo "\$ cat /proc/meminfo | head -3"; cat /proc/meminfo | head -3'
$RUNC --root "$work/runc" run -d demo-runc </dev/null >/dev/null
"$SYSCAGE" --root "$work/syscage" run -d demo-syscage </dev/null >/dev/null
side() {
	python3 - "$1" "$2" "$3" <<'PY'
import sys
a = open(sys.argv[1]).read().splitlines(); b = open(sys.argv[2]).read().splitlines()
n = max(len(a), len(b)); a += [''] * (n - len(a)); b += [''] * (n - len(b))
print(sys.argv[3]); print(f"{'runc':<84}| syscage")
for x, y in zip(a, b): print(f"{x:<84}| {y}")
print()
PY
}
for step in before after; do
	if [ $step = after ]; then
		$RUNC --root "$work/runc" update --memory 512M --cpu-quota 200000 demo-runc
		"$SYSCAGE" --root "$work/syscage" update --memory 512M --cpu-quota 200000 demo-syscage
	fi
	$RUNC --root "$work/runc" exec demo-runc sh -c "$probe" >runc.txt 2>&1
	"$SYSCAGE" --root "$work/syscage" exec demo-syscage sh -c "$probe" >syscage.txt 2>&1
	if [ $step = before ]; then title="256 MiB, 1 CPU (quota 100000/100000)"; else title="after update --memory 512M --cpu-quota 200000"; fi
	side runc.txt syscage.txt "$title"
done
