package sentry

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// helperDial ("dial") connects to the unix socket its env names, says
// so, and waits for its stdin to close.
func helperDial() {
	if os.Getenv(helperUIDEnv) != "" {
		// The kernel records the credentials at connect.
		if err := syscall.Setresgid(65534, 65534, 65534); err != nil {
			helperDie("setresgid: %v", err)
		}
		if err := syscall.Setresuid(65534, 65534, 65534); err != nil {
			helperDie("setresuid: %v", err)
		}
	}
	c, err := net.Dial("unix", os.Getenv(helperSockEnv))
	if err != nil {
		helperDie("dial: %v", err)
	}
	defer c.Close()
	fmt.Println("connected")
	buf := make([]byte, 1)
	_, _ = os.Stdin.Read(buf)
	os.Exit(0)
}

const (
	helperSockEnv = "SYSCAGE_SENTRY_TEST_SOCK"
	helperUIDEnv  = "SYSCAGE_SENTRY_TEST_AS_NOBODY"
)

// TestRuntimePeer: the agent socket takes messages only from a process
// with the runtime's (the sentry's) uid.
func TestRuntimePeer(t *testing.T) {
	requireRoot(t, "a helper running as another uid")
	dir, err := os.MkdirTemp("", "syscage-peer-") // reachable by uid 65534
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "agent.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := os.Chmod(sock, 0o777); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  []string
		err  string
	}{
		{"the runtime's uid", nil, ""},
		{"another uid", []string{helperUIDEnv + "=1"}, "runs as uid 65534, not the runtime's 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startHelper(t, "dial", append([]string{helperSockEnv + "=" + sock}, tc.env...), nil)
			if got := h.line(t); got != "connected" {
				t.Fatalf("helper: %q", got)
			}
			conn, err := l.AcceptUnix()
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			err = runtimePeer(conn, 0)
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("runtimePeer: %v, want nil", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("runtimePeer: %v, want an error with %q", err, tc.err)
			}
		})
	}
}

func TestForContainer(t *testing.T) {
	for _, tc := range []struct {
		msg, serves string
		ok          bool
	}{
		{"c1", "c1", true},
		{"c2", "c1", false},
		{"", "c1", false},
	} {
		err := forContainer(&specs.ContainerProcessState{Pid: 7, State: specs.State{ID: tc.msg}}, tc.serves)
		if (err == nil) != tc.ok {
			t.Errorf("message for %q to the sentry of %q: %v", tc.msg, tc.serves, err)
		}
	}
}
