#!/usr/bin/env bash
# critest.sh: Kubernetes' CRI validation suite (cri-tools critest v1.37.0,
# through ../shared/harness/critest/run.sh: offline, a private containerd)
# with runc and with syscage, one after the other, then the comparison:
# every spec that passes under runc must pass under syscage, except those
# listed in test/critest-differences.txt (each with its reason).
# Prints both summaries, the specs that differ, and exits 1 on an
# unlisted regression. Needs root; about 2 minutes a runtime once the
# harness's tools are built (the first run builds them).
set -euo pipefail
cd "$(dirname "$0")/.."
harness=${CRITEST_HARNESS:-../shared/harness/critest/run.sh}
runc=${RUNC:-$(command -v runc)}
[ -x "$harness" ] || [ -f "$harness" ] || { echo "critest: no harness at $harness" >&2; exit 2; }
make build >/dev/null
out=$(mktemp -d /tmp/syscage-critest.XXXXXX)
trap 'rm -rf "$out"' EXIT
for rt in runc syscage; do
	bin=$runc
	[ "$rt" = syscage ] && bin=$PWD/bin/syscage
	echo "== critest with $rt ($bin)"
	bash "$harness" "$bin" >"$out/$rt.log" 2>&1 || true
	tail -n 1 "$out/$rt.log"
	grep -E '^CRITEST (PASS|FAIL|SKIP) ' "$out/$rt.log" | sort >"$out/$rt.specs" || true
done
[ -s "$out/runc.specs" ] && [ -s "$out/syscage.specs" ] || { echo "critest: a run gave no results" >&2; exit 2; }
sed -n 's/^CRITEST PASS //p' "$out/runc.specs" >"$out/runc.pass"
sed -n 's/^CRITEST PASS //p' "$out/syscage.specs" >"$out/syscage.pass"
regressions=0
while IFS= read -r spec; do
	if grep -qxF "$spec" "$out/syscage.pass"; then continue; fi
	reason=$(awk -F '\t' -v s="$spec" '$1 == s {print $2}' test/critest-differences.txt 2>/dev/null)
	if [ -n "$reason" ]; then
		echo "DIFFERENT (by design): $spec -- $reason"
	else
		echo "REGRESSION: $spec"
		grep -A7 -F "CRITEST FAIL $spec" "$out/syscage.log" | sed 's/^/    /' || true
		regressions=$((regressions + 1))
	fi
done <"$out/runc.pass"
echo "critest: runc $(tail -n 1 "$out/runc.log" | sed 's/^critest: //'); syscage $(tail -n 1 "$out/syscage.log" | sed 's/^critest: //'); $regressions unlisted regression(s)"
[ "$regressions" -eq 0 ]
