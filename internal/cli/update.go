package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli"

	"github.com/syscage/syscage/internal/container"
)

func init() {
	flags := []cli.Flag{
		cli.StringFlag{Name: "resources, r", Usage: "file with an OCI linux.resources JSON document, or - for stdin; no other flag may be given with it"},
	}
	for _, f := range container.UpdateFlags {
		flags = append(flags, cli.StringFlag{Name: f.Name, Usage: f.Usage})
	}
	commands = append(commands, cli.Command{
		Name:      "update",
		Usage:     "change a container's cgroup limits",
		ArgsUsage: "<container-id>",
		Description: `Only the limits given change. Either pass an OCI linux.resources
document with --resources (as containerd does), or individual flags.`,
		Flags: flags,
		Action: func(ctx *cli.Context) error {
			if err := argCount(ctx, 1, 1); err != nil {
				return err
			}
			res, err := updateResources(ctx)
			if err != nil {
				return err
			}
			return runtimeOf(ctx).Update(ctx.Args().First(), res)
		},
	})
}

// updateResources reads the resources to change from --resources or from
// the individual flags.
func updateResources(ctx *cli.Context) (*specs.LinuxResources, error) {
	set := map[string]string{}
	for _, f := range container.UpdateFlags {
		if ctx.IsSet(f.Name) {
			set[f.Name] = ctx.String(f.Name)
		}
	}
	in := ctx.String("resources")
	switch {
	case in != "" && len(set) > 0:
		return nil, errors.New("update: --resources cannot be combined with individual resource flags")
	case in == "" && len(set) == 0:
		return nil, errors.New("update: nothing to change (give --resources FILE|- or a resource flag such as --memory)")
	case in == "":
		return container.ResourcesFromFlags(set)
	case in == "-":
		return container.ParseResources(os.Stdin, "(stdin)")
	}
	f, err := os.Open(in)
	if err != nil {
		return nil, fmt.Errorf("--resources: %w", err)
	}
	defer f.Close()
	return container.ParseResources(f, in)
}
