package container

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The container's views server (`syscage views`, internal/viewfs): it
// shows the container its own memory, CPUs, uptime and load in
// /proc/meminfo, /proc/cpuinfo, ... (resview.Files).
const (
	// ViewsPidFd is where the views server reads the container's init
	// pid, and ViewsReadyFd where it tells create it is set up.
	ViewsPidFd   = 3
	ViewsReadyFd = 4
	viewsPidFile = "views.pid"
	// viewsSetupTimeout bounds the server's set up (a few ms normally).
	viewsSetupTimeout = 30 * time.Second
)

// viewsServer is a views server create launched, waiting for its
// container's init pid.
type viewsServer struct {
	stateDir     string
	pidW, readyR *os.File
	logName      string
	done         bool
}

// launchViews starts the container's views server (to serve as id, its
// sentry's) before the container
// exists, so that its start overlaps the container's creation; it waits
// for the init's pid (attach). It outlives create (a session of its own)
// and ends when the container's mount namespace goes away, or when its
// pid pipe closes before a pid came (create failed); delete stops it in
// any case (stopViews).
func launchViews(stateDir string, id uint32) (*viewsServer, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("resource views: finding our own binary: %w", err)
	}
	pidR, pidW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("resource views: pid pipe: %w", err)
	}
	defer pidR.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		pidW.Close()
		return nil, fmt.Errorf("resource views: ready pipe: %w", err)
	}
	defer readyW.Close()
	logName := filepath.Join(stateDir, "views.log")
	logf, err := os.OpenFile(logName, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		pidW.Close()
		readyR.Close()
		return nil, fmt.Errorf("resource views: log file: %w", err)
	}
	defer logf.Close()
	if !mapped("/proc/self/uid_map", id) || !mapped("/proc/self/gid_map", id) {
		id = fallbackSentryID // root of a user namespace that does not map it
	}
	cmd := exec.Command(self, "views", "--state-dir", stateDir, "--uid", strconv.FormatUint(uint64(id), 10))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, logf
	cmd.ExtraFiles = []*os.File{pidR, readyW} // ViewsPidFd, ViewsReadyFd
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Dir = "/"
	if err := cmd.Start(); err != nil {
		pidW.Close()
		readyR.Close()
		return nil, fmt.Errorf("resource views: starting the server: %w", err)
	}
	vpid := cmd.Process.Pid
	_ = cmd.Process.Release() // it outlives create
	if err := os.WriteFile(filepath.Join(stateDir, viewsPidFile), []byte(strconv.Itoa(vpid)), 0o600); err != nil {
		_ = unix.Kill(vpid, unix.SIGKILL)
		pidW.Close()
		readyR.Close()
		return nil, fmt.Errorf("resource views: recording the server's pid: %w", err)
	}
	return &viewsServer{stateDir: stateDir, pidW: pidW, readyR: readyR, logName: logName}, nil
}

// attach gives the server the container's init pid and waits until it
// has mounted the views inside the container, before the user's program
// runs. A server that cannot be set up fails create: views that are on
// are never silently the host's.
func (v *viewsServer) attach(pid int) error {
	defer v.abandon()
	if _, err := fmt.Fprintf(v.pidW, "%d\n", pid); err != nil {
		stopViews(v.stateDir)
		return fmt.Errorf("resource views: the server is gone (see %s): %w", v.logName, err)
	}
	v.pidW.Close()
	_ = v.readyR.SetReadDeadline(time.Now().Add(viewsSetupTimeout))
	line, _ := bufio.NewReader(io.LimitReader(v.readyR, 4096)).ReadString('\n')
	switch line = strings.TrimSpace(line); {
	case line == "ok":
		return nil
	case line == "":
		stopViews(v.stateDir)
		return fmt.Errorf("resource views: the server ended before it was set up (see %s)", v.logName)
	default:
		stopViews(v.stateDir)
		return fmt.Errorf("resource views: %s (turn them off with the annotation %s=false or a profile's \"resourceViews\": false)",
			strings.TrimPrefix(line, "error "), AnnotationResourceViews)
	}
}

// abandon closes create's ends of the pipes: a server still waiting for a
// pid then ends.
func (v *viewsServer) abandon() {
	if v == nil || v.done {
		return
	}
	v.done = true
	v.pidW.Close()
	v.readyR.Close()
}

// viewsPid returns the pid of the container's views server if it runs.
func viewsPid(stateDir string) (int, bool) {
	return recordedPid(stateDir, viewsPidFile, "views")
}

// stopViews stops the container's views server (if any) with SIGKILL (it
// ignores the others: see runViews): the container's files then fail
// with ENOTCONN, never fall back to the host's.
func stopViews(stateDir string) {
	stopRecorded(stateDir, viewsPid, 0)
	os.Remove(filepath.Join(stateDir, viewsPidFile))
}
