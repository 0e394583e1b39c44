package cli

import (
	"encoding/json"
	"os"

	"github.com/urfave/cli"
)

func init() {
	commands = append(commands, cli.Command{
		Name:      "state",
		Usage:     "print a container's state as JSON",
		ArgsUsage: "<container-id>",
		Action: func(ctx *cli.Context) error {
			if err := argCount(ctx, 1, 1); err != nil {
				return err
			}
			rt := runtimeOf(ctx)
			c, err := rt.Load(ctx.Args().First())
			if err != nil {
				return err
			}
			st, err := rt.StateOf(c)
			if err != nil {
				return err
			}
			return printJSON(st)
		},
	})
}

// printJSON writes v indented to stdout, as runc prints state.
func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
