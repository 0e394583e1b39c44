package cli

import (
	"errors"
	"fmt"
	"net"
	"os"
	"time"

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
				LearnedPath:   ctx.String("learned-profile"),
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
			cli.StringFlag{Name: "audit"},
			cli.StringFlag{Name: "uts-file"},
			cli.BoolFlag{Name: "resource-views"},
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
	fl, err := net.FileListener(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("sentry: fd %d is not the agent socket: %w", sentryListenFd, err)
	}
	l, ok := fl.(*net.UnixListener)
	if !ok {
		return fmt.Errorf("sentry: fd %d is not a unix socket", sentryListenFd)
	}
	prof, err := policy.Resolve(ctx.String("profile"))
	if err != nil {
		return fmt.Errorf("sentry: %w", err)
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
		Env: syscalls.Env{
			Sysname: "Linux",
			Release: ctx.String("kernel-release"),
			Version: ctx.String("kernel-version"),
			Machine: "x86_64",
		},
		IdleTimeout:   2 * time.Minute,
		UTSFile:       ctx.String("uts-file"),
		ResourceViews: ctx.Bool("resource-views"),
	}
	// The status pipe to the watchdog, when the watchdog started us.
	if _, err := unix.FcntlInt(sentryStatusFd, unix.F_GETFD, 0); err == nil {
		status := os.NewFile(sentryStatusFd, "status")
		defer status.Close()
		cfg.Status = status
	}
	if path := ctx.String("audit"); path != "" {
		w, err := audit.Open(path)
		if err != nil {
			return fmt.Errorf("sentry: %w", err)
		}
		defer w.Close()
		cfg.Audit = w
	}
	logrus.Infof("sentry: container %s, profile %s", cfg.ContainerID, prof.Name)
	if !prof.Learning {
		return sentry.Serve(l, cfg)
	}
	return sentry.ServeLearning(l, cfg)
}
