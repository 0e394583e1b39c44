// Package container is syscage's glue to runc's libcontainer: it reads and
// validates OCI bundles, converts them to libcontainer configurations, and
// runs container processes (init and exec'd) with the stdio, terminal,
// signal and pid-file handling that runc's clients expect.
package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// ErrInvalidBundle marks every problem found in a bundle before anything is
// created; callers can test for it with errors.Is.
var ErrInvalidBundle = errors.New("invalid bundle")

// bundleError names the bundle file and what is wrong with it.
func bundleError(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidBundle, fmt.Sprintf(format, a...))
}

// LoadSpec reads <bundle>/config.json and checks everything syscage needs
// before it creates any state: the file exists and is valid JSON, it names
// an OCI version, a process with args and an absolute cwd, and a root file
// system that exists as a directory. A relative root path is resolved
// against the bundle directory.
func LoadSpec(bundle string) (*specs.Spec, error) {
	abs, err := filepath.Abs(bundle)
	if err != nil {
		return nil, bundleError("bundle path %q: %v", bundle, err)
	}
	if fi, err := os.Stat(abs); err != nil {
		return nil, bundleError("bundle directory %s: %v", abs, errors.Unwrap(err))
	} else if !fi.IsDir() {
		return nil, bundleError("bundle %s is not a directory", abs)
	}
	path := filepath.Join(abs, specConfig)
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, bundleError("%s does not exist (create one with `syscage spec`)", path)
		}
		return nil, bundleError("reading %s: %v", path, err)
	}
	spec, err := ParseSpec(data)
	if err != nil {
		return nil, bundleError("%s: %v", path, err)
	}
	if err := validateSpec(abs, spec); err != nil {
		return nil, bundleError("%s: %v", path, err)
	}
	return spec, nil
}

// specConfig is the name of the OCI configuration inside a bundle.
const specConfig = "config.json"

// ParseSpec decodes an OCI runtime configuration, turning JSON syntax and
// type errors into messages that give the offset or field.
func ParseSpec(data []byte) (*specs.Spec, error) {
	var spec specs.Spec
	if err := decodeJSON(data, &spec); err != nil {
		return nil, err
	}
	return &spec, nil
}

// decodeJSON unmarshals data, rendering syntax and type errors with the
// byte offset or the field at fault.
func decodeJSON(data []byte, v any) error {
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("malformed JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		return fmt.Errorf("field %q: cannot use JSON %s as %s", typ.Field, typ.Value, typ.Type)
	default:
		return fmt.Errorf("malformed JSON: %v", err)
	}
}

func validateSpec(bundle string, spec *specs.Spec) error {
	if spec.Version == "" {
		return errors.New("ociVersion is missing")
	}
	if err := ValidateProcess(spec.Process); err != nil {
		return err
	}
	if spec.Root == nil || spec.Root.Path == "" {
		return errors.New("root.path is missing")
	}
	if spec.Linux == nil {
		return errors.New("the linux section is missing (syscage runs Linux containers only)")
	}
	rootfs := spec.Root.Path
	if !filepath.IsAbs(rootfs) {
		rootfs = filepath.Join(bundle, rootfs)
	}
	fi, err := os.Stat(rootfs)
	if err != nil {
		return fmt.Errorf("root.path %q: root file system %s: %v", spec.Root.Path, rootfs, errors.Unwrap(err))
	}
	if !fi.IsDir() {
		return fmt.Errorf("root.path %q: %s is not a directory", spec.Root.Path, rootfs)
	}
	return nil
}

// ValidateProcess checks the parts of an OCI process that every container
// process (init or exec'd) needs.
func ValidateProcess(p *specs.Process) error {
	if p == nil {
		return errors.New("process is missing")
	}
	if len(p.Args) == 0 {
		return errors.New("process.args must not be empty")
	}
	if p.Cwd == "" {
		return errors.New("process.cwd is missing")
	}
	if !filepath.IsAbs(p.Cwd) {
		return fmt.Errorf("process.cwd %q is not an absolute path", p.Cwd)
	}
	return nil
}
