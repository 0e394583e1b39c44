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
