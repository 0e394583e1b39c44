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

// leaderExits is pid 1 of a namespace whose main thread, once it reads a
// byte, exits alone
// (exit(2), not exit_group) while another thread lives on: the leader is
// a zombie in exit, and the namespace lives.
const leaderExits = `#include <pthread.h>
#include <unistd.h>
#include <sys/syscall.h>
static void *sleeper(void *a) { for (;;) pause(); return a; }
int main(void) {
	char c;
	pthread_t t;
	pthread_create(&t, 0, sleeper, 0);
	if (read(0, &c, 1) != 1) return 1;
	syscall(SYS_exit, 0);
	return 0;
}
`

// TestEndingLeaderExited: a namespace whose pid 1 has only its leader
// thread in exit is not ending (a workload could otherwise make the
// watchdog take its sentry's SIGKILL for the namespace's end); once every
// thread of it is gone, it is.
func TestEndingLeaderExited(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: pid namespaces and mount clones")
	}
	dir := t.TempDir()
	src := dir + "/leader.c"
	if err := os.WriteFile(src, []byte(leaderExits), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("gcc", "-O2", "-pthread", "-o", dir+"/leader", src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	cmd := exec.Command("unshare", "--pid", "--fork", "--mount-proc", "--propagation", "private", dir+"/leader")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("unshare: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
	// Taken while pid 1 runs (as the watchdog does, before the workload).
	children := fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid)
	pid := 0
	for deadline := time.Now().Add(10 * time.Second); pid == 0 && time.Now().Before(deadline); runtime.Gosched() {
		data, _ := os.ReadFile(children)
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%s/task", strings.TrimSpace(string(data))))
		if f := strings.Fields(string(data)); len(f) == 1 && len(tasks) == 2 {
			pid, _ = strconv.Atoi(f[0])
		}
	}
	if pid == 0 {
		t.Fatal("the program did not start its thread")
	}
	target, err := Of(pid)
	if err != nil {
		t.Fatalf("Of: %v", err)
	}
	defer target.Close()
	if _, err := stdin.Write([]byte{'x'}); err != nil {
		t.Fatal(err)
	}
	// Wait until its leader is a zombie beside the live thread.
	zombie := false
	for deadline := time.Now().Add(10 * time.Second); !zombie && time.Now().Before(deadline); runtime.Gosched() {
		stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		i := strings.LastIndexByte(string(stat), ')')
		zombie = i > 0 && strings.HasPrefix(string(stat[i:]), ") Z")
	}
	if !zombie {
		t.Fatal("the leader did not exit alone")
	}
	if target.Ending() {
		t.Errorf("Ending: true while a thread of the namespace's pid 1 lives")
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	for deadline := time.Now().Add(10 * time.Second); target.Alive() && time.Now().Before(deadline); runtime.Gosched() {
	}
	if !target.Ending() {
		t.Errorf("Ending: false after the namespace's pid 1 was killed")
	}
}
