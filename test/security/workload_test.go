package security

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/syscage/syscage/test/internal/sandboxtest"
)

// workloadScript is an ordinary shell job: loops, pipelines, redirects
// into a writable tmpfs on /tmp, command substitution, a here-document,
// compression, then the static C workload.
const workloadScript = `set -e
cd /tmp
i=0
while [ $i -lt 50 ]; do echo "line $i"; i=$((i+1)); done > lines.txt
echo "count=$(wc -l < lines.txt)"
echo "fives=$(grep -c '5$' lines.txt)"
echo "last=$(sort -t ' ' -k2 -n lines.txt | tail -n 1)"
echo "sum=$(seq 1 100 | awk '{s+=$1} END {print s}')"
cat > here.txt <<EOF
alpha
beta
EOF
echo "here=$(tr 'a-z' 'A-Z' < here.txt | paste -s -d, -)"
echo "gzip=$(head -c 100000 /dev/zero | gzip -c | gunzip -c | wc -c)"
mkdir -p d/e && echo hi > d/e/f && echo "nested=$(cat d/e/f)"
for w in one two three; do printf '%s\n' "$w"; done | sort | tr '\n' ' ' > words.txt
echo "words=$(cat words.txt)"
( sleep 0.1; echo sub ) &
wait
echo "md5=$(printf 'syscage' | md5sum | cut -d' ' -f1)"
rm -rf d lines.txt here.txt words.txt
/t/workload
echo "script: ok"
`

// workloadWant is the workload's expected output (a function: the
// release is known once TestMain has read the host's).
func workloadWant() []string {
	return []string{
		"count=50",
		"fives=5",
		"last=line 49",
		"sum=5050",
		"here=ALPHA,BETA",
		"gzip=100000",
		"nested=hi",
		"words=one three two ",
		"sub",
		"md5=1cae98583b1180141d6a0daa71e0bd91",
		"ok fork_exec",
		"ok threads",
		"ok files",
		"ok tcp",
		"release " + defaultRelease,
		"workload: ok",
		"script: ok",
	}
}

// allowedWorkloadDenials are denials a correct program meets on its way
// and recovers from: glibc tries clone3 first for threads and falls back
// to clone on ENOSYS.
var allowedWorkloadDenials = map[string]string{"clone3": "ENOSYS"}

// TestWorkloadRunsUnchanged runs shell scripts and a static C program that
// forks, execs, creates threads, uses pipes, files and loopback TCP under
// the default profile, with the audit stream on, as each identity a
// workload has (host root, uid 1000, root in a user namespace): exit
// status 0, the expected output, and no denial beyond the documented libc
// fallback.
func TestWorkloadRunsUnchanged(t *testing.T) {
	for _, ident := range sandboxtest.Identities {
		t.Run(ident.Name, func(t *testing.T) {
			t.Parallel()
			workloadRunsUnchanged(t, ident.Opt)
		})
	}
}

func workloadRunsUnchanged(t *testing.T, opt specOpt) {
	rt := newRuntime(t)
	b := newBundle(t, withArgs("sh", "-c", workloadScript), withWritableTmp(), opt)
	log := filepath.Join(filepath.Dir(rt.Root), "audit.jsonl")
	res := rt.Container(b, []string{"--strace-log", log})
	if res.Code != 0 {
		t.Fatalf("workload: %s", res)
	}
	got := strings.Split(strings.TrimRight(res.Stdout, "\n"), "\n")
	workloadWant := workloadWant()
	if len(got) != len(workloadWant) {
		t.Errorf("workload printed %d lines, want %d", len(got), len(workloadWant))
	}
	for i, w := range workloadWant {
		if i >= len(got) || got[i] != w {
			t.Errorf("line %d: got %q, want %q", i+1, at(got, i), w)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s\nstderr:\n%s", res.Stdout, res.Stderr)
	}
	uname := 0
	for _, e := range readAudit(t, log) {
		if e.Decision == "deny" && allowedWorkloadDenials[e.Syscall] != e.Errno {
			t.Errorf("the workload met a denial: %s %s (args %v)", e.Syscall, e.Errno, e.Args)
		}
		if e.Syscall == "uname" && e.Decision == "emulate" && e.Errno == "" {
			uname++
		}
	}
	if uname == 0 {
		t.Errorf("no emulated uname in the audit stream: the workload's uname did not go through the sentry")
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "<missing>"
}
