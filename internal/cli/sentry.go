package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/audit"
	"github.com/syscage/syscage/internal/container"
	"github.com/syscage/syscage/internal/policy"
	"github.com/syscage/syscage/internal/sentry"
	"github.com/syscage/syscage/internal/sentry/syscalls"
)

// sentryListenFd is where the watchdog hands the sentry its bound agent
// socket, and sentryStatusFd its end of the status pipe.
const (
	sentryListenFd = container.SentryAgentFd
	sentryStatusFd = container.SentryStatusFd
)

func init() {
	commands = append(commands, cli.Command{
		Name:      "sentry-watchdog",
		Usage:     "(internal) start a container's sentry and kill the container if the sentry ends; started by create",
		ArgsUsage: "-- <sentry arguments>",
		Hidden:    true,
		Flags: []cli.Flag{
			cli.StringFlag{Name: "learned-profile", Usage: "learn mode: write the profile the sentry learns here"},
			cli.StringFlag{Name: "root"},
			cli.StringFlag{Name: "id"},
			cli.BoolFlag{Name: "systemd-cgroup"},
			cli.IntFlag{Name: "sentry-files", Usage: "how many files (from fd 6) to pass on to the sentry"},
			cli.Uint64Flag{Name: "sentry-id", Usage: "the uid and gid the sentry runs as"},
			cli.StringFlag{Name: "sentry-place", Usage: "why the sentry serves from the runtime's pid namespace (empty: from the container's)"},
		},
		Action: func(ctx *cli.Context) error {
			if ctx.String("root") == "" || ctx.String("id") == "" {
				return errors.New("sentry-watchdog: --root and --id are required (the watchdog is started by create)")
			}
			return container.RunWatchdog(container.WatchdogOptions{
				Root:          ctx.String("root"),
				ID:            ctx.String("id"),
				SystemdCgroup: ctx.Bool("systemd-cgroup"),
				SentryArgs:    ctx.Args(),
				SentryFiles:   ctx.Int("sentry-files"),
				SentryID:      uint32(ctx.Uint64("sentry-id")),
				LearnedPath:   ctx.String("learned-profile"),
				SentryPlace:   ctx.String("sentry-place"),
			})
		},
	})
	commands = append(commands, cli.Command{
		Name:   "sentry",
		Usage:  "(internal) serve a container's seccomp notifications; started by create",
		Hidden: true,
		Flags: []cli.Flag{
			cli.StringFlag{Name: "id"},
			cli.StringFlag{Name: "state-dir"},
			cli.StringFlag{Name: "profile", Value: policy.DefaultName},
			cli.StringFlag{Name: "kernel-release"},
			cli.StringFlag{Name: "kernel-version"},
			cli.IntFlag{Name: "runtime-uid", Value: -1, Usage: "uid of the runtime that hands listeners over (default: the sentry's own)"},
			cli.StringFlag{Name: "jail", Usage: "chroot into this empty directory before serving"},
			cli.IntFlag{Name: "uts-fd", Value: -1, Usage: "fd of the container's UTS names file"},
			cli.IntFlag{Name: "audit-fd", Value: -1, Usage: "fd of the audit stream"},
			cli.IntFlag{Name: "profile-fd", Value: -1, Usage: "fd of the profile file named by --profile"},
			cli.BoolFlag{Name: "privileged", Usage: "the container is privileged: its built-in profile as policy.Privileged makes it"},
			cli.StringFlag{Name: "caps", Value: "0", Usage: "the container's capability set (a mask) the profile is for"},
			cli.BoolFlag{Name: "resource-views"},
			cli.IntFlag{Name: "first-listener-fd", Value: -1, Usage: "fd of the init's seccomp listener, taken by the watchdog"},
			cli.IntFlag{Name: "first-state-fd", Value: -1, Usage: "fd of the init's process state (JSON), from the same agent message"},
			cli.IntFlag{Name: "proc-fd", Value: -1, Usage: "fd of a procfs of the container's pid namespace, the /proc the jailed sentry keeps"},
			cli.BoolFlag{Name: "in-container-pidns", Usage: "the sentry serves from the container's pid namespace: it ignores every signal it can"},
		},
		Action: runSentry,
	})
}

// forcePidfdEnv, set to "group" in the runtime's environment, makes the
// sentry take the fallback of kernels without PIDFD_THREAD.
const forcePidfdEnv = "SYSCAGE_SENTRY_PIDFD"

func runSentry(ctx *cli.Context) error {
	logrus.SetFormatter(&logrus.JSONFormatter{})
	if ctx.String("id") == "" || ctx.String("state-dir") == "" {
		return errors.New("sentry: --id and --state-dir are required (the sentry is started by create)")
	}
	f := os.NewFile(sentryListenFd, "agent-socket")
	l, err := container.UnixListener(f, "agent socket")
	f.Close()
	if err != nil {
		return fmt.Errorf("sentry: %w", err)
	}
	prof, err := sentryProfile(ctx.String("profile"), ctx.Int("profile-fd"))
	if err != nil {
		return fmt.Errorf("sentry: %w", err)
	}
	caps, err := strconv.ParseUint(ctx.String("caps"), 0, 64)
	if err != nil {
		return fmt.Errorf("sentry: --caps %q: not a capability mask: %w", ctx.String("caps"), err)
	}
	prof = prof.ForCaps(syscalls.Caps(caps))
	if ctx.Bool("privileged") {
		prof = policy.Privileged(prof)
	}
	if !ctx.Bool("resource-views") {
		// As create compiled the filter (see resolveSandbox).
		prof = prof.WithoutResourceViews()
	}
	// The operator's environment (never a bundle's or a pod's) can force
	// the thread-group pidfds of kernels before 6.9, to test that path on
	// a newer kernel.
	if os.Getenv(forcePidfdEnv) == "group" {
		sentry.ForceGroupPidfds()
		logrus.Infof("sentry: %s=group: thread-group pidfds (the fallback of kernels before 6.9)", forcePidfdEnv)
	}
	cfg := sentry.Config{
		ContainerID: ctx.String("id"),
		Policy:      prof,
		Caps:        syscalls.Caps(caps),
		Env: syscalls.Env{
			Sysname: "Linux",
			Release: ctx.String("kernel-release"),
			Version: ctx.String("kernel-version"),
			Machine: "x86_64",
		},
		IdleTimeout:   2 * time.Minute,
		RuntimeUID:    ctx.Int("runtime-uid"),
		ResourceViews: ctx.Bool("resource-views"),
	}
	if cfg.RuntimeUID < 0 {
		cfg.RuntimeUID = os.Geteuid()
	}
	if fd := ctx.Int("uts-fd"); fd >= 0 {
		cfg.UTSFile = os.NewFile(uintptr(fd), "uts")
	}
	// The status pipe to the watchdog, when the watchdog started us.
	if _, err := unix.FcntlInt(sentryStatusFd, unix.F_GETFD, 0); err == nil {
		status := os.NewFile(sentryStatusFd, "status")
		defer status.Close()
		cfg.Status = status
	}
	if fd := ctx.Int("audit-fd"); fd >= 0 {
		w := audit.FromFile(os.NewFile(uintptr(fd), "audit"))
		defer w.Close()
		cfg.Audit = w
	}
	// Started through /proc/self/fd/N, the process would be named "N" in
	// ps, top and the kernel's OOM reports.
	if err := os.WriteFile("/proc/self/comm", []byte("syscage-sentry"), 0); err != nil {
		logrus.Debugf("sentry: naming the process: %v", err)
	}
	cfg.Jail = ctx.String("jail")
	cfg.ProcFd = ctx.Int("proc-fd")
	if lfd, sfd := ctx.Int("first-listener-fd"), ctx.Int("first-state-fd"); lfd >= 0 || sfd >= 0 {
		first, err := firstListener(lfd, sfd)
		if err != nil {
			return fmt.Errorf("sentry: %w", err)
		}
		cfg.First = first
	}
	if ctx.Bool("in-container-pidns") {
		// The container's root may signal us (CAP_KILL): a kill(-1,
		// SIGTERM) at its shutdown must not end the sentry and so have
		// the watchdog kill the container before its processes are done.
		// Only SIGKILL and SIGSTOP still reach it (docs/security.md); the
		// watchdog stops it with SIGKILL.
		sentry.IgnoreSignals()
	}
	logrus.Infof("sentry: container %s, profile %s", cfg.ContainerID, prof.Name)
	if !prof.Learning {
		return sentry.Serve(l, cfg)
	}
	return sentry.ServeLearning(l, cfg)
}

// firstListener reads the listener the watchdog took and its process
// state.
func firstListener(lfd, sfd int) (*sentry.FirstListener, error) {
	if lfd < 0 || sfd < 0 {
		return nil, errors.New("--first-listener-fd and --first-state-fd go together")
	}
	f := os.NewFile(uintptr(sfd), "agent-state")
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, sentry.MaxAgentMessage+1))
	if err != nil {
		return nil, fmt.Errorf("reading the init's process state: %w", err)
	}
	var state specs.ContainerProcessState
	if len(data) > sentry.MaxAgentMessage || json.Unmarshal(data, &state) != nil {
		return nil, errors.New("the init's process state is not a container process state")
	}
	unix.CloseOnExec(lfd)
	return &sentry.FirstListener{Fd: lfd, State: &state}, nil
}

// sentryProfile resolves the sentry's profile: a built-in name, or a file
// profile handed over open (fd), whose name is kept for the record.
func sentryProfile(ref string, fd int) (*policy.Profile, error) {
	if fd < 0 {
		return policy.Resolve(ref)
	}
	f := os.NewFile(uintptr(fd), ref)
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, policy.MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading profile %s: %w", ref, err)
	}
	if int64(len(data)) > policy.MaxFileSize {
		return nil, fmt.Errorf("profile %s: larger than %d bytes", ref, policy.MaxFileSize)
	}
	return policy.ParseFile(ref, data)
}
