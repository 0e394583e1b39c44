package sentry

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// sendAgentMessage sends msg with fd attached the way libcontainer's
// sendContainerProcessState does: dial the stream socket, one sendmsg,
// close.
func sendAgentMessage(t *testing.T, path string, msg []byte, fd int) {
	t.Helper()
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Error(err)
		return
	}
	defer conn.Close()
	f, err := conn.(*net.UnixConn).File()
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	var oob []byte
	if fd >= 0 {
		oob = unix.UnixRights(fd)
	}
	if err := unix.Sendmsg(int(f.Fd()), msg, oob, nil, 0); err != nil {
		t.Errorf("sendmsg: %v", err)
	}
}

func agentState(t *testing.T, pid int, annotation int) []byte {
	t.Helper()
	st := specs.ContainerProcessState{
		Version: specs.Version,
		Fds:     []string{specs.SeccompFdName},
		Pid:     pid,
		State: specs.State{
			Version:     specs.Version,
			ID:          "c",
			Status:      specs.StateCreating,
			Pid:         pid,
			Annotations: map[string]string{"big": strings.Repeat("a", annotation)},
		},
	}
	data, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestReceiveListener reads agent messages of every size a container can
// produce: the whole state arrives (a 64 KiB read used to truncate a
// ~70 KB annotation and drop the listener), and what is not a valid
// hand-off is refused with its reason and leaks no fd.
func TestReceiveListener(t *testing.T) {
	tests := []struct {
		name    string
		msg     func(t *testing.T) []byte
		withFd  bool
		wantPid int
		wantErr string
	}{
		{name: "small", msg: func(t *testing.T) []byte { return agentState(t, 41, 10) }, withFd: true, wantPid: 41},
		{name: "70KB annotation", msg: func(t *testing.T) []byte { return agentState(t, 42, 70<<10) }, withFd: true, wantPid: 42},
		{name: "1MB annotation", msg: func(t *testing.T) []byte { return agentState(t, 43, 1<<20) }, withFd: true, wantPid: 43},
		{name: "over the cap", msg: func(t *testing.T) []byte { return agentState(t, 44, MaxAgentMessage) }, withFd: true, wantErr: "larger than"},
		{name: "no fd", msg: func(t *testing.T) []byte { return agentState(t, 45, 10) }, withFd: false, wantErr: "carries no seccomp fd"},
		{name: "not json", msg: func(*testing.T) []byte { return []byte("hello") }, withFd: true, wantErr: "not a container process state"},
		{name: "truncated json", msg: func(t *testing.T) []byte { return agentState(t, 46, 100)[:60] }, withFd: true, wantErr: "not a container process state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "a.sock")
			l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			// The fd handed over: one end of a pipe, so whether the
			// receiver kept or closed its copy shows.
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			defer w.Close()
			fd := -1
			if tt.withFd {
				fd = int(r.Fd())
			}
			msg := tt.msg(t)
			done := make(chan struct{})
			go func() {
				defer close(done)
				sendAgentMessage(t, path, msg, fd)
			}()
			conn, err := l.AcceptUnix()
			if err != nil {
				t.Fatal(err)
			}
			before := openFds(t)
			got, st, err := receiveListener(conn)
			conn.Close()
			<-done
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("receiveListener: %v, want an error with %q", err, tt.wantErr)
				}
				if after := openFds(t); after > before {
					t.Errorf("a refused message left %d fd(s) open", after-before)
				}
				return
			}
			if err != nil {
				t.Fatalf("receiveListener (%d bytes): %v", len(msg), err)
			}
			defer unix.Close(got)
			if st.Pid != tt.wantPid {
				t.Errorf("pid %d, want %d", st.Pid, tt.wantPid)
			}
			var a, b unix.Stat_t
			if err := unix.Fstat(got, &a); err != nil {
				t.Fatal(err)
			}
			if err := unix.Fstat(int(r.Fd()), &b); err != nil {
				t.Fatal(err)
			}
			if a.Ino != b.Ino || a.Dev != b.Dev {
				t.Errorf("received fd is not the one sent")
			}
		})
	}
}

// openFds counts this process's open file descriptors.
func openFds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}
