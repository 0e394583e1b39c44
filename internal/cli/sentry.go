package cli

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli"
	"golang.org/x/sys/unix"

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
	return serveLearning(l, cfg, ctx.String("learned-profile"))
}

// serveLearning serves a learn-mode container: it records every call and
// writes the learned profile when the container's last process is gone, or
// when the runtime stops the sentry (SIGTERM, at delete).
func serveLearning(l *net.UnixListener, cfg sentry.Config, out string) error {
	if out == "" {
		return errors.New("sentry: learn mode needs --learned-profile")
	}
	base, _ := policy.Builtin(policy.DefaultName)
	rec := policy.NewRecorder(base, cfg.ContainerID)
	cfg.Observer = rec
	cfg.ExtraAllowed = sentry.LearnAllowed
	name := "learned-" + cfg.ContainerID
	var once sync.Mutex
	write := func() error {
		once.Lock()
		defer once.Unlock()
		if err := rec.WriteFile(out, name); err != nil {
			logrus.Errorf("sentry: %v", err)
			return err
		}
		logrus.Infof("sentry: learned profile (%d distinct calls) written to %s", rec.Len(), out)
		return nil
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, unix.SIGTERM, unix.SIGINT)
	go func() {
		<-sig
		code := 0
		if write() != nil {
			code = 1
		}
		os.Exit(code)
	}()
	err := sentry.Serve(l, cfg)
	if werr := write(); err == nil {
		err = werr
	}
	return err
}
