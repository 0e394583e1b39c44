package cli

import "github.com/urfave/cli"

func init() {
	commands = append(commands,
		cli.Command{
			Name:      "pause",
			Usage:     "freeze every process of a container",
			ArgsUsage: "<container-id>",
			Action: func(ctx *cli.Context) error {
				if err := argCount(ctx, 1, 1); err != nil {
					return err
				}
				return runtimeOf(ctx).Pause(ctx.Args().First())
			},
		},
		cli.Command{
			Name:      "resume",
			Usage:     "thaw a paused container",
			ArgsUsage: "<container-id>",
			Action: func(ctx *cli.Context) error {
				if err := argCount(ctx, 1, 1); err != nil {
					return err
				}
				return runtimeOf(ctx).Resume(ctx.Args().First())
			},
		},
	)
}
