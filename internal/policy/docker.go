package policy

import (
	"fmt"
	"slices"

	dockerseccomp "github.com/moby/profiles/seccomp"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

// The reference for "what Docker allows": Docker's default seccomp
// profile (the module github.com/moby/profiles/seccomp, which Docker
// itself builds its default from, at the version go.mod pins), rendered
// as Docker renders it for a container with Docker's default
// capabilities on this architecture and this host's kernel.

// DockerProfileSource names the reference in listings.
const DockerProfileSource = "Docker's default seccomp profile (github.com/moby/profiles/seccomp v0.3.0) with Docker's default capabilities"

// dockerDefaultCapabilities are the capabilities Docker gives a container
// that asks for none (moby's oci/caps defaults).
var dockerDefaultCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// dockerDefault is Docker's default profile as Docker would load it into
// a default container here.
func dockerDefault() (*specs.LinuxSeccomp, error) {
	caps := dockerDefaultCapabilities
	spec := &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{
		Bounding: caps, Effective: caps, Permitted: caps,
	}}}
	s, err := dockerseccomp.GetDefaultProfile(spec)
	if err != nil {
		return nil, fmt.Errorf("rendering %s: %w", DockerProfileSource, err)
	}
	return s, nil
}

// Closed is a call a profile closes, wholly or for some argument values,
// that Docker's default profile lets a default container make.
type Closed struct {
	Nr   int
	Name string
	// Docker is what Docker's profile does: "allows", or "allows some
	// values" when it conditions the call on arguments.
	Docker string
	// Answer is what the profile does instead: a deny's errno, or the
	// summary of its conditions when it closes some values only.
	Answer string
	// Why is the reason: the table's note for the call.
	Why string
	// Opens is the profile-file entry that opens the call as Docker's
	// profile does (for a conditional rule: unconditionally, replacing
	// the base's conditions on it), or why none can.
	Opens string
}

// ClosedBeyondDocker lists, in syscall order, every call p refuses (for
// all values, or for values Docker allows) that Docker's default profile
// allows a default container: the doors syscage closes beyond Docker's,
// each with its reason and the profile-file line that opens it.
// Computed from the two profiles, never kept by hand.
func ClosedBeyondDocker(p *Profile) ([]Closed, error) {
	docker, err := dockerDefault()
	if err != nil {
		return nil, err
	}
	theirs := map[string][]rule{}
	for n, rs := range byName(docker.Syscalls) {
		theirs[n] = normalize(rs)
	}
	var out []Closed
	for _, e := range syscalls.All() {
		d := theirs[e.Name]
		allowsAll, allowsSome := false, false
		for _, r := range d {
			if r.action.act == specs.ActAllow || r.action.act == specs.ActLog {
				allowsSome = true
				allowsAll = allowsAll || len(r.args) == 0
			}
		}
		if !allowsSome {
			continue
		}
		ours := p.Rule(&e)
		c := Closed{Nr: e.Nr, Name: e.Name, Docker: "allows", Why: e.Note}
		if !allowsAll {
			c.Docker = "allows some values"
		}
		switch {
		case !ours.Conditional() && ours.Tier == syscalls.Deny:
			c.Answer = unix.ErrnoName(ours.ErrnoOf())
		case !ours.Conditional():
			continue // passed, emulated, proxied or checked: open
		default:
			if !closesSome(ours, d) {
				continue
			}
			c.Answer = ours.Summary
		}
		c.Opens = fmt.Sprintf(`{"names": [%q], "tier": "pass"}`, e.Name)
		if floor(&e, syscalls.Rule{Tier: syscalls.Pass}).Conditional() {
			c.Opens = "none: every profile keeps this refusal (the floor)"
		}
		out = append(out, c)
	}
	return out, nil
}

// closesSome reports whether some call Docker's rules d allow gets a
// deny from ours. The values tried are those either side's conditions
// name (and their neighbours): each argument's alone, the others zero,
// and every combination of the first two (the socket family and type).
func closesSome(ours syscalls.Rule, d []rule) bool {
	var vals [6][]uint64
	add := func(i uint, v uint64) {
		if i < 6 {
			vals[i] = append(vals[i], v, v+1, v-1)
		}
	}
	for _, r := range d {
		for _, a := range r.args {
			add(a.Index, a.Value)
			add(a.Index, a.ValueTwo)
		}
	}
	for _, c := range ours.Cases {
		for _, cd := range c.When {
			add(cd.Index, cd.Value)
		}
	}
	for i := range vals {
		vals[i] = append(vals[i], 0, 1, 2, 3, 5, 10)
		slices.Sort(vals[i])
		vals[i] = slices.Compact(vals[i])
	}
	closes := func(args [6]uint64) bool {
		return ours.Eval(args).Tier == syscalls.Deny && dockerAllows(d, args)
	}
	for i := range vals {
		for _, v := range vals[i] {
			var args [6]uint64
			args[i] = v
			if closes(args) {
				return true
			}
		}
	}
	for _, a0 := range vals[0] {
		for _, a1 := range vals[1] {
			if closes([6]uint64{a0, a1}) {
				return true
			}
		}
	}
	return false
}

// dockerAllows reports whether a rule of d that allows matches args and
// no stricter rule does (libseccomp's precedence: the most restrictive
// matching action wins).
func dockerAllows(d []rule, args [6]uint64) bool {
	allowed := false
	for _, r := range d {
		if !argsHold(r.args, args) {
			continue
		}
		if r.action.act != specs.ActAllow && r.action.act != specs.ActLog {
			return false
		}
		allowed = true
	}
	return allowed
}

// argsHold evaluates OCI argument conditions (ANDed) on args.
func argsHold(as []specs.LinuxSeccompArg, args [6]uint64) bool {
	for _, a := range as {
		v := args[a.Index]
		var ok bool
		switch a.Op {
		case specs.OpEqualTo:
			ok = v == a.Value
		case specs.OpNotEqual:
			ok = v != a.Value
		case specs.OpLessThan:
			ok = v < a.Value
		case specs.OpLessEqual:
			ok = v <= a.Value
		case specs.OpGreaterThan:
			ok = v > a.Value
		case specs.OpGreaterEqual:
			ok = v >= a.Value
		case specs.OpMaskedEqual:
			ok = v&a.Value == a.ValueTwo
		}
		if !ok {
			return false
		}
	}
	return true
}
