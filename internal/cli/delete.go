package cli

import "github.com/urfave/cli"

func init() {
	commands = append(commands, cli.Command{
		Name:      "delete",
		Usage:     "remove a container's state, cgroups and mounts",
		ArgsUsage: "<container-id>",
		Flags: []cli.Flag{
			cli.BoolFlag{Name: "force, f", Usage: "kill a running container first (SIGKILL)"},
		},
		Action: func(ctx *cli.Context) error {
			if err := argCount(ctx, 1, 1); err != nil {
				return err
			}
			return runtimeOf(ctx).Delete(ctx.Args().First(), ctx.Bool("force"))
		},
	})
}
