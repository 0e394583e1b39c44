package cli

import (
	"encoding/json"
	"os"

	"github.com/urfave/cli"

	"github.com/syscage/syscage/internal/container"
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
			// syscage's own fields: the profile and, in learn mode, where
			// the learned profile is (or will be) written.
			out := struct {
				*container.State
				Profile        string `json:"profile,omitempty"`
				ProfileFile    string `json:"profileFile,omitempty"`
				LearnedProfile string `json:"learnedProfile,omitempty"`
				Privileged     bool   `json:"privileged,omitempty"`
				Mounts         string `json:"privilegedMounts,omitempty"`
				SentryFrom     string `json:"sentryServesFrom,omitempty"`
			}{State: st}
			if rec := rt.SandboxOf(c.ID()); rec != nil {
				out.Profile, out.ProfileFile, out.LearnedProfile, out.Privileged = rec.Profile, rec.ProfileFile, rec.LearnedProfile, rec.Privileged
				out.Mounts, out.SentryFrom = rec.PrivilegedMounts, rec.SentryServesFrom
			}
			return printJSON(out)
		},
	})
}

// printJSON writes v indented to stdout, as runc prints state.
func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
