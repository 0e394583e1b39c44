package cli

import "github.com/urfave/cli"

func init() {
	flags := append([]cli.Flag{
		cli.BoolFlag{Name: "detach, d", Usage: "return once the container runs"},
		cli.BoolFlag{Name: "keep", Usage: "do not delete the container after it exits"},
		cli.BoolFlag{Name: "no-subreaper", Hidden: true, Usage: "accepted for runc compatibility"},
	}, createFlags...)
	commands = append(commands, cli.Command{
		Name:      "run",
		Usage:     "create and start a container; in the foreground, exit with its exit code",
		ArgsUsage: "<container-id>",
		Flags:     flags,
		Action: func(ctx *cli.Context) error {
			o, err := createOptions(ctx)
			if err != nil {
				return err
			}
			o.Detach = ctx.Bool("detach")
			o.Keep = ctx.Bool("keep")
			code, err := runtimeOf(ctx).Run(o)
			if err != nil {
				return err
			}
			return exitWith(code)
		},
	})
}
