package container

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/syscage/syscage/internal/policy"
)

// ConfigEnv names another configuration file than ConfigFile. It is read
// from the runtime's own environment, which only whoever starts the
// runtime (the administrator's containerd, the operator's shell) sets;
// nothing in a bundle or an annotation reaches it.
const ConfigEnv = "SYSCAGE_CONFIG"

// DefaultProfileDir is where the profile files annotations may name live.
const DefaultProfileDir = "/etc/syscage/profiles"

// DefaultAnnotationProfiles are the profiles an annotation may choose
// when the configuration does not say and the runtime's default profile
// is default: the built-ins, never learn (which lets everything run
// while it records) and no file. Without a list, an annotation never
// goes below the runtime's default: with default strict it may choose
// only strict, with any other default nothing (annotationProfiles).
var DefaultAnnotationProfiles = []string{"default", "strict"}

// Config is the node administrator's configuration of the runtime
// (ConfigFile). Every field is optional.
type Config struct {
	// DefaultProfile is the profile of a container that chooses none by
	// flag or annotation: a built-in name, learn, or a profile file path.
	DefaultProfile string `json:"defaultProfile,omitempty"`
	// ProfileDir holds the profile files annotations may name
	// (DefaultProfileDir if empty). Absolute.
	ProfileDir string `json:"profileDir,omitempty"`
	// AnnotationProfiles are the only profiles the annotation
	// dev.syscage.profile may choose: built-in names, "learn", or names
	// of files in ProfileDir ("web" for web.json). Absent:
	// DefaultAnnotationProfiles; [] lets annotations choose nothing.
	AnnotationProfiles []string `json:"annotationProfiles"`
	// AuditDir, if set, receives the audit stream of a container whose
	// auditing is not given a file by --strace-log (the annotation
	// dev.syscage.strace, --strace, a profile's "audit"), as <id>.jsonl;
	// otherwise it is audit.jsonl in the container's state dir. Absolute.
	AuditDir string `json:"auditDir,omitempty"`
	// Privileged says what becomes of a privileged container (its
	// configuration grants CAP_SYS_ADMIN): PrivilegedSandboxed (the
	// default, also for "") runs it within the sandbox's bounds
	// (privileged.go), PrivilegedRefuse fails its create, naming this
	// setting. Only the administrator sets it; no annotation reaches it.
	Privileged string `json:"privileged,omitempty"`
	// SentryIDs is the range of host uids (and gids, the same numbers) the
	// sentries run as, one per container (sentryID): ids no process of
	// the node and no user namespace's mapping may use, so that nothing
	// but root can signal a sentry or share its per-user limits.
	// Absent: DefaultSentryIDs.
	SentryIDs *IDRange `json:"sentryIDs,omitempty"`

	// Path is the file the configuration was read from ("" if none).
	Path string `json:"-"`
}

// IDRange is a range of ids: First, First+1, ..., First+Size-1.
type IDRange struct {
	First uint32 `json:"first"`
	Size  uint32 `json:"size"`
}

// maxID is the largest valid uid or gid ((uid_t)-1 means "unchanged").
const maxID = 1<<32 - 2

// DefaultSentryIDs is the 64 Ki ids just below maxID (-2, the old
// nfsnobody): far above the subordinate ranges Debian's useradd hands out
// (from 100000, 65536 per user). An administrator whose user namespaces
// may map these ids sets sentryIDs.
var DefaultSentryIDs = IDRange{First: maxID - 65536, Size: 65536}

// sentryIDs is the range the node's sentries take their ids from.
func (c Config) sentryIDs() IDRange {
	if c.SentryIDs != nil {
		return *c.SentryIDs
	}
	return DefaultSentryIDs
}

// ConfigError is a configuration file that cannot be used: which file,
// which field, what is wrong.
type ConfigError struct {
	Path  string
	Field string
	Err   error
}

func (e *ConfigError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("runtime config %s: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("runtime config %s: %s: %v", e.Path, e.Field, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// LoadConfig reads the runtime's configuration: the file $SYSCAGE_CONFIG
// names (it must exist), else ConfigFile (a missing one means the
// defaults).
func LoadConfig() (Config, error) {
	if p := os.Getenv(ConfigEnv); p != "" {
		return ReadConfig(p, true)
	}
	return ReadConfig(ConfigFile, false)
}

// ReadConfig reads and validates a configuration file; a missing file is
// an error only when mustExist.
func ReadConfig(path string, mustExist bool) (Config, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !mustExist {
		return Config{}, nil
	}
	if err != nil {
		return Config{}, &ConfigError{Path: path, Err: err}
	}
	return ParseConfig(path, data)
}

// ParseConfig validates a configuration's contents; path is for errors.
func ParseConfig(path string, data []byte) (Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			return c, &ConfigError{Path: path, Field: te.Field, Err: fmt.Errorf("is a JSON %s, want %s", te.Value, te.Type)}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return c, &ConfigError{Path: path, Field: f, Err: errors.New("unknown field (known: defaultProfile, profileDir, annotationProfiles, auditDir, privileged, sentryIDs)")}
		}
		return c, &ConfigError{Path: path, Err: fmt.Errorf("not valid JSON: %w", err)}
	}
	if _, err := dec.Token(); err != io.EOF {
		return c, &ConfigError{Path: path, Err: errors.New("trailing data after the configuration object")}
	}
	c.Path = path
	if c.ProfileDir != "" && !filepath.IsAbs(c.ProfileDir) {
		return c, &ConfigError{Path: path, Field: "profileDir", Err: fmt.Errorf("%q is not an absolute path", c.ProfileDir)}
	}
	if c.AuditDir != "" && !filepath.IsAbs(c.AuditDir) {
		return c, &ConfigError{Path: path, Field: "auditDir", Err: fmt.Errorf("%q is not an absolute path", c.AuditDir)}
	}
	if r := c.SentryIDs; r != nil && (r.First == 0 || r.Size == 0 || uint64(r.First)+uint64(r.Size) > maxID+1) {
		return c, &ConfigError{Path: path, Field: "sentryIDs", Err: fmt.Errorf("first %d, size %d: must be a non-empty range of ids from 1 to %d", r.First, r.Size, uint64(maxID))}
	}
	switch c.Privileged {
	case "", PrivilegedSandboxed, PrivilegedRefuse:
	default:
		return c, &ConfigError{Path: path, Field: "privileged", Err: fmt.Errorf("%q: must be %q or %q", c.Privileged, PrivilegedSandboxed, PrivilegedRefuse)}
	}
	for i, n := range c.AnnotationProfiles {
		if n == policy.Learn || policy.IsBuiltin(n) {
			continue
		}
		if _, err := policy.DirName(n); err != nil {
			return c, &ConfigError{Path: path, Field: fmt.Sprintf("annotationProfiles[%d]", i), Err: err}
		}
	}
	return c, nil
}

// profileDir is the configured profile directory or the default.
func (c Config) profileDir() string {
	if c.ProfileDir != "" {
		return c.ProfileDir
	}
	return DefaultProfileDir
}

// annotationProfiles is the configured allowlist or, without one, the
// profiles no looser than the runtime's default profile defaultRef (the
// --default-profile flag or defaultProfile; "" is default): the
// administrator who sets strict as the default has set a floor, and a pod
// must not undo it by naming default.
func (c Config) annotationProfiles(defaultRef string) []string {
	if c.AnnotationProfiles != nil {
		return c.AnnotationProfiles
	}
	switch defaultRef {
	case "", DefaultProfile:
		return DefaultAnnotationProfiles
	case "strict":
		return []string{"strict"}
	}
	return []string{}
}

// allowsAnnotation reports whether an annotation may choose the profile
// key (a built-in name, learn, or a file's name without .json) when the
// runtime's default profile is defaultRef.
func (c Config) allowsAnnotation(key, defaultRef string) bool {
	return slices.ContainsFunc(c.annotationProfiles(defaultRef), func(n string) bool {
		return strings.TrimSuffix(n, ".json") == key
	})
}

// source names the configuration in errors.
func (c Config) source() string {
	if c.Path != "" {
		return c.Path
	}
	return ConfigFile + " (absent: the defaults)"
}
