package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/urfave/cli"

	"github.com/syscage/syscage/internal/container"
)

func init() {
	commands = append(commands, cli.Command{
		Name:      "ps",
		Usage:     "list the processes running in a container",
		ArgsUsage: "<container-id> [ps options]",
		Description: `With --format table (the default), runs the host's ps with the given
options (default -ef) and keeps the lines of the container's processes.
With --format json, prints the host pids as a JSON array.`,
		Flags: []cli.Flag{
			cli.StringFlag{Name: "format, f", Value: "table", Usage: "table or json"},
		},
		// Everything after the id belongs to ps, dashes included.
		SkipArgReorder: true,
		Action: func(ctx *cli.Context) error {
			if err := argCount(ctx, 1, -1); err != nil {
				return err
			}
			format := ctx.String("format")
			if format != "table" && format != "json" {
				return fmt.Errorf("ps: --format %q: must be table or json", format)
			}
			pids, err := runtimeOf(ctx).Processes(ctx.Args().First())
			if err != nil {
				return err
			}
			if format == "json" {
				return json.NewEncoder(os.Stdout).Encode(pids)
			}
			return psTable(pids, ctx.Args().Tail())
		},
	})
}

// psTable runs the host's ps and prints the header and the container's lines.
func psTable(pids []int, args []string) error {
	var psArgs []string
	for _, a := range args {
		if a != "" { // containerd's go-runc passes "" for "no options"
			psArgs = append(psArgs, a)
		}
	}
	if len(psArgs) == 1 {
		// go-runc's Top passes all the options as one argument ("-o pid,comm").
		psArgs = strings.Fields(psArgs[0])
	}
	if len(psArgs) == 0 {
		psArgs = []string{"-ef"}
	}
	out, err := exec.Command("ps", psArgs...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ps %v: %w: %s", psArgs, err, out)
	}
	table, err := container.FilterPS(string(out), pids)
	if err != nil {
		return err
	}
	_, err = os.Stdout.WriteString(table)
	return err
}
