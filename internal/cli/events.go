package cli

import (
	"encoding/json"
	"os"
	"time"

	"github.com/opencontainers/runc/types"
	"github.com/urfave/cli"

	"github.com/syscage/syscage/internal/container"
)

func init() {
	commands = append(commands, cli.Command{
		Name:      "events",
		Usage:     "print a container's resource statistics and OOM events as JSON lines",
		ArgsUsage: "<container-id>",
		Description: `Prints a "stats" event every --interval and an "oom" event whenever the
kernel's OOM killer acts in the container, until the container stops.
With --stats, prints one "stats" event and exits.`,
		Flags: []cli.Flag{
			cli.DurationFlag{Name: "interval", Value: 5 * time.Second, Usage: "time between two stats events"},
			cli.BoolFlag{Name: "stats", Usage: "print the current statistics once and exit"},
		},
		Action: func(ctx *cli.Context) error {
			if err := argCount(ctx, 1, 1); err != nil {
				return err
			}
			enc := json.NewEncoder(os.Stdout)
			return runtimeOf(ctx).Events(ctx.Args().First(), container.EventOptions{
				Interval:  ctx.Duration("interval"),
				StatsOnly: ctx.Bool("stats"),
			}, func(e *types.Event) error { return enc.Encode(e) })
		},
	})
}
