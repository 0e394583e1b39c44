package cli

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/urfave/cli"

	"github.com/syscage/syscage/internal/container"
	"github.com/syscage/syscage/internal/policy"
)

func init() {
	commands = append(commands, cli.Command{
		Name:  "profiles",
		Usage: "list the built-in sandbox profiles",
		Description: `Lists the profiles --profile and the annotation ` + container.AnnotationProfile + ` accept
by name. --profile accepts a profile file (a path) as well; the annotation accepts
only names the administrator allows in /etc/syscage/config.json, a file by its
name in the profile directory; see docs/profiles.md.`,
		Subcommands: []cli.Command{{
			Name:      "show",
			Usage:     "print a profile in the profile-file format",
			ArgsUsage: "NAME|FILE",
			Description: `Prints a built-in profile (default, strict) as the profile file embedded in
the binary: the format of docs/profiles.md, which a profile file of one's
own may copy from. A FILE (a path, or a name ending in .json) is validated
first and printed as it is.`,
			Action: func(ctx *cli.Context) error {
				if err := argCount(ctx, 1, 1); err != nil {
					return err
				}
				data, err := profileText(ctx.Args().First())
				if err != nil {
					return fmt.Errorf("profiles show: %w", err)
				}
				_, err = os.Stdout.Write(data)
				return err
			},
		}},
		Action: func(ctx *cli.Context) error {
			if err := argCount(ctx, 0, 0); err != nil {
				return err
			}
			w := tabwriter.NewWriter(os.Stdout, 0, 8, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tALLOWED\tDESCRIPTION")
			for _, n := range policy.Names() {
				p, _ := policy.Builtin(n)
				fmt.Fprintf(w, "%s\t%d\t%s\n", n, p.Passes(), policy.Describe(n))
			}
			fmt.Fprintf(w, "%s\t-\t%s\n", policy.Learn, policy.Describe(policy.Learn))
			return w.Flush()
		},
	})
}

// profileText is a profile as a file holds it: a built-in's embedded file,
// or a profile file, once it has loaded without error.
func profileText(ref string) ([]byte, error) {
	switch {
	case ref == policy.Learn:
		return nil, fmt.Errorf("%s is a mode, not a profile: it writes a profile file of what the workload did (docs/profiles.md, Learn mode)", ref)
	case policy.IsFileRef(ref):
		if _, err := policy.LoadFile(ref); err != nil {
			return nil, err
		}
		return os.ReadFile(ref)
	}
	return policy.BuiltinFile(ref)
}

// runtimeConfig is the administrator's configuration (container.ConfigFile,
// or the file $SYSCAGE_CONFIG names), with the global --default-profile
// over its defaultProfile: settings a caller that cannot pass flags
// (containerd, Docker) still wants to choose, and what annotations may
// choose.
func runtimeConfig(ctx *cli.Context) (container.Config, error) {
	c, err := container.LoadConfig()
	if err != nil {
		return c, err
	}
	if v := ctx.GlobalString("default-profile"); v != "" {
		c.DefaultProfile = v
	}
	return c, nil
}
