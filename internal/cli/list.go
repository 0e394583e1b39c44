package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli"

	"github.com/syscage/syscage/internal/container"
)

func init() {
	commands = append(commands, cli.Command{
		Name:  "list",
		Usage: "list the containers under the state root (--root)",
		Flags: []cli.Flag{
			cli.StringFlag{Name: "format, f", Value: "table", Usage: "table or json"},
			cli.BoolFlag{Name: "quiet, q", Usage: "print only the container ids"},
		},
		Action: func(ctx *cli.Context) error {
			if err := argCount(ctx, 0, 0); err != nil {
				return err
			}
			format := ctx.String("format")
			if format != "table" && format != "json" {
				return fmt.Errorf("list: --format %q: must be table or json", format)
			}
			states, err := runtimeOf(ctx).List()
			if err != nil {
				return err
			}
			switch {
			case ctx.Bool("quiet"):
				for _, s := range states {
					fmt.Println(s.ID)
				}
				return nil
			case format == "json":
				if states == nil {
					states = []*container.State{}
				}
				return json.NewEncoder(os.Stdout).Encode(states)
			}
			return listTable(states)
		},
	})
}

// listTable prints runc's list table: ID PID STATUS BUNDLE CREATED OWNER.
func listTable(states []*container.State) error {
	w := tabwriter.NewWriter(os.Stdout, 12, 1, 3, ' ', 0)
	fmt.Fprintln(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER")
	for _, s := range states {
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n",
			s.ID, s.Pid, s.Status, s.Bundle, s.Created.Format(time.RFC3339Nano), s.Owner)
	}
	return w.Flush()
}
