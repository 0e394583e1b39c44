#!/usr/bin/env bash
# test/attacks/run.sh BINARY: the attacks of issue #9 (a hostile workload
# and a hostile pod author), run against one syscage binary, one line of
# outcome each. Run it against a build of an older commit and of this
# one to see each attack succeed, then fail for the right reason. The
# tests in test/security and test/policy make the same attacks and
# assert the refusal; this script is for reading side by side. Root.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
B=$(readlink -f "${1:?usage: run.sh SYSCAGE_BINARY}")
W=$(mktemp -d /tmp/atk-w.XXXXXX); R=$W/root
trap 'for c in $($B --root $R list -q 2>/dev/null); do $B --root $R delete --force $c >/dev/null 2>&1; done; rm -rf "$W"' EXIT
gcc -static -O2 -o "$W/atk" "$here/atk.c" || exit 1
mk() { rm -rf $W/b; SYSCAGE=$B "$here/../../scripts/mkbundle.sh" $W/b "$@" >/dev/null; cp $W/atk $W/b/rootfs/bin/atk; }
jqi() { jq "$1" $W/b/config.json > $W/c.json && mv $W/c.json $W/b/config.json; }
run() { timeout 60 $B --root $R "$@" 2>&1 | tail -2; }
echo "--- 1. a 70 KB annotation"
mk /bin/atk uname; jqi '.annotations.big = ("x" * 71680)'; run run -b $W/b a1
echo "--- 2. annotation dev.syscage.profile=<a permissive file outside any admin dir>"
echo '{"syscageProfile":1,"name":"evil","base":"default","kernelRelease":"CHOSEN-BY-THE-POD","syscalls":[{"names":["keyctl"],"tier":"pass"}]}' > $W/evil.json
mk /bin/atk keyctl; jqi ".annotations[\"dev.syscage.profile\"] = \"$W/evil.json\""; run run -b $W/b a2
echo "--- 3. annotation dev.syscage.strace=/etc/syscage-atk-evil"
rm -f /etc/syscage-atk-evil; mk /bin/true; jqi '.annotations["dev.syscage.strace"] = "/etc/syscage-atk-evil"'; run run -b $W/b a3; [ -e /etc/syscage-atk-evil ] && echo "/etc/syscage-atk-evil: CREATED by the runtime" || echo "/etc/syscage-atk-evil: not created"; rm -f /etc/syscage-atk-evil
echo "--- 4. socket(AF_INET, SOCK_PACKET) with CAP_NET_RAW (containerd and Docker grant it)"
mk /bin/atk packet; jqi '.process.capabilities.bounding += ["CAP_NET_RAW"] | .process.capabilities.effective += ["CAP_NET_RAW"] | .process.capabilities.permitted += ["CAP_NET_RAW"]'; run run -b $W/b a4
echo "--- 5. a config whose own seccomp profile names nothing above getrandom (318)"
mk /bin/atk memfd; "$B" syscalls --format json | python3 -c 'import json,sys; n=[r["name"] for r in json.load(sys.stdin) if r["nr"]<=318]; json.dump({"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":n,"action":"SCMP_ACT_ALLOW"}]}, sys.stdout)' > $W/older.json; jq --slurpfile p $W/older.json '.linux.seccomp = $p[0]' $W/b/config.json > $W/c.json && mv $W/c.json $W/b/config.json; run run -b $W/b a5
echo "--- 6. foreground run, stdout redirected to a file on the host"
mk /bin/atk stdout; timeout 60 $B --root $R run -b $W/b a6 > $W/out.txt 2>$W/err.txt; cat $W/err.txt | tail -1
