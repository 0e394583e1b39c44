package container

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// agentDir holds the sentries' agent sockets. A socket path is limited to
// 108 bytes and state directories under a client's --root (Docker's is
// /var/run/docker/runtime-runc/moby/<64 hex>) are longer, so sockets are
// named by a digest of the state directory instead.
const agentDir = "/run/syscage-agent"

// utsFileName holds the container's node and domain name for its sentry.
const utsFileName = "uts"

// sentryCapabilities is all the sentry keeps: CAP_SYS_PTRACE, to reach
// the memory of the container's processes (/proc/<tid>/mem) and their fds
// (pidfd_getfd) whatever their credentials.
var sentryCapabilities = []uintptr{unix.CAP_SYS_PTRACE}

// startWithCapabilities starts cmd from a thread whose capability bounding
// set holds only keep: the sentry, a root process, then starts with just
// those. Capabilities are per thread, so the thread is locked for the fork
// and retired afterwards (it is never unlocked).
func startWithCapabilities(cmd *exec.Cmd, keep []uintptr) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		for c := uintptr(0); c <= unix.CAP_LAST_CAP; c++ {
			if slices.Contains(keep, c) {
				continue
			}
			if err := unix.Prctl(unix.PR_CAPBSET_DROP, c, 0, 0, 0); err != nil && err != unix.EINVAL {
				errc <- fmt.Errorf("dropping capability %d: %w", c, err)
				return
			}
		}
		errc <- cmd.Start()
	}()
	return <-errc
}

// sentryPidFile records the sentry's pid in the container's state dir.
const sentryPidFile = "sentry.pid"

// agentSocket is the agent socket path for a state directory.
func agentSocket(stateDir string) string {
	sum := sha256.Sum256([]byte(stateDir))
	return filepath.Join(agentDir, hex.EncodeToString(sum[:16])+".sock")
}

// startSentry binds the agent socket and starts the sentry process with the
// listening socket as its fd 3. The socket is bound (and accepts
// connections into its backlog) before this function returns, so there is
// no window in which libcontainer could dial a socket nobody listens on;
// the process itself is started in the background, off the critical path
// of create, and the returned wait reports when it has started (or why it
// could not). wait may be called any number of times.
func startSentry(stateDir, id string, o sandbox) (wait func() error, err error) {
	if err := os.MkdirAll(agentDir, 0o700); err != nil {
		return nil, fmt.Errorf("sentry: creating %s: %w", agentDir, err)
	}
	sock := agentSocket(stateDir)
	_ = os.Remove(sock) // a stale socket of a container that was never deleted
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("sentry: listening on %s: %w", sock, err)
	}
	l.SetUnlinkOnClose(false)
	lf, err := l.File()
	l.Close()
	if err != nil {
		return nil, fmt.Errorf("sentry: %w", err)
	}
	logf, err := os.OpenFile(filepath.Join(stateDir, "sentry.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		lf.Close()
		return nil, fmt.Errorf("sentry: log file: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		lf.Close()
		logf.Close()
		return nil, fmt.Errorf("sentry: finding our own binary: %w", err)
	}
	args := []string{"sentry", "--id", id, "--state-dir", stateDir,
		"--profile", o.sentryProfileArg(stateDir), "--kernel-release", o.KernelRelease,
		"--kernel-version", o.KernelVersion, "--uts-file", filepath.Join(stateDir, utsFileName)}
	if o.AuditPath != "" {
		args = append(args, "--audit", o.AuditPath)
	}
	if o.LearnedPath != "" {
		args = append(args, "--learned-profile", o.LearnedPath)
	}
	cmd := exec.Command(self, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, logf
	cmd.ExtraFiles = []*os.File{lf}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Dir = "/"
	done := make(chan error, 1)
	go func() {
		defer lf.Close()
		defer logf.Close()
		if err := startWithCapabilities(cmd, sentryCapabilities); err != nil {
			os.Remove(sock)
			done <- fmt.Errorf("sentry: starting: %w", err)
			return
		}
		pid := cmd.Process.Pid
		// The sentry outlives this command; it is not our child to wait for.
		_ = cmd.Process.Release()
		if err := os.WriteFile(filepath.Join(stateDir, sentryPidFile), []byte(strconv.Itoa(pid)), 0o600); err != nil {
			_ = unix.Kill(pid, unix.SIGKILL)
			os.Remove(sock)
			done <- fmt.Errorf("sentry: recording pid: %w", err)
			return
		}
		done <- nil
	}()
	return sync.OnceValue(func() error { return <-done }), nil
}

// sentryPid returns the pid of the container's sentry if it is running; it
// checks the process's command line names this state dir, so a recycled
// pid is never mistaken for it.
func sentryPid(stateDir string) (int, bool) {
	data, err := os.ReadFile(filepath.Join(stateDir, sentryPidFile))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return 0, false
	}
	args := strings.Split(string(cmdline), "\x00")
	if len(args) < 2 || args[1] != "sentry" || !strings.Contains(string(cmdline), "\x00"+stateDir+"\x00") {
		return 0, false
	}
	return pid, true
}

// SentryRunning reports whether the container's sentry process is alive.
func (rt *Runtime) SentryRunning(id string) bool {
	_, ok := sentryPid(filepath.Join(rt.Root, id))
	return ok
}

// stopSentry kills the container's sentry (if any) and removes its socket.
// Called when the container is destroyed.
//
// A sentry gets SIGTERM first and a moment to exit: in learn mode it
// writes the learned profile then (another sentry just dies of it).
func stopSentry(stateDir string) {
	defer os.Remove(agentSocket(stateDir))
	pid, ok := sentryPid(stateDir)
	if !ok {
		return
	}
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return // already gone
	}
	defer unix.Close(pidfd)
	// The pidfd now pins the process: make sure it is still our sentry
	// (not a recycled pid) before signalling it.
	if again, ok := sentryPid(stateDir); !ok || again != pid {
		return
	}
	if signalAndWait(pidfd, unix.SIGTERM, 3*time.Second) {
		return
	}
	signalAndWait(pidfd, unix.SIGKILL, time.Second)
}

// signalAndWait sends sig through a pidfd and waits up to d for the process
// to exit (the pidfd turns readable); it reports whether it has.
func signalAndWait(pidfd int, sig unix.Signal, d time.Duration) bool {
	if err := unix.PidfdSendSignal(pidfd, sig, nil, 0); err != nil {
		return errors.Is(err, unix.ESRCH)
	}
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	deadline := time.Now().Add(d)
	for {
		n, err := unix.Poll(fds, int(time.Until(deadline).Milliseconds()))
		if err == unix.EINTR {
			continue
		}
		return err == nil && n > 0
	}
}
