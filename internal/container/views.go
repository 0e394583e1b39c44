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
	// ViewsReadyFd is where the views server tells create it is set up.
	ViewsReadyFd = 3
	viewsPidFile = "views.pid"
	// viewsSetupTimeout bounds the server's set up (a few ms normally).
	viewsSetupTimeout = 30 * time.Second
)

// startViews starts the views server for the container whose init is pid
// and waits until it has mounted the views inside the container, before
// the user's program runs. It outlives create (a session of its own) and
// ends when the container's mount namespace goes away; delete stops it in
// any case (stopViews). A server that cannot be set up fails create:
// views that are on are never silently the host's.
func startViews(pid int, stateDir string) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("resource views: finding our own binary: %w", err)
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("resource views: ready pipe: %w", err)
	}
	defer readyR.Close()
	logf, err := os.OpenFile(filepath.Join(stateDir, "views.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		readyW.Close()
		return fmt.Errorf("resource views: log file: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(self, "views", "--pid", strconv.Itoa(pid), "--state-dir", stateDir)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, logf
	cmd.ExtraFiles = []*os.File{readyW} // ViewsReadyFd
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Dir = "/"
	err = cmd.Start()
	readyW.Close()
	if err != nil {
		return fmt.Errorf("resource views: starting the server: %w", err)
	}
	vpid := cmd.Process.Pid
	_ = cmd.Process.Release() // it outlives create
	if err := os.WriteFile(filepath.Join(stateDir, viewsPidFile), []byte(strconv.Itoa(vpid)), 0o600); err != nil {
		_ = unix.Kill(vpid, unix.SIGKILL)
		return fmt.Errorf("resource views: recording the server's pid: %w", err)
	}
	_ = readyR.SetReadDeadline(time.Now().Add(viewsSetupTimeout))
	line, _ := bufio.NewReader(io.LimitReader(readyR, 4096)).ReadString('\n')
	switch line = strings.TrimSpace(line); {
	case line == "ok":
		return nil
	case line == "":
		stopViews(stateDir)
		return fmt.Errorf("resource views: the server ended before it was set up (see %s)", logf.Name())
	default:
		stopViews(stateDir)
		return fmt.Errorf("resource views: %s (turn them off with the annotation %s=false or a profile's \"resourceViews\": false)",
			strings.TrimPrefix(line, "error "), AnnotationResourceViews)
	}
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
