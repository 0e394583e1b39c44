package pidns

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// start runs `sleep` as args make it (through unshare) and returns the
// pid of the sleep once it runs.
func start(t *testing.T, args ...string) int {
	t.Helper()
	if len(args) == 0 {
		cmd := exec.Command("sleep", "1000")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd.Process.Pid
	}
	cmd := exec.Command("unshare", append(args, "sleep", "1000")...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("unshare: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
	children := fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); runtime.Gosched() {
		data, _ := os.ReadFile(children)
		if f := strings.Fields(string(data)); len(f) == 1 {
			pid, _ := strconv.Atoi(f[0])
			if cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); strings.HasPrefix(string(cmdline), "sleep\x00") {
				return pid
			}
		}
	}
	t.Fatal("unshare's sleep did not start")
	return 0
}

// TestOf: the pid namespace and procfs of a process, as the watchdog
// takes them for a container's sentry; a process whose /proc is not a
// procfs of its own pid namespace is refused, and one in the caller's
// namespace is told apart.
func TestOf(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: pid namespaces and mount clones")
	}
	for _, tc := range []struct {
		name    string
		unshare []string
		err     string
	}{
		{name: "the caller's namespace", err: ErrShared.Error()},
		{name: "a namespace with its procfs", unshare: []string{"--pid", "--fork", "--mount-proc", "--propagation", "private"}},
		{name: "a namespace with the host's procfs", unshare: []string{"--pid", "--fork", "--mount", "--propagation", "private"},
			err: "pid 1"},
		{name: "a namespace without a procfs", unshare: []string{"--pid", "--fork", "--mount", "--propagation", "private", "--", "sh", "-c", "umount -l /proc && exec \"$0\" \"$@\""},
			err: "not the root of a procfs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pid := start(t, tc.unshare...)
			target, err := Of(pid)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Of: %v, want an error saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Of: %v", err)
			}
			defer target.Close()
			if !target.Alive() {
				t.Errorf("Alive: false while the namespace's pid 1 runs")
			}
			// The procfs shows the namespace's processes: pid 1 is the
			// sleep, and the caller (a host process) is absent.
			proc := fmt.Sprintf("/proc/self/fd/%d/", target.Proc.Fd())
			if cmdline, err := os.ReadFile(proc + "1/cmdline"); err != nil || !strings.HasPrefix(string(cmdline), "sleep\x00") {
				t.Errorf("pid 1 of the namespace's procfs is %q (%v), want the sleep", cmdline, err)
			}
			if _, err := os.Stat(proc + strconv.Itoa(os.Getpid())); err == nil {
				t.Errorf("the caller (pid %d) is visible in the namespace's procfs", os.Getpid())
			}
			if target.Ending() {
				t.Errorf("Ending: true while the namespace's pid 1 runs")
			}
			// Its pid 1 gone, the namespace is.
			_ = syscall.Kill(pid, syscall.SIGKILL)
			for deadline := time.Now().Add(10 * time.Second); target.Alive() && time.Now().Before(deadline); runtime.Gosched() {
			}
			if target.Alive() || !target.Ending() {
				t.Errorf("Alive: true or Ending: false after the namespace's pid 1 was killed")
			}
		})
	}
}

// TestStatFlags reads the flags field of /proc/<pid>/stat lines, whose
// command name may hold spaces and parentheses.
func TestStatFlags(t *testing.T) {
	for _, tc := range []struct {
		line  string
		flags uint64
		ok    bool
	}{
		{"1 (sleep) S 0 1 1 0 -1 4194560 93 0 0 0", 4194560, true},
		{"7 (a) b (c)) R 1 7 7 0 -1 4194308 0", 4194308, true},
		{"7 (x) Z 1 7", 0, false},
		{"no parenthesis", 0, false},
	} {
		if flags, ok := statFlags(tc.line); flags != tc.flags || ok != tc.ok {
			t.Errorf("statFlags(%q) = %d %v, want %d %v", tc.line, flags, ok, tc.flags, tc.ok)
		}
	}
}
