package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/urfave/cli"
)

func init() {
	commands = append(commands, cli.Command{
		Name:  "spec",
		Usage: "write a starter config.json into a bundle directory",
		Description: `Writes a default OCI configuration that runs "sh" from ./rootfs; edit it
to suit the container. An existing config.json is never overwritten.`,
		Flags: []cli.Flag{
			cli.StringFlag{Name: "bundle, b", Usage: "bundle directory (default: the current directory)"},
			cli.BoolFlag{Name: "rootless", Usage: "write a configuration for a rootless container"},
		},
		Action: func(ctx *cli.Context) error {
			if err := argCount(ctx, 0, 0); err != nil {
				return err
			}
			return writeSpec(ctx.String("bundle"), ctx.Bool("rootless"))
		},
	})
}

func writeSpec(bundle string, rootless bool) error {
	if bundle == "" {
		bundle = "."
	}
	if fi, err := os.Stat(bundle); err != nil {
		return fmt.Errorf("spec: bundle directory: %w", err)
	} else if !fi.IsDir() {
		return fmt.Errorf("spec: bundle %s is not a directory", bundle)
	}
	spec := specconv.Example()
	if rootless {
		specconv.ToRootless(spec)
	}
	data, err := json.MarshalIndent(spec, "", "\t")
	if err != nil {
		return err
	}
	path := filepath.Join(bundle, "config.json")
	// O_EXCL: never overwrite, even if one appears while we work.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("spec: %s already exists; remove it first", path)
		}
		return fmt.Errorf("spec: %w", err)
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("spec: writing %s: %w", path, err)
	}
	return f.Close()
}
