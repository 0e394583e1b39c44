package policy

import (
	"fmt"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

// DefaultErrno is what the filter returns for a syscall number that is not
// in the table (or a call whose arguments match none of its entry's cases).
const DefaultErrno = unix.ENOSYS

// Compile turns a profile into the OCI seccomp section libcontainer loads.
//
//   - defaultAction is SCMP_ACT_ERRNO with ENOSYS: numbers not in the table.
//     A file profile with "unlisted": "deny" makes it EPERM, with "kill"
//     SCMP_ACT_KILL_PROCESS (then its unlisted entries kill as well).
//   - architectures lists only the native one (SCMP_ARCH_X86_64). The 32-bit
//     ABIs (x86 via int 0x80, x32) are not listed, so none of their calls is
//     allowed: libseccomp gives a call from an architecture the filter does
//     not know its bad-architecture action, which libcontainer leaves at
//     its default (kill). No x86 or x32 program runs; nothing is let through.
//   - pass → SCMP_ACT_ALLOW; deny → SCMP_ACT_ERRNO with the entry's errno;
//     emulate, proxy and check → SCMP_ACT_NOTIFY, and listenerPath is set
//     when there is at least one such rule.
//   - a conditional entry gives one rule per case (libseccomp ANDs the
//     conditions of a rule and ORs the rules of a syscall; the cases are
//     disjoint and cover the argument space, except what is meant to get
//     the default ENOSYS).
//   - syscalls with the same action and conditions share one rule.
func Compile(p *Profile, listenerPath string) (*specs.LinuxSeccomp, error) {
	return compile(p, listenerPath, false)
}

// compile is Compile; with complete, the values a file profile's
// conditional entries do not allow get deny rules of their own
// (complement) instead of falling to the default action, so auditing
// sees them.
func compile(p *Profile, listenerPath string, complete bool) (*specs.LinuxSeccomp, error) {
	enosys := uint(DefaultErrno)
	out := &specs.LinuxSeccomp{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: &enosys,
		Architectures:   []specs.Arch{specs.Arch(syscalls.SeccompArch)},
	}
	switch {
	case p.kill:
		out.DefaultAction, out.DefaultErrnoRet = specs.ActKillProcess, nil
	case p.noMatch.Tier == syscalls.Deny:
		e := uint(p.noMatch.Errno)
		out.DefaultErrnoRet = &e
	}
	index := map[string]int{} // rule key → position in out.Syscalls
	notify := false
	for _, e := range syscalls.All() {
		if p.Kills(&e) {
			addRule(out, index, specs.LinuxSyscall{Names: []string{e.Name}, Action: specs.ActKillProcess})
			continue
		}
		r := p.Rule(&e)
		cs := r.Cases
		if complete && p.noMatch.Tier == syscalls.Deny && len(cs) > 0 {
			cs = append(append([]syscalls.Case(nil), cs...), complement(e.Name, cs, p.noMatch)...)
		}
		if len(cs) == 0 {
			cs = []syscalls.Case{{Outcome: syscalls.Outcome{Tier: r.Tier, Errno: r.ErrnoOf()}}}
		}
		for _, c := range cs {
			if c.Tier == syscalls.Deny && c.Errno == 0 {
				c.Errno = unix.EPERM
			}
			sc, err := specRule(e.Name, c)
			if err != nil {
				return nil, fmt.Errorf("profile %s: %w", p.Name, err)
			}
			if sc.Action == specs.ActNotify {
				notify = true
			}
			addRule(out, index, sc)
		}
	}
	if notify {
		if listenerPath == "" {
			return nil, fmt.Errorf("profile %s notifies the sentry but no listener path was given", p.Name)
		}
		out.ListenerPath = listenerPath
	}
	return out, nil
}

// addRule adds sc, a rule for one syscall, to out: its name joins the rule
// with the same action and conditions if there is one (index maps a
// rule's key to its position in out.Syscalls), else sc is appended.
func addRule(out *specs.LinuxSeccomp, index map[string]int, sc specs.LinuxSyscall) {
	k := key(sc)
	if i, ok := index[k]; ok {
		out.Syscalls[i].Names = append(out.Syscalls[i].Names, sc.Names...)
		return
	}
	index[k] = len(out.Syscalls)
	out.Syscalls = append(out.Syscalls, sc)
}

// specRule is one case as an OCI rule.
func specRule(name string, c syscalls.Case) (specs.LinuxSyscall, error) {
	sc := specs.LinuxSyscall{Names: []string{name}}
	switch c.Tier {
	case syscalls.Pass:
		sc.Action = specs.ActAllow
	case syscalls.Deny:
		sc.Action = specs.ActErrno
		e := uint(c.Errno)
		sc.ErrnoRet = &e
	case syscalls.Emulate, syscalls.Proxy, syscalls.Check:
		if name == "write" {
			return sc, fmt.Errorf("%s: write cannot be notified (libcontainer needs it to hand over the listener)", name)
		}
		sc.Action = specs.ActNotify
	default:
		return sc, fmt.Errorf("%s: no tier", name)
	}
	seen := map[uint]bool{}
	for _, cd := range c.When {
		if seen[cd.Index] {
			return sc, fmt.Errorf("%s: two conditions on arg%d in one case", name, cd.Index)
		}
		seen[cd.Index] = true
		sc.Args = append(sc.Args, SpecArg(cd))
	}
	return sc, nil
}

// SpecArg is a table condition as an OCI argument condition (for
// SCMP_CMP_MASKED_EQ the OCI value is the mask and valueTwo the datum).
func SpecArg(c syscalls.Cond) specs.LinuxSeccompArg {
	a := specs.LinuxSeccompArg{Index: c.Index, Op: specs.LinuxSeccompOperator(c.Op), Value: c.Value}
	if c.Op == syscalls.OpMaskedEq {
		a.Value, a.ValueTwo = c.Mask, c.Value
	}
	return a
}

// key identifies a rule's action and conditions.
func key(sc specs.LinuxSyscall) string {
	k := string(sc.Action)
	if sc.ErrnoRet != nil {
		k += fmt.Sprintf("/%d", *sc.ErrnoRet)
	}
	for _, a := range sc.Args {
		k += fmt.Sprintf("/%d%s%x:%x", a.Index, a.Op, a.Value, a.ValueTwo)
	}
	return k
}
