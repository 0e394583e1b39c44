// Package policy turns the syscall table into what the kernel enforces:
// profiles assign every entry of the table (internal/sentry/syscalls) a
// rule, Compile turns a profile into the OCI seccomp section libcontainer
// loads, and Merge combines it with a seccomp section the container's
// config already carries, the stricter decision winning for each call.
//
// The built-in profiles are "default" and "strict", profile files
// embedded from builtin/ (their rules may depend on the container's
// capabilities: Profile.ForCaps). Profiles from files (file.go) and the
// learn mode (learn.go) are built on them.
package policy

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

// Profile assigns each table entry a rule.
type Profile struct {
	Name        string
	Description string
	// Source is the file the profile was loaded from ("" for built-ins).
	Source string
	// Base is the built-in profile a file profile extends.
	Base string
	// KernelRelease and Audit are the file's settings (empty, nil: unset).
	KernelRelease string
	Audit         *bool
	// ResourceViews is the file's switch for resource views (nil: on).
	ResourceViews *bool
	// Unlisted is the file's mode for calls it does not name.
	Unlisted string
	// Learning is set for the learn profile: the sentry sees every call
	// the base profile passes and records it (learn.go).
	Learning bool
	// Privileged is set for a built-in profile as a privileged container
	// gets it (Privileged, privileged.go).
	Privileged bool

	// ruleFor gives each entry its rule for a capability set, before the
	// floor (floor.go), which Rule adds; caps is the set this profile
	// value is for (ForCaps).
	ruleFor func(e *syscalls.Entry, c syscalls.Caps) syscalls.Rule
	caps    syscalls.Caps
	// listed reports whether a file profile names the entry (nil: all).
	listed func(e *syscalls.Entry, c syscalls.Caps) bool
	// noMatch is the outcome of a call that matches none of its rule's
	// cases, and of a number outside the table; zero means deny ENOSYS.
	noMatch syscalls.Outcome
	// kill: calls that get noMatch or an unlisted entry's rule kill the
	// process instead (the file's "unlisted": "kill").
	kill bool
	file *File
	// capDeps gives the capabilities an entry's rule may depend on (nil:
	// none).
	capDeps func(e *syscalls.Entry) syscalls.Caps
}

// CapDeps is the set of capabilities the entry's rule under the profile
// depends on: holding one of them may change it (the withCaps/withoutCaps
// of a profile file's entries, the base's for calls a file leaves to it).
func (p *Profile) CapDeps(e *syscalls.Entry) syscalls.Caps {
	if p.capDeps == nil {
		return 0
	}
	return p.capDeps(e)
}

// New makes a profile from a function that gives each entry its rule. It is
// the seam for profiles that do not come from a profile file. The
// profile keeps the floor (floor.go) whatever rule says.
func New(name string, rule func(e *syscalls.Entry) syscalls.Rule) *Profile {
	return NewForCaps(name, func(e *syscalls.Entry, _ syscalls.Caps) syscalls.Rule { return rule(e) })
}

// NewForCaps is New for a profile whose rules depend on the container's
// capabilities (ForCaps chooses the set; the zero set holds none).
func NewForCaps(name string, rule func(e *syscalls.Entry, c syscalls.Caps) syscalls.Rule) *Profile {
	return &Profile{Name: name, ruleFor: rule}
}

// Rule returns the entry's rule under the profile, for the profile's
// capability set, with the floor.
func (p *Profile) Rule(e *syscalls.Entry) syscalls.Rule { return floor(e, p.ruleFor(e, p.caps)) }

// ForCaps returns the profile for a container whose capabilities (the
// union of its process's sets: what it holds or could gain) are c. A
// profile (built-in or file) opens the doors its entries open with
// withCaps; a file profile's base does, for the calls the file does not
// list.
// Without it a profile is for a container holding no capability that
// matters: the strictest choice.
func (p *Profile) ForCaps(c syscalls.Caps) *Profile {
	q := *p
	q.caps = c
	return &q
}

// Caps is the capability set the profile is for.
func (p *Profile) Caps() syscalls.Caps { return p.caps }

// Decide is the profile's decision for a call, from its number and value
// arguments: the entry (nil for a number the architecture does not have)
// and the outcome, exactly as the compiled filter decides it. The sentry
// calls it for notified calls; the handler is e.Handler.
func (p *Profile) Decide(nr int, args [6]uint64) (*syscalls.Entry, syscalls.Outcome) {
	e, ok := syscalls.ByNr(nr)
	if !ok {
		return nil, syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.ENOSYS}
	}
	r := p.Rule(e)
	if p.kill && p.listed != nil && !p.listed(e, p.caps) {
		return e, p.noMatch
	}
	if len(r.Cases) == 0 || p.noMatch.Tier == 0 {
		return e, r.Eval(args)
	}
	for _, c := range r.Cases {
		if holdsAll(c.When, args) {
			return e, r.Eval(args)
		}
	}
	return e, p.noMatch
}

func holdsAll(cs []syscalls.Cond, args [6]uint64) bool {
	for _, c := range cs {
		if !c.Holds(args) {
			return false
		}
	}
	return true
}

// Kills reports whether the profile kills a process making the call
// (an unlisted call under "unlisted": "kill").
func (p *Profile) Kills(e *syscalls.Entry) bool {
	return p.kill && p.listed != nil && !p.listed(e, p.caps)
}

// Listed reports whether the profile names the entry itself (a file
// profile's entry); built-in profiles list every entry.
func (p *Profile) Listed(e *syscalls.Entry) bool { return p.listed == nil || p.listed(e, p.caps) }

// File returns the file a profile was loaded from, nil for built-ins.
func (p *Profile) File() *File { return p.file }

// Passes counts the table entries the profile lets run at all: passed,
// emulated, proxied or checked, unconditionally or for some arguments.
func (p *Profile) Passes() int {
	n := 0
	for _, e := range syscalls.All() {
		if p.Kills(&e) {
			continue
		}
		r := p.Rule(&e)
		if r.Tier != syscalls.Deny && len(r.Cases) == 0 {
			n++
			continue
		}
		for _, c := range r.Cases {
			if c.Tier != syscalls.Deny {
				n++
				break
			}
		}
	}
	return n
}

// builtinFS holds the built-in profiles, written in the profile-file
// format (docs/profiles.md) with "base": "none": the policy is data, the
// syscall table only facts. Adding a built-in is adding a file here (and
// its description below).
//
//go:embed builtin/*.json
var builtinFS embed.FS

// builtins returns the compiled built-in profiles, compiling them on first
// use (a few milliseconds; commands that need no profile never pay it).
func builtins() map[string]*Profile {
	builtinOnce.Do(func() { builtinMap = loadBuiltins() })
	return builtinMap
}

var (
	builtinOnce sync.Once
	builtinMap  map[string]*Profile
)

// loadBuiltins compiles the embedded profile files. They are part of the
// binary, so an error is a build mistake: it panics.
func loadBuiltins() map[string]*Profile {
	m := map[string]*Profile{}
	files, err := fs.Glob(builtinFS, "builtin/*.json")
	if err != nil || len(files) == 0 {
		panic(fmt.Sprintf("policy: no embedded built-in profiles: %v", err))
	}
	for _, path := range files {
		data, err := builtinFS.ReadFile(path)
		if err != nil {
			panic(fmt.Sprintf("policy: built-in profile %s: %v", path, err))
		}
		p, err := parseBuiltin(path, data)
		if err != nil {
			panic(fmt.Sprintf("policy: built-in profile: %v", err))
		}
		if want := strings.TrimSuffix(filepath.Base(path), ".json"); p.Name != want {
			panic(fmt.Sprintf("policy: built-in profile %s is named %q", path, p.Name))
		}
		m[p.Name] = p
	}
	return m
}

// parseBuiltin compiles an embedded built-in profile file: as a user's
// file, except that it carries a built-in's name, and the profile is
// marked built-in (no file or source; every call counts as listed).
func parseBuiltin(path string, data []byte) (*Profile, error) {
	f, err := decodeFile(path, data)
	if err != nil {
		return nil, err
	}
	p, field, err := f.compileAs(true)
	if err != nil {
		return nil, &FileError{Path: path, Field: field, Err: err}
	}
	if f.Base != BaseNone || f.Unlisted != UnlistedBase {
		return nil, &FileError{Path: path, Err: errors.New(`a built-in has "base": "none" and no "unlisted"`)}
	}
	p.file, p.listed = nil, nil
	return p, nil
}

// BuiltinFile returns a built-in profile as its embedded file holds it.
func BuiltinFile(name string) ([]byte, error) {
	if !IsBuiltin(name) {
		return nil, &UnknownProfileError{Name: name}
	}
	return builtinFS.ReadFile("builtin/" + name + ".json")
}

// DefaultName is the profile a container gets when none is chosen.
const DefaultName = "default"

var descriptions = map[string]string{
	"default": "compatibility first: real programs run unmodified; identity virtualized; dangerous subsystems denied",
	"strict":  "default, plus connect proxied (no cloud-metadata or unix destinations), MSG_FASTOPEN refused, prctl options, ioctl requests and setsockopt pairs allowlisted, execveat AT_EMPTY_PATH refused",
	Learn:     "run the workload under default, record every call it makes, write a profile that allows only those",
}

// Describe returns a built-in profile's one-line description.
func Describe(name string) string { return descriptions[name] }

// Builtin returns a built-in profile by name.
func Builtin(name string) (*Profile, error) {
	if p, ok := builtins()[name]; ok {
		return p, nil
	}
	return nil, &UnknownProfileError{Name: name}
}

// Names lists the built-in profiles.
func Names() []string {
	// From the embedded files' names (loadBuiltins checks each profile is
	// named as its file), without compiling them: every syscage process
	// builds its flags' help from this list.
	files, _ := fs.Glob(builtinFS, "builtin/*.json")
	var n []string
	for _, f := range files {
		n = append(n, strings.TrimSuffix(filepath.Base(f), ".json"))
	}
	sort.Strings(n)
	return n
}

// UnknownProfileError is returned for a profile name that is not known.
type UnknownProfileError struct{ Name string }

func (e *UnknownProfileError) Error() string {
	return fmt.Sprintf("unknown profile %q (known: %v)", e.Name, Names())
}
