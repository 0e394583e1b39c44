#!/usr/bin/env bash
# learn-demo.sh: learn → enforce on a workload syscage was not tuned for.
#
# A Debian bookworm minbase root file system (debootstrap, cached in
# $ROOTFS, default /var/cache/syscage-demo/rootfs; never committed) runs a
# python3 + sqlite3 workload. The script
#   1. runs it under --profile learn and writes the learned profile;
#   2. runs it again under that profile: the output must be identical;
#   3. prints the allowed-call counts of the learned profile and default;
#   4. runs a call outside the learned set (mkdir, chmod, a UDP socket,
#      an AF_INET6 socket: a family the workload never used)
#      under the learned profile with auditing on: EPERM, and the audit
#      events naming the process and syscall; the same under default works.
# Run as root from the repository: scripts/learn-demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "learn-demo: run as root" >&2; exit 1; }
ROOTFS=${ROOTFS:-/var/cache/syscage-demo/rootfs}
# The Debian mirror apt already uses (first URIs: of a deb822 source, else
# the first deb line); MIRROR overrides it.
apt_mirror() {
	{ grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
	  grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}'; } | grep -v security | head -n 1 || true
}
MIRROR=${MIRROR:-$(apt_mirror)}
syscage=${SYSCAGE:-bin/syscage}
[ -n "${SYSCAGE:-}" ] || make build >/dev/null

if [ ! -x "$ROOTFS/usr/bin/python3" ] || [ ! -x "$ROOTFS/usr/bin/sqlite3" ]; then
	echo "== debootstrap bookworm (minbase + python3 + sqlite3) into $ROOTFS"
	command -v debootstrap >/dev/null || apt-get install -y debootstrap >/dev/null
	mkdir -p "$(dirname "$ROOTFS")"
	[ -n "$MIRROR" ] || { echo "learn-demo: no Debian mirror in apt's sources; set MIRROR" >&2; exit 1; }
	debootstrap --variant=minbase --include=python3,sqlite3 bookworm "$ROOTFS" "$MIRROR" >/dev/null
fi

work=$(mktemp -d /tmp/syscage-learn-demo.XXXXXX)
state=$work/state
trap 'for c in $($syscage --root "$state" list -q 2>/dev/null); do $syscage --root "$state" delete --force "$c"; done; rm -rf "$work"' EXIT

# bundle DIR ARG...: the cached rootfs (read-only) with a tmpfs on /tmp.
bundle() {
	local dir=$1
	shift
	mkdir -p "$dir"
	rm -f "$dir/config.json"
	$syscage spec --bundle "$dir"
	jq --arg root "$ROOTFS" --args '
		.root = {path: $root, readonly: true}
		| .process.terminal = false
		| .process.args = $ARGS.positional
		| .process.env += ["HOME=/tmp", "LANG=C.UTF-8"]
		| .mounts += [{destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=1777"]}]
	' -- "$@" <"$dir/config.json" >"$dir/config.json.new"
	mv "$dir/config.json.new" "$dir/config.json"
}

workload='
set -e
python3 - <<"EOF"
import hashlib, json, os, sqlite3, threading, socket
db = sqlite3.connect("/tmp/demo.db")
db.execute("create table t (k integer primary key, v text)")
db.executemany("insert into t (v) values (?)", [(hashlib.sha256(str(i).encode()).hexdigest(),) for i in range(2000)])
db.commit()
n, = db.execute("select count(*) from t where v like \"a%\"").fetchone()
print("python", os.uname().release, "rows starting with a:", n)
out = []
def work(i):
    out.append(sum(range(i * 100000)))
ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
print("threads:", sorted(out)[-1])
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.bind(("127.0.0.1", 0)); srv.listen(1)
c = socket.create_connection(srv.getsockname()); s, _ = srv.accept()
c.sendall(json.dumps({"hello": "loopback"}).encode()); print("tcp:", json.loads(s.recv(100)))
EOF
sqlite3 /tmp/demo.db "select count(*), min(length(v)) from t;" | sed "s/^/sqlite3: /"
'
extra='
python3 -c "
import os, socket
for name, f in [(\"mkdir\", lambda: os.mkdir(\"/tmp/newdir\")),
                (\"chmod\", lambda: os.chmod(\"/tmp\", 0o1777)),
                (\"udp socket\", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM)),
                (\"inet6 socket\", lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM))]:
    try:
        f(); print(name + \": ok\")
    except OSError as e:
        print(name + \": \" + os.strerror(e.errno) + \" (errno \" + str(e.errno) + \")\")
"
'
bundle "$work/run" sh -c "$workload"
bundle "$work/extra" sh -c "$workload$extra"
learned=$work/learned.json

echo "== 1. learn: $syscage run --profile learn --learned-profile $learned"
$syscage --root "$state" run --bundle "$work/run" --profile learn --learned-profile "$learned" learn | tee "$work/learn.out"
echo "   learned profile: $(jq '.syscalls | length' "$learned") entries; first lines of it:"
jq -c '.syscalls[:4][]' "$learned" | sed 's/^/   /'
echo "   its socket and ioctl entries (exact family, type and protocol; exact requests):"
jq -r '.syscalls[] | select(.names == ["socket"] or .names == ["socketpair"] or .names == ["ioctl"]) | select(.tier != "deny")
	| "   \(.names[0]) \(.tier): " + ([.when[]? | "arg\(.arg)=\(.value)"] | join(" "))' "$learned"

echo "== 2. enforce: $syscage run --profile $learned"
$syscage --root "$state" run --bundle "$work/run" --profile "$learned" enforce | tee "$work/enforce.out"
if diff -u "$work/learn.out" "$work/enforce.out"; then
	echo "   same output under the learned profile"
else
	echo "   OUTPUT DIFFERS" >&2
	exit 1
fi

echo "== 3. allowed calls (syscage syscalls --profile X | tail -1)"
for p in default "$learned"; do
	$syscage syscalls --profile "$p" | tail -n 1 | sed 's/^/   /'
done

echo "== 4. outside the learned set, with --strace-log (audit)"
$syscage --root "$state" --strace-log "$work/audit.jsonl" run --bundle "$work/extra" --profile "$learned" outside | tail -n 4 | sed 's/^/   learned: /'
echo "   audit events for the denials:"
grep '"errno":"EPERM"' "$work/audit.jsonl" | sed 's/^/   /'
echo "   the same under default:"
$syscage --root "$state" run --bundle "$work/extra" --profile default default | tail -n 4 | sed 's/^/   default: /'
