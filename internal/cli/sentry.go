package cli

import (
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli"

	"github.com/syscage/syscage/internal/audit"
	"github.com/syscage/syscage/internal/policy"
	"github.com/syscage/syscage/internal/sentry"
	"github.com/syscage/syscage/internal/sentry/syscalls"
)

// sentryListenFd is where `create` hands the sentry its bound agent socket.
const sentryListenFd = 3

func init() {
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
			cli.StringFlag{Name: "learned-profile", Usage: "learn mode: write the learned profile here"},
		},
		Action: runSentry,
	})
}

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
	cfg := sentry.Config{
		ContainerID: ctx.String("id"),
		Policy:      prof,
		Env: syscalls.Env{
			Sysname: "Linux",
			Release: ctx.String("kernel-release"),
			Version: ctx.String("kernel-version"),
			Machine: "x86_64",
		},
		IdleTimeout: 2 * time.Minute,
		UTSFile:     ctx.String("uts-file"),
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
	return sentry.ServeLearning(l, cfg, ctx.String("learned-profile"))
}
