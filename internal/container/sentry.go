package container

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
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

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// agentDir holds the sentries' agent sockets. A socket path is limited to
// 108 bytes and state directories under a client's --root (Docker's is
// /var/run/docker/runtime-runc/moby/<64 hex>) are longer, so sockets are
// named by a digest of the state directory instead.
const agentDir = "/run/syscage-agent"

// utsFileName holds the container's node and domain name for its sentry.
const utsFileName = "uts"

// startWithCapabilities starts cmd from a thread whose capability bounding
// set holds only keep: the sentry, a root process, then starts with just
// those. Capabilities are per thread, so the thread is locked for the fork
// and retired afterwards (it is never unlocked). enter, if set, runs
// first on that thread (pidns.Target.Enter: the child starts in a
// container's pid namespace).
func startWithCapabilities(cmd *exec.Cmd, keep []uintptr, enter func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if enter != nil {
			if err := enter(); err != nil {
				errc <- err
				return
			}
		}
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
	return filepath.Join(agentDirectory(), hex.EncodeToString(sum[:16])+".sock")
}

// agentDirectory is agentDir, or for a rootless runtime (which cannot
// write under /run) syscage-agent in its runtime directory.
func agentDirectory() string {
	if !Unprivileged() {
		return agentDir
	}
	d, err := RuntimeDir()
	if err != nil {
		return agentDir // startSentry's mkdir reports the problem
	}
	return filepath.Join(d, "syscage-agent")
}

// startKeeping starts the watchdog keeping only the capabilities keep. A
// rootless user (euid not 0) holds none to drop: the process starts as its
// parent runs. Root of a user namespace (rootless Podman) drops them as
// root does.
func startKeeping(cmd *exec.Cmd, keep []uintptr) error {
	if os.Geteuid() != 0 {
		return cmd.Start()
	}
	return startWithCapabilities(cmd, keep, nil)
}

// controlSocket is the watchdog's control socket path for a state
// directory (see watchdog.go).
func controlSocket(stateDir string) string {
	return strings.TrimSuffix(agentSocket(stateDir), ".sock") + ".ctl"
}

// watchdogCapabilities is what the watchdog keeps: to kill the container's
// processes whatever their user (CAP_KILL), to write cgroup and state
// files (CAP_DAC_OVERRIDE, CAP_FOWNER), to start the sentry as its own
// uid with its capabilities (CAP_SETUID and CAP_SETGID to change its
// user, CAP_SETPCAP to drop the rest, CAP_SYS_PTRACE and CAP_SYS_CHROOT
// to hand on), and to start it in the container's pid namespace with a
// procfs of that namespace (CAP_SYS_ADMIN for setns and open_tree;
// CAP_SYS_PTRACE also opens the init's namespace and root). The watchdog
// talks to nobody the workload controls (see watchdog.go).
var watchdogCapabilities = []uintptr{unix.CAP_KILL, unix.CAP_DAC_OVERRIDE, unix.CAP_DAC_READ_SEARCH,
	unix.CAP_FOWNER, unix.CAP_SETPCAP, unix.CAP_SETUID, unix.CAP_SETGID, unix.CAP_SYS_PTRACE, unix.CAP_SYS_CHROOT,
	unix.CAP_SYS_ADMIN}

// bindUnix binds a listening unix socket at path and returns it as a file
// to hand to a child.
func bindUnix(path string) (*os.File, error) {
	_ = os.Remove(path) // a stale socket of a container that was never deleted
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", path, err)
	}
	l.SetUnlinkOnClose(false)
	f, err := l.File()
	l.Close()
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("listening on %s: %w", path, err)
	}
	return f, nil
}

// startSentry binds the agent and control sockets and starts the
// container's watchdog, which starts the sentry once create names the
// init (initSentry; watchdog.go); place is why the sentry must serve from
// the runtime's pid namespace, "" if it may serve from the container's
// (sentryPlace). The sockets
// are bound (and accept connections into their backlog) before this
// function returns, so there is no window in which libcontainer could dial
// a socket nobody listens on; the processes themselves are started in the
// background, off the critical path of create, and the returned wait
// reports when the sentry runs (or why it could not). wait may be called
// any number of times.
func startSentry(stateDir, id string, systemdCgroup bool, o sandbox, place string) (wait func() error, err error) {
	dir := agentDirectory()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sentry: creating %s: %w", dir, err)
	}
	sock, ctl := agentSocket(stateDir), controlSocket(stateDir)
	var files []*os.File
	closeFiles := func() {
		for _, f := range files {
			f.Close()
		}
	}
	fail := func(err error) (func() error, error) {
		closeFiles()
		os.Remove(sock)
		os.Remove(ctl)
		return nil, fmt.Errorf("sentry: %w", err)
	}
	af, err := bindUnix(sock)
	if err != nil {
		return fail(err)
	}
	files = append(files, af)
	cf, err := bindUnix(ctl)
	if err != nil {
		return fail(err)
	}
	files = append(files, cf)
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return fail(fmt.Errorf("ready pipe: %w", err))
	}
	files = append(files, readyW)
	logf, err := os.OpenFile(filepath.Join(stateDir, "sentry.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		readyR.Close()
		return fail(fmt.Errorf("log file: %w", err))
	}
	files = append(files, logf)
	self, err := os.Executable()
	if err != nil {
		readyR.Close()
		return fail(fmt.Errorf("finding our own binary: %w", err))
	}
	sentryFiles, sentryArgs, err := openSentryFiles(stateDir, o)
	if err != nil {
		readyR.Close()
		return fail(err)
	}
	files = append(files, sentryFiles...)
	args := []string{"sentry-watchdog", "--root", filepath.Dir(stateDir), "--id", id,
		"--sentry-files", strconv.Itoa(len(sentryFiles)), "--sentry-id", strconv.FormatUint(uint64(o.SentryID), 10)}
	if systemdCgroup {
		args = append(args, "--systemd-cgroup")
	}
	if o.LearnedPath != "" {
		args = append(args, "--learned-profile", o.LearnedPath)
	}
	if place != "" {
		args = append(args, "--sentry-place", place)
	}
	args = append(args, "--", "--id", id, "--state-dir", stateDir,
		"--profile", o.sentryProfileArg(stateDir), "--kernel-release", o.KernelRelease,
		"--kernel-version", o.KernelVersion,
		"--runtime-uid", strconv.Itoa(os.Geteuid()), "--caps", fmt.Sprintf("%#x", uint64(o.Caps)))
	if jail := sentryJail(); jail != "" {
		if err := prepareSentryJail(jail); err != nil {
			readyR.Close()
			return fail(err)
		}
		args = append(args, "--jail", jail)
	}
	if o.Profile.Privileged {
		args = append(args, "--privileged")
	}
	if o.Views {
		args = append(args, "--resource-views")
	}
	args = append(args, sentryArgs...)
	cmd := exec.Command(self, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, logf
	// fds 3, 4, 5 and the sentry's files from 6 on: see watchdog.go
	cmd.ExtraFiles = append([]*os.File{af, cf, readyW}, sentryFiles...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Dir = "/"
	done := make(chan error, 1)
	go func() {
		defer readyR.Close()
		err := startKeeping(cmd, watchdogCapabilities)
		closeFiles() // the watchdog has its copies
		if err != nil {
			os.Remove(sock)
			os.Remove(ctl)
			done <- fmt.Errorf("sentry: starting its watchdog: %w", err)
			return
		}
		pid := cmd.Process.Pid
		// The watchdog outlives this command; it is not our child to wait for.
		_ = cmd.Process.Release()
		// The OOM killer must not pick the watchdog (a workload can push
		// the host towards OOM): its death would leave the container
		// unguarded. Lowering the score takes CAP_SYS_RESOURCE, which the
		// watchdog does not keep; a host that withholds it from us too
		// (some do), or a rootless runtime, keeps the ordinary score: best
		// effort.
		if err := os.WriteFile("/proc/"+strconv.Itoa(pid)+"/oom_score_adj", []byte("-1000"), 0); err != nil {
			logrus.Debugf("container %s: exempting the sentry's watchdog from the OOM killer: %v", id, err)
		}
		if err := os.WriteFile(filepath.Join(stateDir, watchdogPidFile), []byte(strconv.Itoa(pid)), 0o600); err != nil {
			_ = unix.Kill(pid, unix.SIGKILL)
			os.Remove(sock)
			os.Remove(ctl)
			done <- fmt.Errorf("sentry: recording its watchdog's pid: %w", err)
			return
		}
		line, _ := bufio.NewReader(io.LimitReader(readyR, 4096)).ReadString('\n')
		switch line = strings.TrimSpace(line); {
		case line == "ok":
			done <- nil
		case line == "":
			done <- errWatchdogGone
		default:
			done <- fmt.Errorf("sentry: %s", strings.TrimPrefix(line, "error "))
		}
	}()
	return sync.OnceValue(func() error { return <-done }), nil
}

// openSentryFiles opens the files the sentry uses, which it cannot open
// itself (it runs as nobody, jailed): the container's UTS names (empty
// until create writes them, in place, before the program runs), the
// audit stream, and the copy of a file profile. It returns them in the
// order the sentry receives them (from SentryFirstFileFd on) and the
// sentry flags that name their fds.
func openSentryFiles(stateDir string, o sandbox) ([]*os.File, []string, error) {
	var files []*os.File
	var args []string
	add := func(flag string, f *os.File) {
		args = append(args, flag, strconv.Itoa(SentryFirstFileFd+len(files)))
		files = append(files, f)
	}
	fail := func(err error) ([]*os.File, []string, error) {
		for _, f := range files {
			f.Close()
		}
		return nil, nil, err
	}
	uts, err := os.OpenFile(filepath.Join(stateDir, utsFileName), os.O_CREATE|os.O_RDONLY, 0o600)
	if err != nil {
		return fail(fmt.Errorf("UTS names file: %w", err))
	}
	add("--uts-fd", uts)
	if o.AuditPath != "" {
		f, err := os.OpenFile(o.AuditPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fail(fmt.Errorf("opening audit log %s: %w", o.AuditPath, err))
		}
		add("--audit-fd", f)
	}
	if o.Profile.Source != "" {
		f, err := os.Open(filepath.Join(stateDir, profileCopy))
		if err != nil {
			return fail(fmt.Errorf("profile copy: %w", err))
		}
		add("--profile-fd", f)
	}
	return files, args, nil
}

// sentryPid returns the pid of the container's sentry if it is running; it
// checks the process's command line names this state dir, so a recycled
// pid is never mistaken for it.
func sentryPid(stateDir string) (int, bool) {
	return recordedPid(stateDir, sentryPidFile, "sentry")
}

// watchdogPid is sentryPid for the container's watchdog.
func watchdogPid(stateDir string) (int, bool) {
	return recordedPid(stateDir, watchdogPidFile, "sentry-watchdog")
}

// recordedPid reads a pid file of the state dir and checks the process is
// still the syscage command it recorded, for this state dir.
func recordedPid(stateDir, file, command string) (int, bool) {
	data, err := os.ReadFile(filepath.Join(stateDir, file))
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
	if len(args) < 2 || args[1] != command || !strings.Contains(string(cmdline), "\x00"+stateDir+"\x00") {
		return 0, false
	}
	return pid, true
}

// SentryRunning reports whether the container's sentry process is alive.
func (rt *Runtime) SentryRunning(id string) bool {
	_, ok := sentryPid(filepath.Join(rt.Root, id))
	return ok
}

// stopSentry stops the container's sentry (if any) and removes its
// sockets. Called when the container is destroyed.
//
// The watchdog gets SIGTERM: it passes it on to the sentry, gives it a
// moment (in learn mode it writes the learned profile then), and exits
// without touching the container, which its caller is removing. A sentry
// that outlived its watchdog is stopped directly.
func stopSentry(stateDir string) {
	defer releaseSentryID(stateDir)
	defer unregisterPidNamespace(stateDir)
	defer os.Remove(agentSocket(stateDir))
	defer os.Remove(controlSocket(stateDir))
	stopRecorded(stateDir, watchdogPid, sentryStopGrace+2*time.Second)
	// Normally gone with its watchdog; not if the watchdog had to be
	// killed, or was already gone.
	stopRecorded(stateDir, sentryPid, sentryStopGrace)
}

// stopRecorded stops the process find names: SIGTERM, up to grace to
// exit, then SIGKILL. It reports whether there was such a process.
func stopRecorded(stateDir string, find func(string) (int, bool), grace time.Duration) bool {
	pid, ok := find(stateDir)
	if !ok {
		return false
	}
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return false // already gone
	}
	defer unix.Close(pidfd)
	// The pidfd now pins the process: make sure it is still ours (not a
	// recycled pid) before signalling it.
	if again, ok := find(stateDir); !ok || again != pid {
		return false
	}
	if !signalAndWait(pidfd, unix.SIGTERM, grace) {
		signalAndWait(pidfd, unix.SIGKILL, time.Second)
	}
	return true
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
