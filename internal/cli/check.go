package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/urfave/cli"

	"github.com/syscage/syscage/internal/kernelcheck"
)

func init() {
	commands = append(commands, cli.Command{
		Name:  "check",
		Usage: "check the running kernel for the features syscage uses",
		Description: `Probes the running kernel for each feature syscage uses (making the call,
not trusting the release string) and prints whether it is present, what
it is for, and what syscage does without it. Exits 1 if a required
feature is missing.`,
		Flags: []cli.Flag{
			cli.StringFlag{Name: "format", Value: "table", Usage: "output format: table or json"},
		},
		Action: func(ctx *cli.Context) error {
			if err := argCount(ctx, 0, 0); err != nil {
				return err
			}
			fs := kernelcheck.Probe()
			switch f := ctx.String("format"); f {
			case "json":
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(fs); err != nil {
					return err
				}
			case "table":
				w := tabwriter.NewWriter(os.Stdout, 0, 8, 2, ' ', 0)
				fmt.Fprintln(w, "FEATURE\tSINCE\tNEED\tPRESENT\tUSED FOR\tWITHOUT IT")
				for _, f := range fs {
					present := "yes"
					if !f.Present {
						present = "NO"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Name, f.Since, f.Need, present, f.UsedFor, f.Without)
				}
				if err := w.Flush(); err != nil {
					return err
				}
			default:
				return fmt.Errorf("check: --format %q: must be table or json", f)
			}
			if m := kernelcheck.MissingRequired(fs); len(m) > 0 {
				return fmt.Errorf("check: this kernel lacks %d required feature(s), first %s (Linux %s)", len(m), m[0].Name, m[0].Since)
			}
			return nil
		},
	})
}
