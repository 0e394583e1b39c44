package cli

import "github.com/urfave/cli"

func init() {
	commands = append(commands, cli.Command{
		Name:      "start",
		Usage:     "run the user process of a created container",
		ArgsUsage: "<container-id>",
		Action: func(ctx *cli.Context) error {
			if err := argCount(ctx, 1, 1); err != nil {
				return err
			}
			return runtimeOf(ctx).Start(ctx.Args().First())
		},
	})
}
