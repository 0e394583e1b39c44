// Package cli is syscage's command line: runc's commands and flags, one
// file per command, each a thin layer over internal/container.
package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli"

	"github.com/syscage/syscage/internal/container"
	"github.com/syscage/syscage/internal/version"
)

// exitError carries a process exit code out of a command (run and exec in
// the foreground exit with their process's code).
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// commands lists every subcommand; each file adds its own in init().
var commands []cli.Command

// NewApp builds the urfave/cli application with runc's global flags.
func NewApp() *cli.App {
	app := cli.NewApp()
	app.Name = "syscage"
	app.Usage = "a runc-compatible OCI runtime that runs each container under a syscall sentry"
	app.Version = strings.TrimPrefix(version.String(), "syscage version ")
	cli.VersionPrinter = func(*cli.Context) { fmt.Println(version.String()) }
	app.Flags = []cli.Flag{
		cli.StringFlag{Name: "root", Usage: "directory for container state (use a tmpfs; default: " + container.DefaultRoot + ", rootless: $XDG_RUNTIME_DIR/syscage)"},
		cli.StringFlag{Name: "log", Usage: "write the runtime's log to this file instead of stderr"},
		cli.StringFlag{Name: "log-format", Value: "text", Usage: "log format: text or json"},
		cli.BoolFlag{Name: "debug", Usage: "log debug messages"},
		cli.BoolFlag{Name: "systemd-cgroup", Usage: "manage cgroups through systemd (needs a running systemd)"},
		cli.BoolFlag{Name: "strace", Usage: "audit every mediated and denied system call to audit.jsonl in the container's state dir (or <id>.jsonl in the config's auditDir)"},
		cli.StringFlag{Name: "default-profile", Usage: "profile for containers that choose none by flag or annotation (default: " + container.ConfigFile + "'s defaultProfile, else \"default\")"},
		cli.StringFlag{Name: "strace-log", Usage: "with --strace: write the audit stream (JSON lines) to this file instead"},
		cli.StringFlag{Name: "criu", Hidden: true, Usage: "accepted for runc compatibility; checkpointing is not supported"},
		cli.StringFlag{Name: "rootless", Value: "auto", Hidden: true, Usage: "accepted for runc compatibility; syscage runs rootless whenever it runs without root (euid not 0, or in a user namespace)"},
	}
	app.Commands = commands
	app.Before = setupLogging
	app.CommandNotFound = func(ctx *cli.Context, name string) {
		fmt.Fprintf(os.Stderr, "syscage: unknown command %q (see `syscage --help`)\n", name)
		os.Exit(1)
	}
	app.OnUsageError = func(ctx *cli.Context, err error, _ bool) error {
		return fmt.Errorf("%w (see `syscage --help`)", err)
	}
	return app
}

// Main runs the command line and returns the process exit code.
func Main(args []string) int {
	app := NewApp()
	err := app.Run(args)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	logrus.Error(err)
	// When the log goes to a file, the caller still sees the error.
	if logrus.StandardLogger().Out != os.Stderr {
		fmt.Fprintln(os.Stderr, "syscage:", err)
	}
	return 1
}

func setupLogging(ctx *cli.Context) error {
	if ctx.GlobalBool("debug") {
		logrus.SetLevel(logrus.DebugLevel)
	}
	logrus.SetOutput(os.Stderr)
	if path := ctx.GlobalString("log"); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_SYNC, 0o644)
		if err != nil {
			return fmt.Errorf("opening log file %s: %w", path, err)
		}
		logrus.SetOutput(f)
	}
	switch ctx.GlobalString("log-format") {
	case "text":
		logrus.SetFormatter(&logrus.TextFormatter{DisableColors: true})
	case "json":
		logrus.SetFormatter(&logrus.JSONFormatter{})
	default:
		return fmt.Errorf("--log-format %q: must be text or json", ctx.GlobalString("log-format"))
	}
	return nil
}

// runtimeOf builds the container runtime from the global flags. The root
// is made absolute: the sentry's socket is named after the state dir, so
// every command must spell it the same way.
func runtimeOf(ctx *cli.Context) *container.Runtime {
	root := ctx.GlobalString("root")
	if root == "" {
		root = container.DefaultStateRoot()
	}
	if abs, err := filepath.Abs(root); err == nil {
		root = abs
	}
	return &container.Runtime{
		Root:          root,
		SystemdCgroup: ctx.GlobalBool("systemd-cgroup"),
	}
}

// argCount checks the number of positional arguments of a command.
func argCount(ctx *cli.Context, min, max int) error {
	n := ctx.NArg()
	usage := ctx.Command.FullName()
	if ctx.Command.ArgsUsage != "" {
		usage += " " + strings.SplitN(ctx.Command.ArgsUsage, "\n", 2)[0]
	}
	switch {
	case n < min:
		return fmt.Errorf("%s: %d argument(s) expected, %d given (usage: syscage %s)", ctx.Command.FullName(), min, n, usage)
	case max >= 0 && n > max:
		return fmt.Errorf("%s: at most %d argument(s) expected, %d given (usage: syscage %s)", ctx.Command.FullName(), max, n, usage)
	}
	return nil
}

// exitWith turns a process exit code into the command's result.
func exitWith(code int) error {
	if code == 0 {
		return nil
	}
	return &exitError{code: code}
}
