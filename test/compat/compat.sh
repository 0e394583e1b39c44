#!/usr/bin/env bash
# compat.sh: foreign test suites in containers, under runc and under syscage.
#
# Test suites nobody on the syscage team wrote run inside containers, one
# container per module (Python) or package (Go), under
#   runc      the baseline: the same bundle, no sentry, no filter
#   default   syscage --profile default
#   strict    syscage --profile strict
#   learn     syscage --profile learn (every call notified and recorded)
#   learned   syscage --profile <the union of what the learn runs recorded>
# each as root and as uid 1000 (read-only root file system, tmpfs /tmp,
# HOME=/tmp, the default spec's namespaces: loopback-only network).
#
# Suites:
#   python  CPython 3.11's regression tests (Debian's libpython3.11-testsuite)
#           in a debootstrap bookworm rootfs cached in $COMPAT_ROOTFS
#           (default /var/cache/syscage-compat/rootfs; never committed)
#   go      the Go standard library's own tests (os, os/exec, os/signal,
#           net, syscall, time, runtime) from the installed toolchain,
#           compiled static on the host (go test -c) and run in a busybox
#           rootfs with GOROOT bind-mounted read-only at its own path
#           (bin/ and pkg/tool/ hidden) and the package's source
#           directory as the working directory (testdata)
#
# What cannot pass here is listed in test/compat/exclusions.csv (test,
# where it applies, whether it fails under runc too, reason) and passed to
# the suite's own skip mechanism; every excluded test is counted in the
# report. A module that passes under runc and not under a syscage profile
# is a REGRESSION: the run fails, and the module is run again with the
# audit stream on (--strace-log) so the report names the syscalls and
# errnos the sentry or the filter refused.
#
# Usage (root, from anywhere):
#   test/compat/compat.sh [--short] [--suite python|go|all]
#       [--runtimes "runc default strict learned"] [--users "0 1000"]
#       [--modules "test_os test_posix"] [--out DIR]
#   test/compat/compat.sh --resume DIR --runtimes learned [--suite ...]
#             only the learned phase, from the learn runs of an earlier run
#             in DIR (its results are carried over, so differences from
#             runc are found and audited as in one run)
#   test/compat/compat.sh --out DIR --report DIR1 DIR2...
#             one report from the results of several runs (say, root and
#             uid 1000 run at the same time by two invocations); a later
#             DIR's verdict for the same module, runtime and user replaces
#             an earlier one and is marked "(rerun)"
#   --short   the CI subset (make test): the Go packages os, os/exec,
#             os/signal, syscall under runc, default and strict, root and
#             uid 1000; no debootstrap, a few minutes
# Debugging: COMPAT_EXCLUSIONS=CSV (another exclusion file),
# COMPAT_TIMEOUT=SECONDS (per module or package), COMPAT_PY_ARGS (regrtest
# options instead of -W, e.g. -v to see which test hangs).
# Output: DIR/results.tsv, DIR/report.txt (the table), logs in DIR/logs,
# audit summaries of regressions in DIR/audit. The last line is
# `compat: N passed, M failed` (M: runs that failed, regressions or not).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
export PATH=/usr/local/go/bin:$PATH

die() {
	echo "compat: $*" >&2
	exit 1
}
[ "$(id -u)" = 0 ] || die "run as root (it creates containers)"

short=0
suites=all
runtimes=""
users="0 1000"
modules=""
out=""
report_only=""
resume=""
while [ $# -gt 0 ]; do
	case $1 in
	--short) short=1 ;;
	--suite) suites=$2; shift ;;
	--runtimes) runtimes=$2; shift ;;
	--users) users=$2; shift ;;
	--modules) modules=$2; shift ;;
	--out) out=$2; shift ;;
	--resume) resume=$2; shift ;;
	--report)
		shift
		report_only="$*"
		set --
		break
		;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument $1 (see --help)" ;;
	esac
	shift
done
if [ "$short" = 1 ]; then
	suites=go
	runtimes=${runtimes:-runc default strict}
else
	runtimes=${runtimes:-runc default strict learned}
fi
[ "$suites" = all ] && suites="go python"
suites=${suites//,/ }

ROOTFS=${COMPAT_ROOTFS:-/var/cache/syscage-compat/rootfs}
out=${out:-$repo/test/tmp/compat-$(date -u +%Y%m%dT%H%M%S)}
mkdir -p "$out"/{logs,audit,in,learned}
out=$(cd "$out" && pwd)
syscage=${SYSCAGE:-$repo/bin/syscage}
state=$(mktemp -d /run/syscage-compat.XXXXXX)
results=$out/results.tsv
: >"$results"
excl_csv=${COMPAT_EXCLUSIONS:-$repo/test/compat/exclusions.csv}

cleanup() {
	local c
	for c in $(runc --root "$state/runc" list -q 2>/dev/null); do runc --root "$state/runc" delete --force "$c" >/dev/null 2>&1 || true; done
	for c in $("$syscage" --root "$state/syscage" list -q 2>/dev/null); do "$syscage" --root "$state/syscage" delete --force "$c" >/dev/null 2>&1 || true; done
	rm -rf "$state"
}
trap cleanup EXIT
trap "exit 143" TERM INT

# step NAME CMD...: runs a setup step; on failure the run stops naming it.
step() {
	local name=$1
	shift
	"$@" >"$out/logs/step-$name.log" 2>&1 || {
		tail -n 20 "$out/logs/step-$name.log" >&2
		die "step '$name' failed (log: $out/logs/step-$name.log)"
	}
}

# ---------------------------------------------------------------- setup

if [ -z "${SYSCAGE:-}" ]; then
	step build make -C "$repo" build
fi
command -v runc >/dev/null || die "runc not found (scripts/setup.sh installs it)"
command -v jq >/dev/null || die "jq not found (scripts/setup.sh installs it)"
mkdir -p "$out/spec"
step spec "$syscage" spec --bundle "$out/spec"
base=$out/spec/config.json

# The Debian mirror apt already uses; MIRROR overrides it.
apt_mirror() {
	{
		grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
		grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}'
	} | grep -v security | head -n 1 || true
}

# A passwd entry for uid 1000, as most images that run unprivileged have.
add_user() {
	local r=$1
	grep -q '^compat:' "$r/etc/passwd" || echo 'compat:x:1000:1000:compat:/tmp:/bin/sh' >>"$r/etc/passwd"
	grep -q '^compat:' "$r/etc/group" || echo 'compat:x:1000:' >>"$r/etc/group"
}

python_rootfs() {
	if [ ! -f "$ROOTFS/usr/lib/python3.11/test/regrtest.py" ] || [ ! -f "$ROOTFS/etc/services" ]; then
		command -v debootstrap >/dev/null || {
			DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends debootstrap >/dev/null
		}
		local mirror=${MIRROR:-$(apt_mirror)}
		[ -n "$mirror" ] || die "no Debian mirror in apt's sources; set MIRROR"
		rm -rf "$ROOTFS.new"
		mkdir -p "$(dirname "$ROOTFS")"
		debootstrap --variant=minbase --include=python3,libpython3.11-testsuite,sqlite3,netbase \
			bookworm "$ROOTFS.new" "$mirror"
		rm -rf "$ROOTFS"
		mv "$ROOTFS.new" "$ROOTFS"
	fi
	add_user "$ROOTFS"
	[ -e "$ROOTFS/etc/hosts" ] || : >"$ROOTFS/etc/hosts"
	mkdir -p "$ROOTFS/compat"
}

go_pkgs_full="os os/exec os/signal net syscall time runtime"
go_pkgs_short="os os/exec os/signal syscall"
gobin=$out/gobin
gorootfs=$out/gorootfs

go_setup() {
	local pkgs=$1 p goroot
	goroot=$(go env GOROOT)
	mkdir -p "$gobin"
	for p in $pkgs; do
		CGO_ENABLED=0 go test -c -o "$gobin/${p//\//_}.test" "$p" || return 1
	done
	SYSCAGE=$syscage "$repo/scripts/mkbundle.sh" "$out/gobundle" >/dev/null || return 1
	rm -rf "$gorootfs"
	mv "$out/gobundle/rootfs" "$gorootfs"
	rm -rf "$out/gobundle"
	cp /etc/hosts /etc/services /etc/protocols "$gorootfs/etc/" 2>/dev/null || true
	printf 'hosts: files dns\n' >"$gorootfs/etc/nsswitch.conf"
	add_user "$gorootfs"
	# Tests list /usr/bin and expect it to hold something.
	mkdir -p "$gorootfs/t" "$gorootfs/compat" "$gorootfs$goroot" "$gorootfs/usr/bin"
	for p in env id true false; do ln -sf /bin/busybox "$gorootfs/usr/bin/$p"; done
	echo "$goroot" >"$out/goroot"
}

# ---------------------------------------------------------------- bundles

# What Docker, containerd and CRI give a container, rather than runc's
# spec minimum: their default capability set (root has it; another user
# has it in the bounding set only), an open-files limit above runc's 1024
# (containerd's is 1048576; the runtime cannot raise the hard limit past
# its own, so it is this shell's) and an /etc/hosts naming localhost.
docker_caps='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW",
	"CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT",
	"CAP_KILL","CAP_AUDIT_WRITE"]'
nofile=$(ulimit -Hn)
[ "$nofile" != unlimited ] || nofile=1048576
printf '127.0.0.1\tlocalhost compat\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$out/in/hosts"

# mkbundle DIR ROOTFS UID CWD MOUNTS-JSON ARG...: the base spec with the
# root file system read-only, a tmpfs /tmp, HOME=/tmp, /etc/hosts, the
# process as UID (gid the same) in CWD with Docker's capabilities, and
# MOUNTS added.
mkbundle() {
	local dir=$1 root=$2 uid=$3 cwd=$4 mounts=$5
	shift 5
	mkdir -p "$dir"
	jq --arg root "$root" --argjson uid "$uid" --arg cwd "$cwd" --argjson mounts "$mounts" \
		--arg hosts "$out/in/hosts" --argjson caps "$docker_caps" --argjson nofile "$nofile" --args '
		.root = {path: $root, readonly: true}
		| .hostname = "compat"
		| .process.terminal = false
		| .process.args = $ARGS.positional
		| .process.cwd = $cwd
		| .process.user = {uid: $uid, gid: $uid}
		| .process.env = ([.process.env[] | select(startswith("HOME=") | not)]
			+ ["HOME=/tmp", "TMPDIR=/tmp", "LANG=C.UTF-8", "USER=" + (if $uid == 0 then "root" else "compat" end)])
		| .process.rlimits = [{type: "RLIMIT_NOFILE", hard: $nofile, soft: $nofile}]
		| .process.capabilities = (if $uid == 0
			then {bounding: $caps, effective: $caps, permitted: $caps}
			else {bounding: $caps, effective: [], permitted: []} end)
		| .mounts += [{destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=1777"]},
			{destination: "/etc/hosts", type: "bind", source: $hosts, options: ["rbind", "ro"]}]
		| .mounts += $mounts
	' -- "$@" <"$base" >"$dir/config.json"
}

seq_id=0
# run_container RT UID BUNDLE LOG TIMEOUT [AUDIT-LOG]: runs the bundle in
# the foreground under RT (runc, or a syscage profile: default, strict,
# learn:FILE, learned:FILE) and returns the container's exit status (124
# when the outer timeout fired).
run_container() {
	local rt=$1 bundle=$3 log=$4 tmo=$5 audit=${6:-} id rc=0
	seq_id=$((seq_id + 1))
	id=compat-$$-$seq_id
	local -a cmd
	case $rt in
	runc) cmd=(runc --root "$state/runc" run --bundle "$bundle" "$id") ;;
	*)
		cmd=("$syscage" --root "$state/syscage")
		[ -z "$audit" ] || cmd+=(--strace --strace-log "$audit")
		cmd+=(run --bundle "$bundle")
		case $rt in
		learn:*) cmd+=(--profile learn --learned-profile "${rt#learn:}") ;;
		learned:*) cmd+=(--profile "${rt#learned:}") ;;
		*) cmd+=(--profile "$rt") ;;
		esac
		cmd+=("$id")
		;;
	esac
	timeout -k 15 "$tmo" "${cmd[@]}" </dev/null >"$log" 2>&1 || rc=$?
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "compat: outer timeout ${tmo}s fired" >>"$log"
		rc=124
	fi
	case $rt in
	runc) runc --root "$state/runc" delete --force "$id" >/dev/null 2>&1 || true ;;
	*) "$syscage" --root "$state/syscage" delete --force "$id" >/dev/null 2>&1 || true ;;
	esac
	return "$rc"
}

# ---------------------------------------------------------------- exclusions

# rtname RT: the runtime column's name (learn:FILE -> learn).
rtname() { echo "${1%%:*}"; }

# exclusions SUITE RT UID: the tests exclusions.csv excludes for this run,
# one a line. A row applies when its `where` (space-separated globs over
# RUNTIME/IDENTITY, identity root or uid1000) matches.
exclusions() {
	local suite=$1 rt=$2 uid=$3 ident
	ident=root
	[ "$uid" = 0 ] || ident=uid$uid
	[ -f "$excl_csv" ] || return 0
	# suite,test,where,fails_under_runc,reason (reason may hold commas)
	tail -n +2 "$excl_csv" | while IFS=, read -r s t where _; do
		[ "$s" = "$suite" ] || continue
		local w
		for w in $where; do
			# shellcheck disable=SC2053 # where is a glob on purpose
			if [[ $rt/$ident == $w ]]; then
				echo "$t"
				break
			fi
		done
	done
}

# ---------------------------------------------------------------- suites

# Verdicts: pass, fail, skip (the module skipped itself entirely), timeout.
record() { # suite module rt uid verdict seconds excluded detail
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$results"
	printf 'compat: %-6s %-28s %-8s %-7s %-7s %4ss excluded=%s %s\n' "$1" "$2" "$3" "$(ident "$4")" "$5" "$6" "$7" "$8"
}
ident() { if [ "$1" = 0 ]; then echo root; else echo "uid$1"; fi; }

py_modules_full="test_os test_posix test_socket test_subprocess test_signal test_threading
test_thread test_mmap test_select test_selectors test_epoll test_fcntl test_ioctl
test_asyncio test_multiprocessing_fork test_concurrent_futures test_logging test_pty
test_openpty test_ssl test_sqlite3 test_time test_resource test_shutil test_tempfile
test_socketserver test_faulthandler test_sys test_pwd test_grp test_wait3 test_wait4
test_fork1 test_file test_fileio test_posixpath test_stat test_syslog test_getpass
test_uuid test_platform test_threadsignals test_eintr test_file_eintr test_pathlib
test_threadedtempfile test_queue test_atexit test_httplib"
# Modules that need the 'network' resource although they use loopback only.
py_loopback="test_socketserver"
# Modules that run long: a larger per-module timeout.
py_slow="test_asyncio test_multiprocessing_fork test_concurrent_futures test_socket test_subprocess test_logging"

# run_python MODULE RT UID [AUDIT-LOG]: one module in one container.
run_python() {
	local m=$1 rt=$2 uid=$3 audit=${4:-} name tmo=150 rc=0 t0 t1 v nex log in
	local res=all,-network,-urlfetch,-cpu,-largefile,-extralargefile,-gui,-audio,-curses,-decimal,-tzdata
	name=$(rtname "$rt")
	case " $py_slow " in *" $m "*) tmo=300 ;; esac
	case " $py_loopback " in *" $m "*) res=${res/,-network/} ;; esac
	# An audit rerun only has to reach the refused calls, which come early.
	[ -z "$audit" ] || [ "$tmo" -le 120 ] || tmo=120
	tmo=${COMPAT_TIMEOUT:-$tmo}
	[ "$name" != learn ] || tmo=$((tmo * 2))
	in=$out/in/python-$name-$(ident "$uid")
	mkdir -p "$in"
	exclusions python "$name" "$uid" >"$in/ignore"
	nex=$(grep -c "^test\.$m\." "$in/ignore" || true)
	log=$out/logs/python-$m-$name-$(ident "$uid")${audit:+-audit}.log
	mkbundle "$out/b" "$ROOTFS" "$uid" /tmp \
		"[{\"destination\":\"/compat\",\"type\":\"bind\",\"source\":\"$in\",\"options\":[\"rbind\",\"ro\"]}]" \
		python3 -m test --timeout "$tmo" ${COMPAT_PY_ARGS:--W} --ignorefile /compat/ignore \
		-u "$res" "$m"
	t0=$(date +%s)
	run_container "$rt" "$uid" "$out/b" "$log" $((tmo + 60)) "$audit" || rc=$?
	t1=$(date +%s)
	if [ "$rc" = 124 ]; then
		v=timeout
	elif grep -q '^Result: SUCCESS' "$log" || grep -q '^Tests result: SUCCESS' "$log"; then
		if grep -qE "^$m skipped|1 test skipped|test skipped:" "$log" && ! grep -qE '^1 test OK' "$log"; then v=skip; else v=pass; fi
	elif [ "$rc" = 0 ] && grep -qE "^$m skipped" "$log"; then
		v=skip
	else
		v=fail
	fi
	[ -n "$audit" ] || record python "$m" "$name" "$uid" "$v" $((t1 - t0)) "$nex" "exit=$rc"
	[ "$v" = pass ] || [ "$v" = skip ]
}

# run_go PKG RT UID [AUDIT-LOG]: one package's test binary in one container.
run_go() {
	local p=$1 rt=$2 uid=$3 audit=${4:-} name tmo=300 rc=0 t0 t1 v nex log skip goroot
	name=$(rtname "$rt")
	[ "$p" != runtime ] || tmo=600
	tmo=${COMPAT_TIMEOUT:-$tmo}
	[ "$name" != learn ] || tmo=$((tmo * 2))
	[ -z "$audit" ] || [ "$tmo" -le 120 ] || tmo=120
	goroot=$(cat "$out/goroot")
	# Exclusions become one -test.skip regexp of the test names.
	skip=$(exclusions go "$name" "$uid" | sed -n "s|^$p\.||p" | paste -sd'|')
	nex=0
	[ -z "$skip" ] || nex=$(awk -F'|' '{print NF}' <<<"$skip")
	log=$out/logs/go-${p//\//_}-$name-$(ident "$uid")${audit:+-audit}.log
	local -a args=("/t/${p//\//_}.test" -test.short -test.v -test.timeout "$((tmo - 10))s")
	[ -z "$skip" ] || args+=(-test.skip "^($skip)\$")
	# GOROOT read-only at its own path (testdata, ../testdata, sources the
	# runtime's tests read, the time zone database), with empty bin and
	# pkg/tool: tests that need the go command find none and skip.
	mkbundle "$out/b" "$gorootfs" "$uid" "$goroot/src/$p" \
		"[{\"destination\":\"/t\",\"type\":\"bind\",\"source\":\"$gobin\",\"options\":[\"rbind\",\"ro\"]},
		  {\"destination\":\"$goroot\",\"type\":\"bind\",\"source\":\"$goroot\",\"options\":[\"rbind\",\"ro\"]},
		  {\"destination\":\"$goroot/bin\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"ro\"]},
		  {\"destination\":\"$goroot/pkg/tool\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"ro\"]}]" \
		"${args[@]}"
	t0=$(date +%s)
	run_container "$rt" "$uid" "$out/b" "$log" $((tmo + 30)) "$audit" || rc=$?
	t1=$(date +%s)
	if [ "$rc" = 124 ]; then
		v=timeout
	elif [ "$rc" = 0 ] && grep -q '^PASS$' "$log"; then
		v=pass
	else
		v=fail
	fi
	[ -n "$audit" ] || record go "$p" "$name" "$uid" "$v" $((t1 - t0)) "$nex" \
		"exit=$rc tests(pass/skip/fail)=$(grep -c -- '--- PASS' "$log")/$(grep -c -- '--- SKIP' "$log")/$(grep -c -- '--- FAIL' "$log")"
	[ "$v" = pass ]
}

# merge_learned SUITE UID: the union of the learn runs' profiles, one entry
# per (syscall, tier, errno, conditions), an unconditional entry taking the
# place of conditional ones, validated by syscage itself.
merge_learned() {
	local suite=$1 uid=$2 f=$out/learned/$suite-$(ident "$2").json
	local -a parts
	mapfile -t parts < <(ls "$out/learned/$suite-$(ident "$uid")"-*.json 2>/dev/null)
	[ ${#parts[@]} -gt 0 ] || return 1
	jq -s --arg name "compat-$suite-$(ident "$uid")" '{
		syscageProfile: 1,
		name: $name,
		description: "learned from the \($name) compat runs (union of \(length) modules)",
		base: "default",
		unlisted: "deny",
		syscalls: ([.[].syscalls[] | .names[] as $n | {names: [$n], tier, errno, when, why}]
			| group_by(.names[0])
			# A call one run allows outright (an "always" entry) and another
			# only for the values it saw: the union is the outright entry.
			| map(if any(.[]; .when == null) then map(select(.when == null)) else . end
				| group_by([.tier, .errno, .when]) | map(.[0]))
			| flatten
			| map(with_entries(select(.value != null))))
	}' "${parts[@]}" >"$f"
	"$syscage" syscalls --profile "$f" >"$f.table" || return 1
}

# summarize_audit FILE.jsonl: FILE.txt, the refused or failed calls with
# their counts. clone3's ENOSYS is left out: every profile answers it so
# on purpose, and libc falls back to clone.
summarize_audit() {
	[ -s "$1" ] || return 0
	jq -r 'select(.decision == "deny" or ((.errno // "") != ""))
		| select((.syscall == "clone3" and .errno == "ENOSYS") | not)
		| "\(.syscall) \(.decision) \(.errno // "-") \(.args // {} | tostring)"' "$1" |
		sort | uniq -c | sort -rn | head -n 30 >"${1%.jsonl}.txt"
}

# ---------------------------------------------------------------- run

run_suite() {
	local suite=$1 list=$2 fn=$3 m rt uid
	local want_learned=0
	case " $runtimes " in *" learned "*) want_learned=1 ;; esac
	# Phase 1: runc, default, strict (and learn, which records) per module;
	# a resumed run has them already.
	[ -z "$resume" ] || list_phase1=""
	for m in ${list_phase1-$list}; do
		for uid in $users; do
			for rt in $runtimes; do
				case $rt in
				learned) "$fn" "$m" "learn:$out/learned/$suite-$(ident "$uid")-${m//\//_}.json" "$uid" || true ;;
				*) "$fn" "$m" "$rt" "$uid" || true ;;
				esac
			done
		done
	done
	# Phase 2: the learned profiles, each module under its identity's union.
	if [ "$want_learned" = 1 ]; then
		for uid in $users; do
			step "merge-$suite-$(ident "$uid")" merge_learned "$suite" "$uid"
		done
		for m in $list; do
			for uid in $users; do
				"$fn" "$m" "learned:$out/learned/$suite-$(ident "$uid").json" "$uid" || true
			done
		done
	fi
}

if [ -n "$resume" ]; then
	[ -f "$resume/results.tsv" ] || die "--resume: $resume/results.tsv missing"
	cat "$resume/results.tsv" >>"$results"
	cp "$resume"/learned/*-*-*.json "$out/learned/" || die "--resume: no learn runs' profiles in $resume/learned"
fi
if [ -n "$report_only" ]; then
	suites=""
	for d in $report_only; do
		[ -f "$d/results.tsv" ] || die "--report: $d/results.tsv missing"
		cat "$d/results.tsv" >>"$results"
		cat "$d/regressions.tsv" >>"$out/regressions.in" 2>/dev/null || true
		cp "$d"/audit/*.jsonl "$out/audit/" 2>/dev/null || true
		cp "$d"/learned/*.json "$d"/learned/*.table "$out/learned/" 2>/dev/null || true
	done
	for a in "$out"/audit/*.jsonl; do summarize_audit "$a"; done
	# A later run's verdict for the same module, runtime and user replaces
	# an earlier one (a rerun after new exclusions); the report says so.
	awk -F'\t' '{ k = $1 FS $2 FS $3 FS $4; if (k in row) { order[k] = order[k]; rerun[k] = 1 } else order[k] = n++; row[k] = $0 }
		END { for (k in row) print order[k] "\t" row[k] (k in rerun ? " (rerun)" : "") }' "$results" |
		sort -n | cut -f2- >"$results.merged"
	mv "$results.merged" "$results"
fi
for suite in $suites; do
	case $suite in
	go)
		if [ "$short" = 1 ]; then pkgs=$go_pkgs_short; else pkgs=$go_pkgs_full; fi
		[ -z "$modules" ] || pkgs=$modules
		step go-setup go_setup "$pkgs"
		run_suite go "$pkgs" run_go
		;;
	python)
		step python-rootfs python_rootfs
		mods=${modules:-$py_modules_full}
		# Modules this CPython does not have are reported, not silently dropped.
		present=""
		for m in $mods; do
			if [ -e "$ROOTFS/usr/lib/python3.11/test/$m.py" ] || [ -d "$ROOTFS/usr/lib/python3.11/test/$m" ]; then
				present="$present $m"
			else
				echo "compat: python module $m is not in this CPython's test suite" | tee -a "$out/missing.txt"
			fi
		done
		run_suite python "$present" run_python
		;;
	*) die "unknown suite $suite" ;;
	esac
done

# ---------------------------------------------------------------- audit

# A module whose verdict under a syscage profile differs from runc's is run
# again with the audit stream on; the denied and failed calls are summed up.
regressions=$out/regressions.tsv
: >"$regressions"
awk -F'\t' '$3 == "runc" { base[$1 FS $2 FS $4] = $5 }
	$3 != "runc" && ($1 FS $2 FS $4) in base && base[$1 FS $2 FS $4] != $5 { print }' "$results" >"$regressions"
while IFS=$'\t' read -r suite m name uid _; do
	[ -n "$suite" ] || continue
	[ -z "$report_only" ] || continue
	rt=$name
	case $name in
	learn) rt=learn:$out/learned/rerun.json ;;
	learned) rt=learned:$out/learned/$suite-$(ident "$uid").json ;;
	esac
	a=$out/audit/$suite-${m//\//_}-$name-$(ident "$uid").jsonl
	if [ "$suite" = go ]; then run_go "$m" "$rt" "$uid" "$a" || true; else run_python "$m" "$rt" "$uid" "$a" || true; fi
	summarize_audit "$a"
done <"$regressions"

# ---------------------------------------------------------------- report

{
	echo "# compat results $(date -u +%Y-%m-%dT%H:%MZ), $(uname -r), syscage $(git -C "$repo" rev-parse --short HEAD), runc $(runc --version | head -n 1 | awk '{print $3}')"
	echo
	echo "## per module (verdict / seconds / exclusion rows applied / detail)"
	echo
	awk -F'\t' '{ printf "%-6s %-28s %-8s %-7s %-7s %5ss  excluded=%s  %s\n", $1, $2, $3, ($4 == 0 ? "root" : "uid" $4), $5, $6, $7, $8 }' "$results"
	echo
	echo "## counts: modules passed / failed / skipped (timeouts count as failed)"
	echo
	printf '%-6s %-8s %-7s %6s %6s %7s %8s\n' suite runtime user passed failed skipped excl.rows
	awk -F'\t' '{ k = $1 FS $3 FS ($4 == 0 ? "root" : "uid" $4); if (!(k in seen)) { seen[k] = 1; order[n++] = k }
		if ($5 == "pass") p[k]++; else if ($5 == "skip") s[k]++; else f[k]++; x[k] += $7 }
		END { for (i = 0; i < n; i++) { split(order[i], a, FS); printf "%-6s %-8s %-7s %6d %6d %7d %8d\n", a[1], a[2], a[3], p[order[i]], f[order[i]], s[order[i]], x[order[i]] } }' "$results"
	echo
	echo "## differences from runc (same module, same user)"
	echo
	if [ -s "$regressions" ]; then
		while IFS=$'\t' read -r suite m name uid v _; do
			echo "$suite $m $name $(ident "$uid"): $v (runc: $(awk -F'\t' -v s="$suite" -v m="$m" -v u="$uid" '$1 == s && $2 == m && $3 == "runc" && $4 == u { print $5 }' "$results"))"
			t=$out/audit/$suite-${m//\//_}-$name-$(ident "$uid").txt
			[ ! -s "$t" ] || sed 's/^/    audit: /' "$t" | head -n 8
		done <"$regressions"
	else
		echo "none"
	fi
	for f in "$out"/learned/*-root.json.table "$out"/learned/*-uid1000.json.table; do
		[ -f "$f" ] || continue
		echo
		echo "learned profile $(basename "${f%.json.table}"): $(tail -n 1 "$f")"
	done
	echo "default: $("$syscage" syscalls --profile default | tail -n 1)"
} >"$out/report.txt"
cat "$out/report.txt"

passed=$(awk -F'\t' '$5 == "pass"' "$results" | wc -l)
skipped=$(awk -F'\t' '$5 == "skip"' "$results" | wc -l)
failed=$(awk -F'\t' '$5 != "pass" && $5 != "skip"' "$results" | wc -l)
nreg=$(grep -c . "$regressions" || true)
echo "compat: report in $out/report.txt; $nreg differences from runc; $skipped runs skipped (the module skipped itself)"
echo "compat: $passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$nreg" = 0 ]
