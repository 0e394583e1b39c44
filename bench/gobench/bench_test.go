// Package gobench drives syscage's benchmarks against runc (and gVisor's
// runsc where it is installed) from `go test`. bench/run.sh is the main
// entry point and prints the report; this package runs the same
// measurements (bench/syscallbench.c in a container, `run` of /bin/true):
//
//	go test -bench . -benchtime 5x ./bench/gobench/
//
// Each benchmark iteration runs every runtime once, back to back in a
// rotating order (interleaved, so machine noise hits all alike), and the
// results are reported as metrics per runtime plus the ratio to runc:
// "runc-us/op", "syscage-us/op", "syscage/runc"... The benchmarks need
// root, gcc with static libc, jq and busybox-static; they skip otherwise.
package gobench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// env is what every benchmark shares: the runtimes and the bundles.
type env struct {
	dir      string
	runtimes []string            // runc, syscage [, runsc]
	cmd      map[string][]string // runtime -> command prefix with its --root
	err      error
}

var (
	setupOnce sync.Once
	shared    env
)

// micro lists the benchmarks of syscallbench.c.
var micro = []string{"getpid", "read4k", "write4k", "openclose", "stat",
	"forkwait", "exec", "pipe", "tcpconnect", "uname"}

// TestMain runs the benchmarks and removes what setup made.
func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// setup builds bin/syscage and syscallbench and makes the bundles, once.
func setup(b *testing.B) *env {
	b.Helper()
	if os.Getuid() != 0 {
		b.Skip("needs root")
	}
	setupOnce.Do(func() { shared.err = shared.prepare() })
	if shared.err != nil {
		b.Skip(shared.err)
	}
	return &shared
}

func (e *env) prepare() error {
	repo, err := filepath.Abs("../..")
	if err != nil {
		return err
	}
	// TestMain removes the directory when the benchmarks are done.
	if e.dir, err = os.MkdirTemp("", "syscage-gobench."); err != nil {
		return err
	}
	steps := [][]string{
		{"make", "-C", repo, "build"},
		{"gcc", "-O2", "-static", "-o", filepath.Join(e.dir, "syscallbench"), filepath.Join(repo, "bench", "syscallbench.c")},
		{filepath.Join(repo, "scripts", "mkbundle.sh"), filepath.Join(e.dir, "true"), "/bin/true"},
		{"cp", filepath.Join(e.dir, "syscallbench"), filepath.Join(e.dir, "true", "rootfs", "syscallbench")},
	}
	for _, s := range steps {
		if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v: %s", strings.Join(s, " "), err, out)
		}
	}
	// One bundle per micro benchmark, sharing the root, with a tmpfs /tmp
	// (the same jq program as run.sh).
	for _, m := range micro {
		cfg, err := exec.Command("jq", "--arg", "root", filepath.Join(e.dir, "true", "rootfs"), "--arg", "b", m, `
			.root.path = $root | .process.args = ["/syscallbench", $b]
			| .process.env += ["BENCH_TARGET_MS=300"]
			| .mounts += [{destination: "/tmp", type: "tmpfs", source: "tmpfs",
			               options: ["nosuid", "nodev", "mode=1777", "size=64m"]}]`,
			filepath.Join(e.dir, "true", "config.json")).Output()
		if err != nil {
			return fmt.Errorf("jq for %s: %v", m, err)
		}
		if err := os.MkdirAll(filepath.Join(e.dir, "micro-"+m), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(e.dir, "micro-"+m, "config.json"), cfg, 0o644); err != nil {
			return err
		}
	}
	e.cmd = map[string][]string{
		"runc":    {"runc", "--root", filepath.Join(e.dir, "state", "runc")},
		"syscage": {filepath.Join(repo, "bin", "syscage"), "--root", filepath.Join(e.dir, "state", "syscage")},
	}
	e.runtimes = []string{"runc", "syscage"}
	if _, err := exec.LookPath("runsc"); err == nil && os.Getenv("BENCH_NO_RUNSC") == "" {
		e.cmd["runsc"] = []string{"runsc", "--root", filepath.Join(e.dir, "state", "runsc"), "--platform=ptrace", "--network=none"}
		e.runtimes = append(e.runtimes, "runsc")
	}
	return nil
}

// run runs bundle under rt in the foreground and returns its stdout.
func (e *env) run(rt, bundle string, n int) ([]byte, error) {
	id := fmt.Sprintf("gobench-%d-%d", os.Getpid(), n)
	args := append(append([]string{}, e.cmd[rt][1:]...), "run", "--bundle", filepath.Join(e.dir, bundle), id)
	var out, errb bytes.Buffer
	c := exec.Command(e.cmd[rt][0], args...)
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		return nil, fmt.Errorf("%s run %s: %v: %s", rt, bundle, err, errb.String())
	}
	return out.Bytes(), nil
}

// interleave calls measure for every runtime b.N times, rotating the order
// each iteration, and reports the median per runtime and its ratio to runc.
func (e *env) interleave(b *testing.B, unit string, measure func(rt string, i int) (float64, error)) {
	vals := map[string][]float64{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := range e.runtimes {
			rt := e.runtimes[(i+k)%len(e.runtimes)]
			v, err := measure(rt, i)
			if err != nil {
				b.Fatal(err)
			}
			vals[rt] = append(vals[rt], v)
		}
	}
	b.StopTimer()
	base := median(vals["runc"])
	for _, rt := range e.runtimes {
		m := median(vals[rt])
		b.ReportMetric(m, rt+"-"+unit)
		if rt != "runc" && base > 0 {
			b.ReportMetric(m/base, rt+"/runc")
		}
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// BenchmarkSyscall runs each syscallbench benchmark in a container per
// runtime; the metric is the ns/op the program measured inside, in µs.
func BenchmarkSyscall(b *testing.B) {
	e := setup(b)
	for _, m := range micro {
		b.Run(m, func(b *testing.B) {
			e.interleave(b, "us/op", func(rt string, i int) (float64, error) {
				out, err := e.run(rt, "micro-"+m, i)
				if err != nil {
					return 0, err
				}
				f := strings.Fields(string(out)) // NAME NS_PER_OP ITERATIONS
				if len(f) != 3 {
					return 0, fmt.Errorf("%s under %s: unexpected output %q", m, rt, out)
				}
				ns, err := strconv.ParseFloat(f[1], 64)
				return ns / 1000, err
			})
		})
	}
}

// BenchmarkRunTrue times `RUNTIME run` of a bundle whose process is
// /bin/true, end to end, in ms.
func BenchmarkRunTrue(b *testing.B) {
	e := setup(b)
	e.interleave(b, "ms/run", func(rt string, i int) (float64, error) {
		t0 := time.Now()
		if _, err := e.run(rt, "true", i); err != nil {
			return 0, err
		}
		return float64(time.Since(t0).Microseconds()) / 1000, nil
	})
}
