package cli

import (
	"bytes"
	"encoding/json"
	"errors"
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
by name. A profile file (a path) is accepted as well; see docs/profiles.md.`,
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

// runtimeConfig is the runtime's configuration file (container.ConfigFile,
// or $SYSCAGE_CONFIG): settings a caller that cannot pass flags
// (containerd, Docker) still wants to choose.
type runtimeConfig struct {
	DefaultProfile string `json:"defaultProfile,omitempty"`
}

// defaultProfile is the runtime's configured default profile: the global
// --default-profile flag, else the config file's defaultProfile, else "".
func defaultProfile(ctx *cli.Context) (string, error) {
	if v := ctx.GlobalString("default-profile"); v != "" {
		return v, nil
	}
	path := container.ConfigFile
	if v := os.Getenv("SYSCAGE_CONFIG"); v != "" {
		path = v
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	var c runtimeConfig
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return c.DefaultProfile, nil
}
