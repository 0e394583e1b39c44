package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

// FileVersion is the version of the profile file format this runtime reads
// (the "syscageProfile" field).
const FileVersion = 1

// File is a profile file as written on disk (docs/profiles.md, "Profile
// files"). Load validates it and turns it into a Profile.
type File struct {
	// SyscageProfile is the format version; it must be FileVersion.
	SyscageProfile int    `json:"syscageProfile"`
	Name           string `json:"name"`
	Description    string `json:"description,omitempty"`
	// Base is the built-in profile the file extends ("default" if empty).
	Base string `json:"base,omitempty"`
	// KernelRelease is what uname and /proc report (below the flag and
	// the annotation in precedence).
	KernelRelease string `json:"kernelRelease,omitempty"`
	// Audit turns the audit stream on (below --strace and the annotation).
	Audit *bool `json:"audit,omitempty"`
	// ResourceViews, when false, shows the container the host's memory,
	// CPUs, uptime and load instead of its own (on if unset).
	ResourceViews *bool `json:"resourceViews,omitempty"`
	// Unlisted is what a syscall no entry names gets: "base" (the base
	// profile's rule; the default), "deny" (EPERM) or "kill" (the kernel
	// kills the process). With "deny" or "kill" it is also what a listed
	// syscall gets when its arguments match none of its entries.
	Unlisted string `json:"unlisted,omitempty"`
	// Syscalls are the entries, in the order they are tried.
	Syscalls []FileEntry `json:"syscalls"`
}

// FileEntry gives syscalls a tier, optionally only when value-argument
// conditions hold.
type FileEntry struct {
	Names []string   `json:"names"`
	Tier  string     `json:"tier"`
	Errno string     `json:"errno,omitempty"`
	When  []FileCond `json:"when,omitempty"`
	// WithCaps and WithoutCaps make the entry apply only to a container
	// holding all of WithCaps and none of WithoutCaps (capability names,
	// CAP_NET_ADMIN ...), in any of its process's sets.
	WithCaps    []string `json:"withCaps,omitempty"`
	WithoutCaps []string `json:"withoutCaps,omitempty"`
	// Summary says in one line what a syscall's conditional entries do
	// together, for listings; the first entry of a syscall that has one
	// gives it (otherwise the conditions are spelled out).
	Summary string `json:"summary,omitempty"`
	Why     string `json:"why,omitempty"`
}

// FileCond is one condition on a value argument.
type FileCond struct {
	Arg   *uint   `json:"arg"`
	Op    string  `json:"op"`
	Value *uint64 `json:"value"`
	Mask  *uint64 `json:"mask,omitempty"`
}

// Unlisted modes.
const (
	UnlistedBase = "base"
	UnlistedDeny = "deny"
	UnlistedKill = "kill"
)

// fileOps maps the file's operator names onto the table's.
var fileOps = map[string]syscalls.Op{
	"eq": syscalls.OpEq, "ne": syscalls.OpNe, "lt": syscalls.OpLt, "le": syscalls.OpLe,
	"gt": syscalls.OpGt, "ge": syscalls.OpGe, "masked-eq": syscalls.OpMaskedEq,
}

func fileOpName(op syscalls.Op) string {
	for k, v := range fileOps {
		if v == op {
			return k
		}
	}
	return string(op)
}

// FileError is a profile file that cannot be used: which file, which field
// (a JSON path such as syscalls[3].names[1]) and what is wrong with it.
type FileError struct {
	Path  string
	Field string
	Err   error
}

func (e *FileError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("profile file %s: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("profile file %s: %s: %v", e.Path, e.Field, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// IsFileRef reports whether a --profile value names a file rather than a
// built-in profile: it contains a slash or ends in .json.
func IsFileRef(ref string) bool {
	return strings.Contains(ref, "/") || strings.HasSuffix(ref, ".json")
}

// LoadFile reads, validates and compiles a profile file.
func LoadFile(path string) (*Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &FileError{Path: path, Err: err}
	}
	return ParseFile(path, data)
}

// ParseFile validates a profile file's contents; path is only used in
// errors and as the profile's Source.
func ParseFile(path string, data []byte) (*Profile, error) {
	f, err := decodeFile(path, data)
	if err != nil {
		return nil, err
	}
	p, field, err := f.compile()
	if err != nil {
		return nil, &FileError{Path: path, Field: field, Err: err}
	}
	p.Source = path
	return p, nil
}

// decodeFile decodes a profile file strictly: unknown fields and trailing
// data are errors.
func decodeFile(path string, data []byte) (*File, error) {
	var f File
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, &FileError{Path: path, Field: jsonField(err), Err: jsonProblem(err)}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &FileError{Path: path, Err: errors.New("trailing data after the profile object")}
	}
	return &f, nil
}

// jsonField extracts the field a decoding error is about.
func jsonField(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return te.Field
	}
	if s, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return strings.Trim(s, `"`)
	}
	return ""
}

func jsonProblem(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("is a JSON %s, want %s", te.Value, te.Type)
	}
	if strings.HasPrefix(err.Error(), "json: unknown field ") {
		return errors.New("unknown field")
	}
	return fmt.Errorf("not valid JSON: %w", err)
}

// errnoByName maps errno names (EPERM) to values.
var errnoByName = func() map[string]unix.Errno {
	m := map[string]unix.Errno{}
	for e := unix.Errno(1); e < 256; e++ {
		if n := unix.ErrnoName(e); n != "" {
			m[n] = e
		}
	}
	return m
}()

// fileRule is what the file says about one syscall.
type fileRule struct {
	rule    syscalls.Rule
	from    []int  // the entry index of each case
	summary string // the first entry's summary, if any
}

// BaseNone is the "base" of a file that extends no profile: a call it
// does not name gets ENOSYS, as a number the table lacks (or the unlisted
// deny/kill). The built-in profiles are written that way.
const BaseNone = "none"

// maxFileCaps bounds the distinct capabilities a file's entries depend on
// (the loader compiles the file once for each combination).
const maxFileCaps = 6

// fileEntry is a validated entry: what it decides and when.
type fileEntry struct {
	at          string
	names       []*syscalls.Entry
	tier        syscalls.Tier
	errno       unix.Errno
	when        []syscalls.Cond
	withCaps    syscalls.Caps
	withoutCaps syscalls.Caps
	summary     string
}

// appliesTo reports whether the entry is in force for a container whose
// capabilities are c.
func (fe *fileEntry) appliesTo(c syscalls.Caps) bool {
	return c&fe.withCaps == fe.withCaps && c&fe.withoutCaps == 0
}

func (f *File) compile() (*Profile, string, error) {
	return f.compileAs(false)
}

// compileAs is compile; builtin is set for the embedded built-in profiles,
// which may (must) carry a built-in's name.
func (f *File) compileAs(builtin bool) (*Profile, string, error) {
	if f.SyscageProfile != FileVersion {
		return nil, "syscageProfile", fmt.Errorf("version %d is not supported (want %d)", f.SyscageProfile, FileVersion)
	}
	if f.Name == "" {
		return nil, "name", errors.New("missing")
	}
	if !builtin && (f.Name == Learn || slices.Contains(Names(), f.Name)) {
		return nil, "name", fmt.Errorf("%q is a built-in profile's name", f.Name)
	}
	if f.Base == "" {
		f.Base = DefaultName
	}
	var base *Profile
	if f.Base != BaseNone {
		b, err := Builtin(f.Base)
		if err != nil {
			return nil, "base", err
		}
		base = b
	}
	if f.KernelRelease != "" && (strings.ContainsAny(f.KernelRelease, "\n\x00") || len(f.KernelRelease) > 64) {
		return nil, "kernelRelease", errors.New("must be one line of at most 64 bytes")
	}
	switch f.Unlisted {
	case "":
		f.Unlisted = UnlistedBase
	case UnlistedBase, UnlistedDeny, UnlistedKill:
	default:
		return nil, "unlisted", fmt.Errorf("%q: want base, deny or kill", f.Unlisted)
	}
	if f.Syscalls == nil {
		return nil, "syscalls", errors.New("missing (an empty list is [])")
	}
	var entries []*fileEntry
	var capsUsed syscalls.Caps
	for i, ent := range f.Syscalls {
		at := fmt.Sprintf("syscalls[%d]", i)
		fe := &fileEntry{at: at, summary: ent.Summary}
		tier, err := syscalls.ParseTier(ent.Tier)
		if err != nil {
			return nil, at + ".tier", err
		}
		fe.tier = tier
		if ent.Errno != "" {
			if tier != syscalls.Deny {
				return nil, at + ".errno", fmt.Errorf("only a deny entry has an errno (tier is %s)", tier)
			}
			e, ok := errnoByName[ent.Errno]
			if !ok {
				return nil, at + ".errno", fmt.Errorf("unknown errno %q", ent.Errno)
			}
			fe.errno = e
		} else if tier == syscalls.Deny {
			fe.errno = unix.EPERM
		}
		when, field, err := compileConds(ent.When)
		if err != nil {
			return nil, at + ".when" + field, err
		}
		fe.when = when
		if fe.withCaps, err = syscalls.CapsOf(ent.WithCaps...); err != nil {
			return nil, at + ".withCaps", err
		}
		if fe.withoutCaps, err = syscalls.CapsOf(ent.WithoutCaps...); err != nil {
			return nil, at + ".withoutCaps", err
		}
		if fe.withCaps&fe.withoutCaps != 0 {
			return nil, at + ".withoutCaps", fmt.Errorf("%v also in withCaps: the entry could never apply", (fe.withCaps & fe.withoutCaps).Names())
		}
		capsUsed |= fe.withCaps | fe.withoutCaps
		if len(ent.Names) == 0 {
			return nil, at + ".names", errors.New("empty")
		}
		for j, name := range ent.Names {
			nat := fmt.Sprintf("%s.names[%d]", at, j)
			e, ok := syscalls.ByName(name)
			if !ok {
				return nil, nat, fmt.Errorf("unknown syscall %q (not in the %s table)", name, syscalls.Arch)
			}
			if err := tierAllowed(e, tier); err != nil {
				return nil, nat, err
			}
			if err := checkFloor(e, tier, when); err != nil {
				return nil, nat, err
			}
			if k, err := checkArgFacts(e, when); err != nil {
				return nil, fmt.Sprintf("%s.when[%d]", at, k), err
			}
			fe.names = append(fe.names, e)
		}
		entries = append(entries, fe)
	}
	if n := len(capsUsed.Names()); n > maxFileCaps {
		return nil, "syscalls", fmt.Errorf("entries depend on %d capabilities; at most %d", n, maxFileCaps)
	}
	// One rule set for each combination of the capabilities the entries
	// name; a container's set picks one (ruleFor below).
	byCaps := map[syscalls.Caps]map[int]*fileRule{}
	listed := map[int]bool{}
	for sub := capsUsed; ; sub = (sub - 1) & capsUsed {
		rules, field, err := fileRules(entries, sub, builtin)
		if err != nil {
			return nil, field, err
		}
		for nr := range rules {
			listed[nr] = true
		}
		byCaps[sub] = rules
		if sub == 0 {
			break
		}
	}
	p := &Profile{
		Name:          f.Name,
		Description:   f.Description,
		KernelRelease: f.KernelRelease,
		Audit:         f.Audit,
		ResourceViews: f.ResourceViews,
		Unlisted:      f.Unlisted,
		file:          f,
	}
	if base != nil {
		p.Base = base.Name
	}
	unlisted := func(e *syscalls.Entry, c syscalls.Caps) syscalls.Rule {
		switch f.Unlisted {
		case UnlistedBase:
			if base == nil {
				return syscalls.Rule{Tier: syscalls.Deny, Errno: DefaultErrno}
			}
			return base.ruleFor(e, c)
		case UnlistedKill:
			return syscalls.Rule{Tier: syscalls.Deny, Errno: unix.EPERM, Summary: "kill"}
		}
		return syscalls.Rule{Tier: syscalls.Deny, Errno: unix.EPERM}
	}
	p.ruleFor = func(e *syscalls.Entry, c syscalls.Caps) syscalls.Rule {
		if r, ok := byCaps[c&capsUsed][e.Nr]; ok {
			return r.rule
		}
		return unlisted(e, c)
	}
	p.listed = func(e *syscalls.Entry, c syscalls.Caps) bool { _, ok := byCaps[c&capsUsed][e.Nr]; return ok }
	deps := map[int]syscalls.Caps{}
	for _, fe := range entries {
		for _, e := range fe.names {
			deps[e.Nr] |= fe.withCaps | fe.withoutCaps
		}
	}
	p.capDeps = func(e *syscalls.Entry) syscalls.Caps {
		d := deps[e.Nr]
		if base != nil && f.Unlisted == UnlistedBase {
			d |= base.CapDeps(e)
		}
		return d
	}
	switch f.Unlisted {
	case UnlistedDeny:
		p.noMatch = syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.EPERM}
	case UnlistedKill:
		p.kill = true
		p.noMatch = syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.EPERM}
	}
	return p, "", nil
}

// fileRules builds each named syscall's rule from the entries in force for
// the capability set c, checking that they fit together.
//
// trusted skips the check that cases with different outcomes are
// disjoint, quadratic in a call's cases: for the embedded built-ins, which
// their tests load with it (TestBuiltinFilesCheck).
func fileRules(entries []*fileEntry, c syscalls.Caps, trusted bool) (map[int]*fileRule, string, error) {
	holding := ""
	if c != 0 {
		holding = fmt.Sprintf(" (for a container holding %s)", strings.Join(c.Names(), ", "))
	}
	rules := map[int]*fileRule{}
	for i, fe := range entries {
		if !fe.appliesTo(c) {
			continue
		}
		for j, e := range fe.names {
			nat := fmt.Sprintf("%s.names[%d]", fe.at, j)
			name := e.Name
			r := rules[e.Nr]
			if r == nil {
				r = &fileRule{}
				rules[e.Nr] = r
			}
			if r.summary == "" {
				r.summary = fe.summary
			}
			switch {
			case len(fe.when) == 0 && (r.rule.Tier != 0 || len(r.rule.Cases) > 0):
				return nil, nat, fmt.Errorf("%s already has an entry%s; an entry without conditions must be its only one", name, holding)
			case len(fe.when) > 0 && r.rule.Tier != 0 && len(r.rule.Cases) == 0:
				return nil, nat, fmt.Errorf("%s already has an entry without conditions%s", name, holding)
			case len(fe.when) == 0:
				r.rule = syscalls.Rule{Tier: fe.tier, Errno: fe.errno}
			default:
				c := syscalls.Case{When: narrowed(e, fe.when), Outcome: syscalls.Outcome{Tier: fe.tier, Errno: fe.errno}}
				for k, prev := range r.rule.Cases {
					if !trusted && prev.Outcome != c.Outcome && mayOverlap(prev.When, c.When) {
						return nil, nat, fmt.Errorf("%s: these conditions can hold together with those of syscalls[%d], which decides otherwise%s; make the entries disjoint", name, r.from[k], holding)
					}
				}
				if r.rule.Tier == 0 || fe.tier == syscalls.Pass {
					r.rule.Tier = fe.tier
				}
				r.rule.Cases = append(r.rule.Cases, c)
				r.from = append(r.from, i)
			}
		}
	}
	for _, r := range rules {
		if len(r.rule.Cases) > 0 {
			r.rule.Summary = r.summary
			if r.rule.Summary == "" {
				r.rule.Summary = summarize(r.rule.Cases)
			}
		}
	}
	return rules, "", nil
}

func summarize(cs []syscalls.Case) string {
	var parts []string
	for _, c := range cs {
		var conds []string
		for _, w := range c.When {
			conds = append(conds, w.String())
		}
		parts = append(parts, strings.Join(conds, "&&")+": "+c.Outcome.String())
	}
	return strings.Join(parts, "; ")
}

// mayOverlap reports whether some arguments can satisfy both condition
// lists: for every argument both constrain, the two conditions can hold
// together (conservatively: true when that cannot be decided simply).
func mayOverlap(a, b []syscalls.Cond) bool {
	for _, x := range a {
		for _, y := range b {
			if x.Index == y.Index && !condsMeet(x, y) {
				return false
			}
		}
	}
	return true
}

// condsMeet reports whether one value can satisfy both conditions.
func condsMeet(x, y syscalls.Cond) bool {
	masked := func(c syscalls.Cond) (uint64, uint64, bool) {
		switch c.Op {
		case syscalls.OpMaskedEq:
			return c.Mask, c.Value, true
		case syscalls.OpEq:
			return ^uint64(0), c.Value, true
		}
		return 0, 0, false
	}
	interval := func(c syscalls.Cond) (lo, hi uint64, ok bool) {
		switch c.Op {
		case syscalls.OpEq:
			return c.Value, c.Value, true
		case syscalls.OpLt:
			if c.Value == 0 {
				return 1, 0, true // empty
			}
			return 0, c.Value - 1, true
		case syscalls.OpLe:
			return 0, c.Value, true
		case syscalls.OpGt:
			if c.Value == ^uint64(0) {
				return 1, 0, true
			}
			return c.Value + 1, ^uint64(0), true
		case syscalls.OpGe:
			return c.Value, ^uint64(0), true
		}
		return 0, 0, false
	}
	if xm, xv, ok := masked(x); ok {
		if ym, yv, ok := masked(y); ok {
			return (xv^yv)&xm&ym == 0
		}
	}
	if xl, xh, ok := interval(x); ok {
		if yl, yh, ok := interval(y); ok {
			return xl <= xh && yl <= yh && xl <= yh && yl <= xh
		}
	}
	if x.Op == syscalls.OpNe && y.Op == syscalls.OpEq {
		return x.Value != y.Value
	}
	if y.Op == syscalls.OpNe && x.Op == syscalls.OpEq {
		return x.Value != y.Value
	}
	return true
}

func compileConds(fc []FileCond) ([]syscalls.Cond, string, error) {
	var out []syscalls.Cond
	seen := map[uint]bool{}
	for k, c := range fc {
		at := fmt.Sprintf("[%d]", k)
		if c.Arg == nil {
			return nil, at + ".arg", errors.New("missing")
		}
		if *c.Arg > 5 {
			return nil, at + ".arg", fmt.Errorf("%d: a syscall has arguments 0 to 5", *c.Arg)
		}
		if seen[*c.Arg] {
			return nil, at + ".arg", fmt.Errorf("a second condition on arg %d in one entry (write two entries)", *c.Arg)
		}
		seen[*c.Arg] = true
		op, ok := fileOps[c.Op]
		if !ok {
			return nil, at + ".op", fmt.Errorf("unknown operator %q (want eq, ne, lt, le, gt, ge or masked-eq)", c.Op)
		}
		if c.Value == nil {
			return nil, at + ".value", errors.New("missing")
		}
		cond := syscalls.Cond{Index: *c.Arg, Op: op, Value: *c.Value}
		if op == syscalls.OpMaskedEq {
			if c.Mask == nil {
				return nil, at + ".mask", errors.New("masked-eq needs a mask")
			}
			if *c.Mask == 0 {
				return nil, at + ".mask", errors.New("a zero mask matches every value")
			}
			if *c.Value&^*c.Mask != 0 {
				return nil, at + ".value", fmt.Errorf("%#x has bits outside the mask %#x: it can never match", *c.Value, *c.Mask)
			}
			cond.Mask = *c.Mask
		} else if c.Mask != nil {
			return nil, at + ".mask", fmt.Errorf("only masked-eq takes a mask (op is %s)", c.Op)
		}
		out = append(out, cond)
	}
	return out, "", nil
}

// tierAllowed says whether a profile may give the entry a tier: pass and
// deny always; check for every call the kernel lets us notify (not write:
// libcontainer hands over the listener with it); emulate and proxy only
// where the table has a handler doing that (Entry.HandlerTier).
func tierAllowed(e *syscalls.Entry, t syscalls.Tier) error {
	switch t {
	case syscalls.Pass, syscalls.Deny:
		return nil
	}
	if e.Name == "write" {
		return fmt.Errorf("write cannot be %s: libcontainer hands the seccomp listener over with it, so it is never notified", t)
	}
	if t == syscalls.Check {
		return nil
	}
	if e.HandlerTier() != t {
		return fmt.Errorf("%s cannot be %s: the sentry has no %s handler for it", e.Name, t, t)
	}
	return nil
}

// checkFloor refuses an entry the floor (floor.go) could only keep by
// denying it whole: one that lets seccomp run under a condition on its
// flags (arg 1) other than an equality or masked equality, which cannot be
// combined with the floor's masked equality on the listener bit in one
// rule.
func checkFloor(e *syscalls.Entry, t syscalls.Tier, when []syscalls.Cond) error {
	if e.Name != "seccomp" || t == syscalls.Deny {
		return nil
	}
	for _, c := range when {
		if c.Index == listenerArg && c.Op != syscalls.OpEq && c.Op != syscalls.OpMaskedEq {
			return fmt.Errorf("seccomp: a condition on arg %d (flags) must be eq or masked-eq: every profile refuses SECCOMP_FILTER_FLAG_NEW_LISTENER, and that is combined with yours", listenerArg)
		}
	}
	return nil
}

// checkArgFacts checks conditions against the table's facts about the
// call's arguments (syscalls.Entry.Args): the argument exists, and the
// condition looks at no bit above the argument's width. The kernel reads
// only the low 32 bits of an int argument, so a value or mask above them
// is either never true (eq, masked-eq) or decided by bits the caller
// chooses freely and the kernel ignores (ne, lt, gt ...): a deny entry
// written that way would be undone by setting an upper bit. It returns
// the index of the condition at fault.
func checkArgFacts(e *syscalls.Entry, when []syscalls.Cond) (int, error) {
	for k, c := range when {
		a, ok := e.ArgAt(c.Index)
		if !ok {
			args, _ := e.Args()
			return k, fmt.Errorf("%s takes %d arguments; there is no arg %d", e.Name, len(args), c.Index)
		}
		if a.Width() == 32 && c.Op != syscalls.OpEq && c.Op != syscalls.OpMaskedEq {
			return k, fmt.Errorf("%s: arg %d (%s) is a 32-bit %s; %s would compare the whole 64-bit register, whose upper bits "+
				"the caller sets freely and the kernel ignores, so a rule on it could be undone: use eq or masked-eq",
				e.Name, c.Index, a.Name, a.Kind, fileCondString(c))
		}
		bits := c.Value
		if c.Op == syscalls.OpMaskedEq {
			bits |= c.Mask
		}
		if bits&^a.Mask() != 0 {
			return k, fmt.Errorf("%s: arg %d (%s) is a %d-bit %s; %s compares bits above them, which the kernel ignores "+
				"(for a negative value, compare the low 32 bits: masked-eq with mask 0xffffffff)",
				e.Name, c.Index, a.Name, a.Width(), a.Kind, fileCondString(c))
		}
	}
	return -1, nil
}

// narrowed is when as the filter must test it for e: an equality on a
// 32-bit argument compares its low 32 bits only (masked-eq 0xffffffff),
// as the kernel reads it, so upper bits a caller sets cannot make a deny
// entry miss or a pass entry match a value the kernel sees otherwise.
// (checkArgFacts has refused every other comparison on such arguments.)
func narrowed(e *syscalls.Entry, when []syscalls.Cond) []syscalls.Cond {
	out := make([]syscalls.Cond, len(when))
	for i, c := range when {
		out[i] = c
		if a, ok := e.ArgAt(c.Index); ok && a.Width() == 32 {
			switch c.Op {
			case syscalls.OpEq:
				out[i] = syscalls.Cond{Index: c.Index, Op: syscalls.OpMaskedEq, Mask: 0xffffffff, Value: c.Value}
			case syscalls.OpMaskedEq:
				out[i].Mask &= 0xffffffff
			}
		}
	}
	return out
}

// fileCondString is a condition as the file spells it.
func fileCondString(c syscalls.Cond) string {
	if c.Op == syscalls.OpMaskedEq {
		return fmt.Sprintf("masked-eq mask %#x value %#x", c.Mask, c.Value)
	}
	return fmt.Sprintf("%s %#x", fileOpName(c.Op), c.Value)
}
