package cli

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	units "github.com/docker/go-units"
	"github.com/urfave/cli"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/container"
	"github.com/syscage/syscage/internal/doinit"
	"github.com/syscage/syscage/internal/dospec"
	"github.com/syscage/syscage/internal/policy"
	"github.com/syscage/syscage/internal/subid"
)

func init() {
	commands = append(commands, cli.Command{
		Name:      "do",
		Usage:     "run a command in a sandbox of the host's file system, read-only, under the sentry (no bundle; root or rootless)",
		ArgsUsage: "-- CMD [ARGS...]",
		Description: `Runs CMD with the host's file system read-only but for the working
directory and --rw paths, a private /tmp and /run, a minimal /dev, new pid,
ipc, uts, mount and (unless --network host) network namespaces, under the
sentry and a profile, and exits as CMD exits. Without root it runs in a user
namespace of the caller's (docs/workstation.md).`,
		Flags: []cli.Flag{
			cli.StringSliceFlag{Name: "rw", Usage: "also make this host path writable (repeatable)"},
			cli.StringSliceFlag{Name: "ro", Usage: "bind this host path read-only, e.g. inside a writable one or under /tmp (repeatable)"},
			cli.StringSliceFlag{Name: "hide", Usage: "cover this host directory with an empty one, e.g. ~/.ssh (repeatable)"},
			cli.StringFlag{Name: "network", Value: dospec.NetworkNone, Usage: "none (a network namespace with only lo) or host"},
			cli.StringFlag{Name: "profile", Usage: "sandbox profile: a built-in name (see syscage profiles) or a profile file (default: the runtime's default profile)"},
			cli.StringFlag{Name: "learn", Usage: "run under the learn profile and write the learned profile to this file"},
			cli.BoolFlag{Name: "strace", Usage: "audit every mediated and denied call; to --strace-log if given, else to stderr when CMD ends"},
			cli.StringFlag{Name: "memory", Usage: "memory limit (e.g. 512m, 2g)"},
			cli.Float64Flag{Name: "cpus", Usage: "CPU limit, in CPUs (e.g. 1.5)"},
			cli.StringSliceFlag{Name: "env", Usage: "set K=V in CMD's environment (repeatable)"},
			cli.BoolFlag{Name: "clear-env", Usage: "start CMD with an empty environment (but PATH, TERM and --env)"},
			cli.StringFlag{Name: "kernel-release", Usage: "kernel release CMD sees (default: " + container.DefaultReleaseRule + ")"},
		},
		SkipArgReorder: true,
		Action:         runDo,
	})
	commands = append(commands, cli.Command{
		Name:            "do-init",
		Usage:           "(internal) pid 1 of a `syscage do` sandbox",
		Hidden:          true,
		SkipFlagParsing: true,
		Action: func(ctx *cli.Context) error {
			args := ctx.Args()
			if len(args) > 0 && args[0] == "--" {
				args = args[1:]
			}
			return exitWith(doinit.Run(args))
		},
	})
}

func runDo(ctx *cli.Context) error {
	args := []string(ctx.Args())
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return errors.New("do: no command given (usage: syscage do [flags] -- CMD [ARGS...])")
	}
	rt := runtimeOf(ctx)
	o, err := doOptions(ctx, rt, args)
	if err != nil {
		return err
	}
	cfg, err := runtimeConfig(ctx)
	if err != nil {
		return err
	}
	sb := container.SandboxOptions{
		Profile:        ctx.String("profile"),
		DefaultProfile: cfg.DefaultProfile,
		KernelRelease:  ctx.String("kernel-release"),
		Audit:          ctx.Bool("strace") || ctx.GlobalBool("strace") || ctx.GlobalString("strace-log") != "",
		AuditPath:      ctx.GlobalString("strace-log"),
		Config:         cfg,
	}
	if learn := ctx.String("learn"); learn != "" {
		if sb.Profile != "" && sb.Profile != policy.Learn {
			return fmt.Errorf("do: --learn and --profile %s: learning runs under the learn profile", sb.Profile)
		}
		sb.Profile = policy.Learn
		if sb.LearnedProfile, err = filepath.Abs(learn); err != nil {
			return fmt.Errorf("do: --learn %s: %w", learn, err)
		}
	}
	base, err := doBase()
	if err != nil {
		return err
	}
	b, err := dospec.Prepare(base, o)
	if err != nil {
		return err
	}
	defer b.Remove()
	// The audit stream of --strace without a log goes to a file of the
	// bundle, shown when the command ends.
	dumpAudit := ""
	if sb.Audit && sb.AuditPath == "" {
		dumpAudit = filepath.Join(b.Dir, "audit.jsonl")
		sb.AuditPath = dumpAudit
	}
	id, err := doID()
	if err != nil {
		return err
	}
	code, err := rt.Run(container.CreateOptions{ID: id, Bundle: b.Dir, Sandbox: sb})
	if dumpAudit != "" {
		if f, ferr := os.Open(dumpAudit); ferr == nil {
			_, _ = io.Copy(os.Stderr, f)
			f.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("do: %w", err)
	}
	return exitWith(code)
}

// doOptions turns the command line into the sandbox's options.
func doOptions(ctx *cli.Context, rt *container.Runtime, args []string) (dospec.Options, error) {
	cwd, err := os.Getwd()
	if err != nil {
		return dospec.Options{}, fmt.Errorf("do: the working directory: %w", err)
	}
	o := dospec.Options{
		Args:     args,
		Cwd:      cwd,
		Network:  ctx.String("network"),
		CPUs:     ctx.Float64("cpus"),
		Terminal: isTerminal(0) && isTerminal(1),
		Rootless: os.Geteuid() != 0,
		UID:      os.Geteuid(),
		GID:      os.Getegid(),
		Hostname: "sandbox",
	}
	for flag, list := range map[string]*[]string{"rw": &o.RW, "ro": &o.RO, "hide": &o.Hide} {
		for _, p := range ctx.StringSlice(flag) {
			abs, err := filepath.Abs(p)
			if err != nil {
				return o, fmt.Errorf("do: --%s %s: %w", flag, p, err)
			}
			*list = append(*list, abs)
		}
	}
	// The runtime's state and sockets: hidden wherever the sandbox would
	// see them (its own /run and /tmp cover the usual places).
	private := []string{rt.Root}
	if container.Unprivileged() {
		if d, err := container.RuntimeDir(); err == nil {
			private = append(private, d)
		}
	}
	for _, d := range private {
		if top := strings.SplitN(strings.TrimPrefix(filepath.Clean(d), "/"), "/", 2)[0]; top != "run" && top != "tmp" {
			if err := os.MkdirAll(d, 0o700); err != nil {
				return o, fmt.Errorf("do: %w", err)
			}
			o.Hide = append(o.Hide, d)
		}
	}
	if m := ctx.String("memory"); m != "" {
		if o.MemoryBytes, err = units.RAMInBytes(m); err != nil {
			return o, fmt.Errorf("do: --memory %s: %w", m, err)
		}
	}
	if (o.MemoryBytes > 0 || o.CPUs > 0) && container.Unprivileged() {
		if ok, why := rt.RootlessLimits(); !ok {
			return o, fmt.Errorf("do: --memory and --cpus need cgroups, which a rootless sandbox has no access to here (%s); leave them out to run without limits", why)
		}
	}
	o.Env = os.Environ()
	if ctx.Bool("clear-env") {
		o.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
		if t := os.Getenv("TERM"); t != "" {
			o.Env = append(o.Env, "TERM="+t)
		}
	}
	for _, kv := range ctx.StringSlice("env") {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return o, fmt.Errorf("do: --env %q: must be KEY=VALUE", kv)
		}
		o.Env = append(o.Env, kv)
	}
	if self, err := os.Executable(); err == nil {
		o.Init = self
	} else {
		return o, fmt.Errorf("do: finding our own binary (the sandbox's pid 1): %w", err)
	}
	if o.Rootless {
		name := strconv.Itoa(o.UID)
		if u, err := user.LookupId(name); err == nil {
			name = u.Username
		}
		// Subordinate ids need the setuid helpers that write them.
		if _, err := exec.LookPath("newuidmap"); err == nil {
			if o.SubUID, err = subid.Lookup("/etc/subuid", name, o.UID); err != nil {
				return o, fmt.Errorf("do: %w", err)
			}
			if o.SubGID, err = subid.Lookup("/etc/subgid", name, o.UID); err != nil {
				return o, fmt.Errorf("do: %w", err)
			}
			if (o.SubUID == nil) != (o.SubGID == nil) {
				return o, fmt.Errorf("do: user %s has subordinate ids in only one of /etc/subuid and /etc/subgid; add the other, or remove it for a single mapping", name)
			}
		}
	}
	return o, nil
}

// doBase is where do's bundles live: a root-only directory under /run,
// or the rootless runtime directory.
func doBase() (string, error) {
	if !container.Unprivileged() {
		return "/run/syscage-do", nil
	}
	d, err := container.RuntimeDir()
	if err != nil {
		return "", fmt.Errorf("do: %w", err)
	}
	return filepath.Join(d, "syscage-do"), nil
}

// doID is a fresh container id.
func doID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("do: a container id: %w", err)
	}
	return "do-" + hex.EncodeToString(b[:]), nil
}

func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}
