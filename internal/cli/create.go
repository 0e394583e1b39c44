package cli

import (
	"errors"

	"github.com/urfave/cli"

	"github.com/syscage/syscage/internal/container"
)

// createFlags are shared by create and run.
var createFlags = []cli.Flag{
	cli.StringFlag{Name: "bundle, b", Value: "", Usage: "path to the OCI bundle (default: the current directory)"},
	cli.StringFlag{Name: "console-socket", Usage: "unix socket that receives the pty master when process.terminal is true"},
	cli.StringFlag{Name: "pid-file", Usage: "write the container init's host pid to this file"},
	cli.IntFlag{Name: "preserve-fds", Usage: "pass this many extra file descriptors (from fd 3) to the container"},
	cli.BoolFlag{Name: "no-pivot", Usage: "use MS_MOVE instead of pivot_root (for a rootfs on a ramdisk)"},
	cli.BoolFlag{Name: "no-new-keyring", Usage: "do not create a new session keyring for the container"},
	cli.StringFlag{Name: "pidfd-socket", Hidden: true, Usage: "not supported"},
	cli.StringFlag{Name: "profile", Usage: "sandbox profile: a built-in name (see syscage profiles), learn, or a profile file, any path (default: annotation " + container.AnnotationProfile + ", a name the administrator allows, else the runtime's default profile)"},
	cli.StringFlag{Name: "learned-profile", Usage: "with --profile learn: write the learned profile here when the container exits (default: annotation " + container.AnnotationLearnedProfile + ", else learned-profile.json in the state dir)"},
	cli.StringFlag{Name: "kernel-release", Usage: "kernel release the container sees in uname and /proc (default: annotation " + container.AnnotationKernelRelease + ", else " + container.DefaultReleaseRule + ")"},
}

// createOptions checks the arguments and flags shared by create and run
// and turns them into the runtime's options.
func createOptions(ctx *cli.Context) (container.CreateOptions, error) {
	if err := argCount(ctx, 1, 1); err != nil {
		return container.CreateOptions{}, err
	}
	if err := unsupportedCreateFlags(ctx); err != nil {
		return container.CreateOptions{}, err
	}
	cfg, err := runtimeConfig(ctx)
	if err != nil {
		return container.CreateOptions{}, err
	}
	return container.CreateOptions{
		ID:            ctx.Args().First(),
		Bundle:        ctx.String("bundle"),
		PidFile:       ctx.String("pid-file"),
		ConsoleSocket: ctx.String("console-socket"),
		PreserveFDs:   ctx.Int("preserve-fds"),
		NoPivot:       ctx.Bool("no-pivot"),
		NoNewKeyring:  ctx.Bool("no-new-keyring"),
		Sandbox: container.SandboxOptions{
			Profile:        ctx.String("profile"),
			DefaultProfile: cfg.DefaultProfile,
			LearnedProfile: ctx.String("learned-profile"),
			KernelRelease:  ctx.String("kernel-release"),
			Audit:          ctx.GlobalBool("strace") || ctx.GlobalString("strace-log") != "",
			AuditPath:      ctx.GlobalString("strace-log"),
			Config:         cfg,
		},
	}, nil
}

func init() {
	commands = append(commands, cli.Command{
		Name:      "create",
		Usage:     "create a container from a bundle; its process waits for `start`",
		ArgsUsage: "<container-id>",
		Flags:     createFlags,
		Action: func(ctx *cli.Context) error {
			o, err := createOptions(ctx)
			if err != nil {
				return err
			}
			return runtimeOf(ctx).Create(o)
		},
	})
}

// unsupportedCreateFlags refuses runc flags syscage accepts for
// compatibility of the command line but does not implement.
func unsupportedCreateFlags(ctx *cli.Context) error {
	if ctx.String("pidfd-socket") != "" {
		return errors.New("--pidfd-socket is not supported by syscage")
	}
	return nil
}
