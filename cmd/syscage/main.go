// Command syscage is a runc-compatible OCI runtime that runs each container
// under a per-container syscall sentry. All logic lives in internal/; this
// file only hands the command line to the CLI.
package main

import (
	"os"

	"github.com/syscage/syscage/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args))
}
