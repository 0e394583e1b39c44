package cli

import (
	"github.com/urfave/cli"

	"github.com/syscage/syscage/internal/container"
)

func init() {
	commands = append(commands, cli.Command{
		Name:      "kill",
		Usage:     "send a signal (name or number, default SIGTERM) to a container's init",
		ArgsUsage: "<container-id> [signal]",
		Flags: []cli.Flag{
			cli.BoolFlag{Name: "all, a", Usage: "send the signal to every process of the container"},
		},
		Action: func(ctx *cli.Context) error {
			if err := argCount(ctx, 1, 2); err != nil {
				return err
			}
			name := ctx.Args().Get(1)
			if name == "" {
				name = "SIGTERM"
			}
			sig, err := container.ParseSignal(name)
			if err != nil {
				return err
			}
			return runtimeOf(ctx).Kill(ctx.Args().First(), sig, ctx.Bool("all"))
		},
	})
}
