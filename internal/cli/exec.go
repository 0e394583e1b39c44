package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli"

	"github.com/syscage/syscage/internal/container"
)

func init() {
	commands = append(commands, cli.Command{
		Name:           "exec",
		Usage:          "run a new process inside a running container",
		ArgsUsage:      "<container-id> [command [args...]]",
		SkipArgReorder: true,
		Flags: []cli.Flag{
			cli.StringFlag{Name: "process, p", Usage: "OCI process JSON to run (instead of command and flags)"},
			cli.BoolFlag{Name: "tty, t", Usage: "allocate a pseudo-terminal"},
			cli.BoolFlag{Name: "detach, d", Usage: "return once the process runs"},
			cli.StringFlag{Name: "pid-file", Usage: "write the process's host pid to this file"},
			cli.StringFlag{Name: "console-socket", Usage: "unix socket that receives the pty master (with --tty --detach)"},
			cli.StringSliceFlag{Name: "env, e", Usage: "add an environment variable (NAME=value)"},
			cli.StringFlag{Name: "cwd", Usage: "working directory inside the container"},
			cli.StringFlag{Name: "user, u", Usage: "uid[:gid] to run as"},
			cli.StringSliceFlag{Name: "additional-gids, g", Usage: "an additional group id"},
			cli.StringSliceFlag{Name: "cap, c", Usage: "add a capability (CAP_NAME)"},
			cli.BoolFlag{Name: "no-new-privs", Usage: "set no_new_privs for the process"},
			cli.IntFlag{Name: "preserve-fds", Usage: "pass this many extra file descriptors (from fd 3)"},
			cli.BoolFlag{Name: "ignore-paused", Usage: "allow exec into a paused container"},
			cli.StringSliceFlag{Name: "cgroup", Usage: "sub-cgroup to run in: path, or controller[,controller]:path (repeatable)"},
			cli.StringFlag{Name: "apparmor", Usage: "AppArmor profile for the process"},
			cli.StringFlag{Name: "process-label", Usage: "SELinux label for the process"},
			cli.StringFlag{Name: "profile", Hidden: true, Usage: "refused: an exec'd process shares the container's filter"},
		},
		Action: func(ctx *cli.Context) error {
			if ctx.IsSet("profile") {
				return fmt.Errorf("exec: --profile %q: an exec'd process runs under its container's profile (chosen at create); it cannot have its own", ctx.String("profile"))
			}
			if err := argCount(ctx, 1, -1); err != nil {
				return err
			}
			var gids []int
			for _, s := range ctx.StringSlice("additional-gids") {
				g, err := strconv.Atoi(s)
				if err != nil || g < 0 {
					return fmt.Errorf("--additional-gids %q: must be a group id number", s)
				}
				gids = append(gids, g)
			}
			o := container.ExecOptions{
				ProcessFile:   ctx.String("process"),
				Args:          ctx.Args().Tail(),
				Env:           ctx.StringSlice("env"),
				Cwd:           ctx.String("cwd"),
				User:          ctx.String("user"),
				AdditionalGID: gids,
				Caps:          ctx.StringSlice("cap"),
				Tty:           ctx.Bool("tty"),
				NoNewPrivs:    ctx.Bool("no-new-privs"),
				Detach:        ctx.Bool("detach"),
				PidFile:       ctx.String("pid-file"),
				ConsoleSocket: ctx.String("console-socket"),
				PreserveFDs:   ctx.Int("preserve-fds"),
				IgnorePaused:  ctx.Bool("ignore-paused"),
				Cgroup:        strings.Join(ctx.StringSlice("cgroup"), ";"),
				AppArmor:      ctx.String("apparmor"),
				ProcessLabel:  ctx.String("process-label"),
			}
			code, err := runtimeOf(ctx).Exec(ctx.Args().First(), o)
			if err != nil {
				return err
			}
			return exitWith(code)
		},
	})
}
