#!/usr/bin/env bash
# bench/do-startup.sh [--runs N] [--user NAME] [--syscage PATH]
#
# Start-up of a sandboxed /bin/true, in ONE interleaved run (the order of
# the tools rotates from run to run, so machine noise hits all alike):
#
#   syscage do      syscage do -- /bin/true (host / read-only, new pid, ipc,
#                   uts, mount, cgroup and network namespaces, the sentry)
#   bwrap           bwrap with the same view: / read-only, its own /dev,
#                   /proc and /tmp, --unshare-all (no sentry, no seccomp)
#   runc run        runc run of a busybox bundle whose process is /bin/true
#   syscage run     syscage run of the same bundle
#   runsc do        gVisor's runsc do /bin/true (when runsc is installed)
#
# and, with --user (default sctest, when it exists), the rootless pair:
# syscage do and bwrap as that user. Prints a markdown table of medians
# (ms) and the ratio of each to runc run's median. Needs root, bwrap
# (apt-get install bubblewrap), runc, busybox-static and jq.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cmdline="bench/do-startup.sh${*:+ $*}"
runs=30
user=sctest
syscage=$repo/bin/syscage
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift ;;
	--user) user=$2; shift ;;
	--syscage) syscage=$2; shift ;;
	-h | --help) sed -n '2,/^set -e/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "do-startup.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || { echo "do-startup.sh: run as root" >&2; exit 1; }
for t in bwrap runc jq; do
	command -v $t >/dev/null || { echo "do-startup.sh: $t is not installed" >&2; exit 1; }
done
[ -x "$syscage" ] || { echo "do-startup.sh: no $syscage (make build)" >&2; exit 1; }

work=$(mktemp -d /tmp/do-startup.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
cp "$syscage" "$work/syscage" # a copy the unprivileged user can run
syscage=$work/syscage
SYSCAGE=$syscage "$repo/scripts/mkbundle.sh" "$work/bundle" /bin/true >/dev/null
mkdir -p "$work/cwd" "$work/ucwd"
if ! id "$user" >/dev/null 2>&1; then user=""; fi
if [ -n "$user" ]; then
	chown "$user:" "$work/ucwd"
	uid=$(id -u "$user") gid=$(id -g "$user")
	uxdg=$work/uxdg
	mkdir -m 700 "$uxdg" && chown "$user:" "$uxdg"
fi

bwrap_args=(--ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --unshare-all --die-with-parent --new-session)
declare -A cmd
names=("syscage do" "bwrap" "runc run" "syscage run")
cmd["syscage do"]="cd $work/cwd && $syscage do -- /bin/true"
cmd["bwrap"]="bwrap ${bwrap_args[*]} /bin/true"
cmd["runc run"]="runc --root $work/runc run -b $work/bundle r\$i"
cmd["syscage run"]="$syscage --root $work/sc run -b $work/bundle s\$i"
if command -v runsc >/dev/null && runsc --root "$work/runsc" --network=none do /bin/true >/dev/null 2>&1; then
	names+=("runsc do")
	cmd["runsc do"]="runsc --root $work/runsc --network=none do /bin/true"
fi
if [ -n "$user" ]; then
	as="setpriv --reuid=$uid --regid=$gid --clear-groups --inh-caps=-all env -i PATH=/usr/bin:/bin HOME=$work/ucwd XDG_RUNTIME_DIR=$uxdg"
	names+=("syscage do (rootless)" "bwrap (rootless)")
	cmd["syscage do (rootless)"]="cd $work/ucwd && $as $syscage do -- /bin/true"
	cmd["bwrap (rootless)"]="cd $work/ucwd && $as bwrap ${bwrap_args[*]} /bin/true"
fi

declare -A samples
n=${#names[@]}
for i in $(seq 1 "$runs"); do
	for k in $(seq 0 $((n - 1))); do
		name=${names[$(((k + i) % n))]}
		c=${cmd[$name]}
		c=${c//\$i/$i}
		t0=$(date +%s%N)
		if ! bash -c "$c" >/dev/null 2>"$work/err"; then
			echo "do-startup.sh: $name failed: $(cat "$work/err")" >&2
			exit 1
		fi
		t1=$(date +%s%N)
		samples[$name]+="$(((t1 - t0) / 1000)) "
	done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
base=$(echo "${samples["runc run"]}" | median)
echo "# $cmdline — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, kernel $(uname -r), $runs runs each, interleaved"
echo
echo "| start-up of /bin/true | median (ms) | ratio to runc run |"
echo "|---|---:|---:|"
for name in "${names[@]}"; do
	m=$(echo "${samples[$name]}" | median)
	awk -v n="$name" -v m="$m" -v b="$base" 'BEGIN { printf "| %s | %.1f | %.2f |\n", n, m / 1000, m / b }'
done
