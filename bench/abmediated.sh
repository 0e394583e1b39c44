#!/usr/bin/env bash
# abmediated.sh [--rounds N] [--target-ms MS] [--out DIR] A B [MORE...]:
# an interleaved A/B of syscage binaries on the mediated calls.
#
# Each round runs, for every binary in turn (the order reversed every
# other round), one container each of: `syscallbench uname` (emulated),
# `syscallbench getppid` under a profile file that makes getppid a
# checked call, and `syscallbench tcpconnect` under strict (connect
# proxied); then, once per round, runc's tcpconnect and the C floors of
# bench/notifyfloor.c (a thread of the caller's process; a process of its
# own answering a value; one that also writes a struct utsname). It
# prints medians (min-max) of each, the ratios to the floors, and the
# median over rounds of each binary's same-round ratio to the first (A).
# Binaries are named by their file name; copy each build to a name of its
# own (cp bin/syscage /tmp/syscage-before).
#
# Needs root, gcc with static libc, jq, runc, busybox-static
# (scripts/mkbundle.sh). Results: DIR/raw.csv (round,bench,variant,ns).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
rounds=7
target_ms=300
out=""
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=$2; shift ;;
	--target-ms) target_ms=$2; shift ;;
	--out) out=$2; shift ;;
	-h | --help) sed -n '2,/^set -e/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	-*) echo "abmediated.sh: unknown argument $1" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
[ $# -ge 2 ] || { echo "abmediated.sh: need at least two syscage binaries (see --help)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "abmediated.sh: needs root" >&2; exit 1; }
bins=()
for b in "$@"; do
	[ -x "$b" ] || { echo "abmediated.sh: $b is not an executable" >&2; exit 2; }
	bins+=("$(cd "$(dirname "$b")" && pwd)/$(basename "$b")")
done
names=$(for b in "${bins[@]}"; do basename "$b"; done | sort | uniq -d)
[ -z "$names" ] || { echo "abmediated.sh: two binaries named $names: copy them to names of their own" >&2; exit 2; }

work=$(mktemp -d /tmp/syscage-ab.XXXXXX)
out=${out:-$work/results}
mkdir -p "$out"
raw=$out/raw.csv
echo "round,bench,variant,ns" >"$raw"
cleanup() {
	for b in "${bins[@]}"; do
		for id in $("$b" --root "$work/state" list -q 2>/dev/null || true); do
			"$b" --root "$work/state" delete --force "$id" >/dev/null 2>&1 || true
		done
	done
	for id in $(runc --root "$work/state-runc" list -q 2>/dev/null || true); do
		runc --root "$work/state-runc" delete --force "$id" >/dev/null 2>&1 || true
	done
	if [ "$out" = "$work/results" ]; then
		find "$work" -mindepth 1 -maxdepth 1 ! -name results -exec rm -rf {} +
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

gcc -O2 -Wall -static -pthread -o "$work/syscallbench" "$repo/bench/syscallbench.c"
gcc -O2 -Wall -static -pthread -o "$work/notifyfloor" "$repo/bench/notifyfloor.c"
SYSCAGE=${bins[0]} "$repo/scripts/mkbundle.sh" "$work/true" /bin/true >/dev/null
cp "$work/syscallbench" "$work/true/rootfs/syscallbench"
for b in uname getppid tcpconnect; do
	mkdir -p "$work/micro-$b"
	jq --arg root "$work/true/rootfs" --arg b "$b" --arg ms "$target_ms" '
		.root.path = $root
		| .process.args = ["/syscallbench", $b]
		| .process.env += ["BENCH_TARGET_MS=" + $ms]
		| .mounts += [{destination: "/tmp", type: "tmpfs", source: "tmpfs",
		               options: ["nosuid", "nodev", "mode=1777", "size=64m"]}]
	' "$work/true/config.json" >"$work/micro-$b/config.json"
done
cat >"$work/check-getppid.json" <<'EOF_PROFILE'
{"syscageProfile": 1, "name": "bench-check", "base": "default",
 "syscalls": [{"names": ["getppid"], "tier": "check", "why": "bench/abmediated.sh: a checked value-only call"}]}
EOF_PROFILE

# ns_of OUTPUT: the ns/op field of a syscallbench line (NAME NS ITERATIONS).
ns_of() { echo "$1" | cut -d' ' -f2; }

for ((r = 1; r <= rounds; r++)); do
	echo "abmediated.sh: round $r/$rounds" >&2
	order=("${bins[@]}")
	if ((r % 2 == 0)); then
		order=()
		for ((i = ${#bins[@]} - 1; i >= 0; i--)); do order+=("${bins[$i]}"); done
	fi
	for bin in "${order[@]}"; do
		v=$(basename "$bin")
		for m in "uname" "getppid --profile $work/check-getppid.json" "tcpconnect --profile strict"; do
			# shellcheck disable=SC2086 # split the entry into its fields
			set -- $m # BENCH [PROFILE ARGS]
			b=$1
			shift
			if res=$(timeout 120 "$bin" --root "$work/state" run "$@" --bundle "$work/micro-$b" \
				"ab-$SRANDOM$SRANDOM" </dev/null) && [ -n "$res" ]; then
				echo "$r,$b,$v,$(ns_of "$res")" >>"$raw"
			else
				echo "abmediated.sh: $b under $v failed (round $r)" >&2
			fi
		done
	done
	if res=$(timeout 120 runc --root "$work/state-runc" run --bundle "$work/micro-tcpconnect" \
		"ab-$SRANDOM$SRANDOM" </dev/null) && [ -n "$res" ]; then
		echo "$r,tcpconnect,runc,$(ns_of "$res")" >>"$raw"
	fi
	for m in "thread value" "process value" "process uname"; do
		# shellcheck disable=SC2086 # split the entry into its fields
		set -- $m # MODE CALL
		ns=$("$work/notifyfloor" 100000 "$1" "$2" | sed -n 's/^notify round trip: \([0-9]*\) ns.*/\1/p')
		[ -n "$ns" ] && echo "$r,floor-$1-$2,host,$ns" >>"$raw"
	done
done

# median KEY: the median of the values of bench,variant KEY; range too.
stats() {
	awk -F, -v k="$1" 'NR > 1 && $2 "," $3 == k { print $4 }' "$raw" | sort -n | awk '
		{ v[NR] = $1 }
		END { if (NR == 0) { print "0 0 0"; exit }
		      m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      print m, v[1], v[NR] }'
}
# ratio_median BENCH A B: the median over rounds of B/A in the same round.
ratio_median() {
	awk -F, -v b="$1" -v x="$2" -v y="$3" 'NR > 1 && $2 == b { val[$1 "," $3] = $4; rs[$1] = 1 }
		END { for (r in rs) if ((r "," x) in val && (r "," y) in val) printf "%.4f\n", val[r "," y] / val[r "," x] }' "$raw" |
		sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "n/a"; exit }
			m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.3f (%.3f-%.3f, %d rounds)\n", m, v[1], v[NR], NR }'
}
us() { awk -v n="$1" 'BEGIN { printf "%.2f", n / 1000 }'; }

read -r fl _ _ < <(stats floor-thread-value,host)
read -r fv _ _ < <(stats floor-process-value,host)
read -r fu _ _ < <(stats floor-process-uname,host)
read -r rc _ _ < <(stats tcpconnect,runc)
echo
echo "Floors (medians): C thread $(us "$fl") µs; C process, value $(us "$fv") µs; C process, utsname written $(us "$fu") µs; runc tcpconnect $(us "$rc") µs"
echo
echo "| binary | uname | / floor | / process-uname floor | checked getppid | / floor | / process floor | strict connect | / (floor + runc) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for bin in "${bins[@]}"; do
	v=$(basename "$bin")
	read -r u ul uh < <(stats "uname,$v")
	read -r g gl gh < <(stats "getppid,$v")
	read -r c cl ch < <(stats "tcpconnect,$v")
	awk -v v="$v" -v u="$u" -v ul="$ul" -v uh="$uh" -v g="$g" -v gl="$gl" -v gh="$gh" \
		-v c="$c" -v cl="$cl" -v ch="$ch" -v fl="$fl" -v fv="$fv" -v fu="$fu" -v rc="$rc" 'BEGIN {
		printf "| %s | %.2f µs (%.2f-%.2f) | %.2f× | %.2f× | %.2f µs (%.2f-%.2f) | %.2f× | %.2f× | %.2f µs (%.2f-%.2f) | %.2f× |\n",
			v, u / 1000, ul / 1000, uh / 1000, u / fl, u / fu, g / 1000, gl / 1000, gh / 1000, g / fl, g / fv,
			c / 1000, cl / 1000, ch / 1000, c / (fl + rc) }'
done
echo
a=$(basename "${bins[0]}")
for bin in "${bins[@]:1}"; do
	v=$(basename "$bin")
	for b in uname getppid tcpconnect; do
		echo "$b: $v / $a, same-round median $(ratio_median "$b" "$a" "$v")"
	done
done
echo
echo "Command: bench/abmediated.sh --rounds $rounds --target-ms $target_ms $(for b in "${bins[@]}"; do printf '%s ' "$b"; done)"
echo "Raw: $raw"
