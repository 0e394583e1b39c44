#!/usr/bin/env bash
# bench/run.sh [--quick] [--rounds R] [--runs N] [--target-ms MS] [--no-runsc]
#              [--no-seccomp-baseline] [--only BENCH,...] [--out DIR]
#
# Benchmarks syscage against runc, against runc with the containers default
# seccomp profile ("runc+seccomp", as Docker and Podman run it), and against
# gVisor's runsc (ptrace platform, when it is installed) in ONE interleaved
# run, so that machine noise hits every runtime alike, and prints a markdown
# table of medians and ratios to runc and of syscage to runc+seccomp.
#
#   micro:      bench/syscallbench.c (static) run inside a container, one
#               container per benchmark per runtime per round; it prints
#               ns/op for a batch calibrated to last --target-ms.
#   end-to-end: wall time of `RUNTIME run` of a busybox bundle whose process
#               is /bin/true, --runs runs per runtime.
#   mediated:   in every round, syscage alone runs getppid under a profile
#               file that makes it a checked call and the loopback connect
#               benchmark under `strict` (connect proxied), and
#               bench/notifyfloor.c measures the notification floor on the
#               host (a C supervisor thread, a supervisor process, one that
#               writes a struct utsname, and with 2 and 8 callers), so the
#               mediated calls print beside the floor of the same run.
#
# runc+seccomp: the same runc binary on copies of the bundles whose
# config.json also has a linux.seccomp section, the containers default
# profile /usr/share/containers/seccomp.json (Debian package
# golang-github-containers-common; Docker's default profile in Podman's
# format) converted by jq into the OCI form for x86_64 and the bundle's
# capabilities. Any seccomp filter costs ~30 ns per system call, and
# compiling an allowlist costs ms at each container start: the column
# separates that cost, which every filtered container pays, from syscage's
# own. Left out by --no-seccomp-baseline, or when the profile is missing.
#
# Interleaving: within a round every benchmark is run under each runtime
# back to back, and the runtime order rotates from round to round. The
# reported value is the median over rounds; ratio = median / runc median,
# and "syscage / runc+seccomp" = syscage's median / runc+seccomp's median.
#
# Needs root, gcc with static libc, jq, busybox-static (scripts/mkbundle.sh).
# --only: these micro benchmarks only (syscallbench list names them; e.g.
# sysinfo,meminfo for the resource views); --runs 0 skips end-to-end.
# --quick: 3 rounds, 150 ms batches, 10 end-to-end runs (about a minute).
# Default: 15 rounds, 400 ms batches, 20 end-to-end runs (about 9 minutes).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cmdline="bench/run.sh${*:+ $*}"

rounds=15
runs=20
target_ms=400
use_runsc=1
use_seccomp=1
seccomp_profile=/usr/share/containers/seccomp.json
out=""
only=""
while [ $# -gt 0 ]; do
	case $1 in
	--quick) rounds=3 runs=10 target_ms=150 ;;
	--rounds) rounds=$2; shift ;;
	--runs) runs=$2; shift ;;
	--target-ms) target_ms=$2; shift ;;
	--no-runsc) use_runsc=0 ;;
	--no-seccomp-baseline) use_seccomp=0 ;;
	--out) out=$2; shift ;;
	--only) only=$2; shift ;;
	-h | --help) sed -n '2,/^set -e/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root" >&2; exit 1; }

log() { echo "run.sh: $*" >&2; }

# --- build -----------------------------------------------------------------
log "building bin/syscage and bench/syscallbench"
make -C "$repo" build >/dev/null
syscage=$repo/bin/syscage
syscage_commit=$("$syscage" --version | sed -n 's/^commit: //p')

work=$(mktemp -d /tmp/syscage-bench.XXXXXX)
out=${out:-$work/results}
mkdir -p "$out"
raw=$out/raw.csv # round,benchmark,runtime,value (micro: ns/op; run: ms)
echo "round,benchmark,runtime,value" >"$raw"

gcc -O2 -Wall -static -pthread -o "$work/syscallbench" "$repo/bench/syscallbench.c"
# The notification floor (bench/notifyfloor.c) runs on the host: a nested
# listener is refused inside a syscage container.
gcc -O2 -Wall -static -pthread -o "$work/notifyfloor" "$repo/bench/notifyfloor.c"

# --- runtimes ----------------------------------------------------------------
# Each runtime is a command prefix with its own --root state directory.
declare -A rt_cmd
rt_cmd[runc]="runc --root $work/state/runc"
rt_cmd[runc+seccomp]="runc --root $work/state/runc-seccomp"
rt_cmd[syscage]="$syscage --root $work/state/syscage"
runtimes=(runc)
if [ "$use_seccomp" = 0 ]; then
	log "runc+seccomp left out (--no-seccomp-baseline)"
elif [ ! -f "$seccomp_profile" ]; then
	log "runc+seccomp left out: no $seccomp_profile (golang-github-containers-common)"
	use_seccomp=0
else
	runtimes+=(runc+seccomp)
fi
runtimes+=(syscage)
seccomp_info="" runsc_version=""
if [ "$use_runsc" = 1 ] && command -v runsc >/dev/null; then
	# ptrace: this 2022 Debian build has no systrap, and its kvm platform
	# spins without starting a container on this (nested) machine.
	rt_cmd[runsc]="runsc --root $work/state/runsc --platform=ptrace --network=none"
	runtimes+=(runsc)
	runsc_version="; $(runsc --version | head -1) (--platform=ptrace --network=none)"
fi

cleanup() {
	# Remove any container a failed or interrupted run left behind, then
	# the bundles and state (results stay if --out pointed elsewhere).
	for rt in "${runtimes[@]}"; do
		for id in $(${rt_cmd[$rt]} list -q 2>/dev/null || true); do
			${rt_cmd[$rt]} delete --force "$id" >/dev/null 2>&1 || true
		done
	done
	if [ "$out" = "$work/results" ]; then
		find "$work" -mindepth 1 -maxdepth 1 ! -name results -exec rm -rf {} +
		log "results kept in $out"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

# A profile file that makes getppid a checked call (notified, decided on
# values, then let go on to the kernel), for the checked-call benchmark.
cat >"$work/check-getppid.json" <<'EOF_PROFILE'
{"syscageProfile": 1, "name": "bench-check", "base": "default",
 "syscalls": [{"names": ["getppid"], "tier": "check", "why": "bench/run.sh: a checked value-only call"}]}
EOF_PROFILE

# --- bundles -----------------------------------------------------------------
# One busybox root file system; the end-to-end bundle runs /bin/true in it,
# and each micro benchmark gets a bundle of its own that points at the same
# root (absolute root.path) with a tmpfs on /tmp for the benchmark's files.
# runc+seccomp runs copies of these bundles, $work/seccomp/NAME, whose
# config.json adds the converted profile as .linux.seccomp.
log "preparing bundles in $work"
SYSCAGE=$syscage "$repo/scripts/mkbundle.sh" "$work/true" /bin/true >/dev/null
cp "$work/syscallbench" "$work/true/rootfs/syscallbench"
benches=$("$work/syscallbench" list)
if [ -n "$only" ]; then
	for b in ${only//,/ }; do
		echo "$benches" | grep -qx "$b" || { log "--only: no benchmark $b (have: $(echo $benches))"; exit 2; }
	done
	benches=${only//,/ }
fi
for b in $benches; do
	mkdir -p "$work/micro-$b"
	jq --arg root "$work/true/rootfs" --arg b "$b" --arg ms "$target_ms" '
		.root.path = $root
		| .process.args = ["/syscallbench", $b]
		| .process.env += ["BENCH_TARGET_MS=" + $ms]
		| .mounts += [{destination: "/tmp", type: "tmpfs", source: "tmpfs",
		               options: ["nosuid", "nodev", "mode=1777", "size=64m"]}]
	' "$work/true/config.json" >"$work/micro-$b/config.json"
done

# The containers profile in the OCI runtime-spec form: x86_64 and its
# sub-architectures from archMap; of the rules, those whose includes
# (arches, caps, minKernel) hold for amd64, the bundle's bounding set and
# the running kernel, and whose excludes (arches, caps) do not; each rule
# reduced to names, action, args and errnoRet.
if [ "$use_seccomp" = 1 ]; then
	jq --argjson caps "$(jq -c '.process.capabilities.bounding // []' "$work/true/config.json")" \
		--arg kernel "$(uname -r)" '
		def kver: split(".") | .[0:2] | map(capture("^(?<n>[0-9]+)").n | tonumber);
		def amd64: any(.[]; . == "amd64" or . == "x86_64");
		def held: . as $c | $caps | index([$c]) != null;
		{
			defaultAction: .defaultAction,
			architectures: [.archMap[] | select(.architecture == "SCMP_ARCH_X86_64")
			                | .architecture, .subArchitectures[]],
			syscalls: [.syscalls[]
				| select((.includes.arches // []) | length == 0 or amd64)
				| select(all((.includes.caps // [])[]; held))
				| select(.includes.minKernel == null
				         or (.includes.minKernel | kver) <= ($kernel | kver))
				| select((.excludes.arches // []) | amd64 | not)
				| select(any((.excludes.caps // [])[]; held) | not)
				| {names, action}
				  + (if (.args // []) != [] then {args} else {} end)
				  + (if .errnoRet != null then {errnoRet} else {} end)]
		}
		+ (if .defaultErrnoRet != null then {defaultErrnoRet} else {} end)
	' "$seccomp_profile" >"$work/seccomp.json"
	for name in true $(for b in $benches; do echo "micro-$b"; done); do
		mkdir -p "$work/seccomp/$name"
		jq --arg root "$work/true/rootfs" --slurpfile seccomp "$work/seccomp.json" '
			.root.path = $root | .linux.seccomp = $seccomp[0]
		' "$work/$name/config.json" >"$work/seccomp/$name/config.json"
	done
	seccomp_info="; runc+seccomp: $seccomp_profile ($(jq -r \
		'"\(.syscalls | length) rules, \([.syscalls[].names[]] | length) names, default \(.defaultAction)"' \
		"$work/seccomp.json"))"
fi

# bundle RUNTIME NAME: the bundle dir NAME (true, micro-BENCH) for RUNTIME.
bundle() {
	if [ "$1" = runc+seccomp ]; then echo "$work/seccomp/$2"; else echo "$work/$2"; fi
}

# run_ctr RUNTIME BUNDLE: runs a container in the foreground with a fresh id;
# its stdout is the caller's. A hung runtime is killed after 120 s.
run_ctr() {
	local rt=$1 bundle=$2 id=bench-$SRANDOM$SRANDOM # run in $(...): no counter
	# shellcheck disable=SC2086 # rt_cmd is a command prefix: split it
	if ! timeout 120 ${rt_cmd[$rt]} run --bundle "$bundle" "$id" </dev/null; then
		${rt_cmd[$rt]} delete --force "$id" >/dev/null 2>&1 || true
		return 1
	fi
}

# order ROUND: the runtimes rotated by ROUND, so none always goes first.
order() {
	local n=${#runtimes[@]} i
	for ((i = 0; i < n; i++)); do echo "${runtimes[$(((i + $1) % n))]}"; done
}

# --- warm-up: one untimed run per runtime (page cache, binaries) -------------
for rt in "${runtimes[@]}"; do
	run_ctr "$rt" "$(bundle "$rt" true)" || { log "$rt cannot run a container"; exit 1; }
done

# --- micro benchmarks ----------------------------------------------------------
for ((r = 1; r <= rounds; r++)); do
	log "micro round $r/$rounds"
	for b in $benches; do
		for rt in $(order "$r"); do
			if res=$(run_ctr "$rt" "$(bundle "$rt" "micro-$b")") && [ -n "$res" ]; then
				# shellcheck disable=SC2086 # split the line into its fields
				set -- $res # NAME NS_PER_OP ITERATIONS
				echo "$r,$b,$rt,$2" >>"$raw"
			else
				log "$b under $rt failed (round $r)"
			fi
		done
	done
	# Mediated calls under the profiles that notify them (syscage only):
	# getppid checked (a profile file), loopback connect proxied (strict).
	for m in "getppid-check getppid $work/check-getppid.json" "tcpconnect-strict tcpconnect strict"; do
		# shellcheck disable=SC2086 # split the entry into its fields
		set -- $m # NAME BENCHMARK PROFILE
		if res=$(timeout 120 ${rt_cmd[syscage]} run --profile "$3" --bundle "$work/micro-$2" \
			"bench-$SRANDOM$SRANDOM" </dev/null) && [ -n "$res" ]; then
			echo "$r,$1,syscage,$(echo "$res" | cut -d' ' -f2)" >>"$raw"
		else
			log "$1 under syscage failed (round $r)"
		fi
	done
	# The floor of a mediated call, in the same round: one notification
	# round trip answered by a minimal C supervisor (a thread of the
	# caller's process; a process of its own, as the sentry is; one that
	# also writes a struct utsname as uname's emulation must; and with 2
	# and 8 callers at once).
	for m in "notify-floor thread value 1" "notify-floor-process process value 1" \
		"notify-floor-uname process uname 1" "notify-floor-uname-x2 process uname 2" \
		"notify-floor-uname-x8 process uname 8"; do
		# shellcheck disable=SC2086 # split the entry into its fields
		set -- $m # NAME MODE CALL CALLERS
		if res=$("$work/notifyfloor" 100000 "$2" "$3" "$4") && [ -n "$res" ]; then
			# "notify round trip: N ns/op (...)"
			echo "$r,$1,host,$(echo "$res" | sed -n 's/^notify round trip: \([0-9]*\) ns.*/\1/p')" >>"$raw"
		else
			log "notifyfloor $2 $3 $4 failed (round $r)"
		fi
	done
done

# --- end to end: run of /bin/true ------------------------------------------------
log "end-to-end: $runs runs of /bin/true per runtime"
for ((i = 1; i <= runs; i++)); do
	for rt in $(order "$i"); do
		bundle_dir=$(bundle "$rt" true)
		t0=$EPOCHREALTIME
		if run_ctr "$rt" "$bundle_dir"; then
			t1=$EPOCHREALTIME
			echo "$i,run-true,$rt,$(echo "($t1 - $t0) * 1000" | bc -l)" >>"$raw"
		else
			log "run of /bin/true under $rt failed ($i)"
		fi
	done
done

# --- report ------------------------------------------------------------------------
# Medians per (benchmark, runtime); micro values are shown in µs/op, the
# end-to-end ones in ms per run. Ratios are medians over runc's median,
# and syscage's over runc+seccomp's. The spread table gives, per benchmark,
# the min, median and max over rounds of syscage/runc and of
# syscage/(runc+seccomp) measured in the same round.
report() {
	echo "| benchmark | runc | runc+seccomp | ratio | syscage | ratio | syscage / runc+seccomp | runsc | ratio |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	awk -F, -v benches="$benches run-true" '
	function median(key,   n, i, j, t, a) {
		n = split(vals[key], a, " ")
		if (n == 0) return ""
		for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j+1] = a[j]; a[j+1] = t }
		return (n % 2) ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
	}
	function fmt(v, unit) {
		if (v == "") return "n/a"
		return sprintf(v >= 100 ? "%.0f %s" : v >= 10 ? "%.1f %s" : v >= 1 ? "%.2f %s" : "%.3f %s", v, unit)
	}
	function ratio(v, base) { return (v == "" || base == "") ? "n/a" : sprintf("%.2f×", v / base) }
	NR > 1 { vals[$2 "," $3] = vals[$2 "," $3] " " $4 }
	END {
		label["getpid"] = "getpid"; label["read4k"] = "read 4 KiB (tmpfs file)"
		label["write4k"] = "write 4 KiB (tmpfs file)"; label["openclose"] = "open+close (tmpfs)"
		label["stat"] = "stat (tmpfs)"; label["forkwait"] = "fork+wait"
		label["exec"] = "fork+exec+wait (static true)"; label["pipe"] = "pipe ping-pong (round trip)"
		label["tcpconnect"] = "loopback TCP connect+accept+close"; label["uname"] = "uname (emulated by the sentry)"
		label["uname-x2"] = "uname, 2 threads at once (per call)"; label["uname-x8"] = "uname, 8 threads at once (per call)"
		label["getppid"] = "getppid"
		label["run-true"] = "`run` of /bin/true, end to end"
		label["sysinfo"] = "sysinfo (emulated: the cgroup)"; label["meminfo"] = "read /proc/meminfo (open, read to EOF, close)"
		n = split(benches, bs, " ")
		for (i = 1; i <= n; i++) {
			b = bs[i]
			if (b == "run-true") { div = 1; unit = "ms" } else { div = 1000; unit = "µs" }
			rc = median(b ",runc"); rcs = median(b ",runc+seccomp")
			sc = median(b ",syscage"); rs = median(b ",runsc")
			if (rc != "") rc /= div; if (rcs != "") rcs /= div
			if (sc != "") sc /= div; if (rs != "") rs /= div
			printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", label[b], fmt(rc, unit),
				fmt(rcs, unit), ratio(rcs, rc), fmt(sc, unit), ratio(sc, rc), ratio(sc, rcs),
				fmt(rs, unit), ratio(rs, rc)
		}
	}' "$raw"
	echo
	awk -F, '
	function median(key,   n, i, j, t, a) {
		n = split(vals[key], a, " ")
		if (n == 0) return ""
		for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j+1] = a[j]; a[j+1] = t }
		return (n % 2) ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
	}
	NR > 1 { vals[$2 "," $3] = vals[$2 "," $3] " " $4 }
	END {
		f = median("notify-floor,host"); fp = median("notify-floor-process,host")
		fu = median("notify-floor-uname,host"); f2 = median("notify-floor-uname-x2,host")
		f8 = median("notify-floor-uname-x8,host"); rc = median("tcpconnect,runc")
		if (f == "") exit
		print "Mediated calls against the notification floor (bench/notifyfloor.c on the host, same rounds; medians, µs per call):"
		print ""
		print "| call | syscage | floor | syscage / floor | goal |"
		print "|---|---:|---:|---:|---|"
		row("uname (emulated)", median("uname,syscage"), f, "≤ 1.3× floor")
		row("getppid (checked, a profile file)", median("getppid-check,syscage"), f, "≤ 1.3× floor")
		c = median("tcpconnect-strict,syscage")
		if (c != "" && rc != "")
			printf "| loopback connect+accept+close (connect proxied, strict) | %.2f | %.2f + runc %.2f = %.2f | %.2f× | ≤ 1.3× (floor + runc) |\n", c / 1000, f / 1000, rc / 1000, (f + rc) / 1000, c / (f + rc)
		print ""
		print "floor = a getppid answered with a value by a C thread of the caller'"'"'s process. Other floors measured in the same rounds:"
		printf "a supervisor process of its own %s µs; one that also checks the notification and writes a struct utsname (process_vm_writev) %s µs.\n", fmt(fp), fmt(fu)
		print ""
		print "Callers at once (µs per call = batch time / all calls: the inverse of throughput):"
		print ""
		print "| callers | syscage uname | C floor (supervisor process, uname written) |"
		print "|---:|---:|---:|"
		printf "| 1 | %s | %s |\n", fmt(median("uname,syscage")), fmt(fu)
		printf "| 2 | %s | %s |\n", fmt(median("uname-x2,syscage")), fmt(f2)
		printf "| 8 | %s | %s |\n", fmt(median("uname-x8,syscage")), fmt(f8)
	}
	function fmt(v) { return v == "" ? "n/a" : sprintf("%.2f", v / 1000) }
	function row(name, v, fl, goal) {
		if (v == "") { printf "| %s | n/a | %.2f | n/a | %s |\n", name, fl / 1000, goal; return }
		printf "| %s | %.2f | %.2f | %.2f× | %s |\n", name, v / 1000, fl / 1000, v / fl, goal
	}' "$raw"
	echo
	echo "Spread of syscage/runc and syscage/(runc+seccomp) over rounds (same-round pairs): min / median / max"
	echo
	echo "| benchmark | syscage/runc min | median | max | syscage/(runc+seccomp) min | median | max |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	awk -F, -v benches="$benches run-true" '
	# spread(B, BASE): "min | median | max" of syscage/BASE over the rounds
	# of benchmark B that have both.
	function spread(b, base,   k, p, m, x, y, t, r, med) {
		m = 0
		for (k in v) {
			split(k, p, ",")
			if (p[2] == b && p[3] == base && ((p[1] "," b ",syscage") in v))
				r[++m] = v[p[1] "," b ",syscage"] / v[k]
		}
		if (m == 0) return "n/a | n/a | n/a"
		for (x = 2; x <= m; x++) { t = r[x]; for (y = x - 1; y >= 1 && r[y] > t; y--) r[y+1] = r[y]; r[y+1] = t }
		med = (m % 2) ? r[(m+1)/2] : (r[m/2] + r[m/2+1]) / 2
		return sprintf("%.2f× | %.2f× | %.2f×", r[1], med, r[m])
	}
	NR > 1 { v[$1 "," $2 "," $3] = $4 }
	END {
		n = split(benches, bs, " ")
		for (i = 1; i <= n; i++)
			printf "| %s | %s | %s |\n", bs[i], spread(bs[i], "runc"), spread(bs[i], "runc+seccomp")
	}' "$raw"
	echo
	echo "Command: \`$cmdline\` (rounds: $rounds, ${target_ms} ms batches, $runs end-to-end runs per runtime)"
	echo
	echo "Machine: $(date -u '+%Y-%m-%d %H:%M UTC'); kernel $(uname -r);" \
		"CPU $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores;" \
		"$(runc --version | head -1); syscage $syscage_commit$seccomp_info$runsc_version"
}
report | tee "$out/results.md"
