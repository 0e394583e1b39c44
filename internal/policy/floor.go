package policy

import (
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

// The floor is what every filter syscage compiles keeps, whatever its
// profile says: a built-in, a profile file, a learned profile, learn mode,
// and (through Merge, where our deny beats their allow) a merge with the
// container's own seccomp section.
//
// Today it is one rule: seccomp(2) with SECCOMP_FILTER_FLAG_NEW_LISTENER in
// its flags (arg 1) is refused with EPERM. A workload that could make a
// listener would be a seccomp agent for its own calls: once the sentry is
// gone (its listener closed, so the kernel no longer refuses a second one
// with EBUSY), the workload's filter would win the tie with our notify
// rules and its agent, answering CONTINUE, would get the host's real
// answers. EPERM, not the kernel's EBUSY, so the refusal is recognisably
// the sandbox's and is the same whether the sentry is alive or not.
// prctl(PR_SET_SECCOMP) cannot make a listener: it has no flags argument
// (the kernel calls do_seccomp with flags 0).
const (
	listenerArg   = 1
	listenerFlag  = uint64(unix.SECCOMP_FILTER_FLAG_NEW_LISTENER)
	listenerErrno = unix.EPERM
)

// floor returns r with the floor applied to e. Each case (or the
// unconditional rule) that does not deny is split in two on the listener
// bit: without it, the case's outcome; with it, deny EPERM. A case that
// already decides the bit (an equality or masked equality on arg 1 that
// looks at it) is kept, or denied if it requires the bit. A case whose
// condition on arg 1 cannot be combined with a masked equality in one rule
// (lt, gt, ne ...) is denied outright: never looser (profile files cannot
// write one, see checkFloor). The result's cases stay disjoint where their
// outcomes differ, and cover exactly what r's cases covered.
func floor(e *syscalls.Entry, r syscalls.Rule) syscalls.Rule {
	if e.Name != "seccomp" {
		return r
	}
	deny := syscalls.Outcome{Tier: syscalls.Deny, Errno: listenerErrno}
	if len(r.Cases) == 0 {
		if r.Tier == syscalls.Deny {
			return r
		}
		keep := syscalls.Outcome{Tier: r.Tier}
		cs := []syscalls.Case{
			{When: []syscalls.Cond{listenerCond(0, 0)}, Outcome: keep},
			{When: []syscalls.Cond{listenerCond(0, listenerFlag)}, Outcome: deny},
		}
		return syscalls.Rule{Tier: r.Tier, Cases: cs, Summary: summarize(cs)}
	}
	var cs []syscalls.Case
	changed := false
	for _, c := range r.Cases {
		if c.Tier == syscalls.Deny {
			cs = append(cs, c)
			continue
		}
		i := -1
		for k, w := range c.When {
			if w.Index == listenerArg {
				i = k
			}
		}
		var mask, value uint64
		switch {
		case i < 0:
		case c.When[i].Op == syscalls.OpMaskedEq:
			mask, value = c.When[i].Mask, c.When[i].Value
		case c.When[i].Op == syscalls.OpEq:
			mask, value = ^uint64(0), c.When[i].Value
		default:
			cs = append(cs, syscalls.Case{When: c.When, Outcome: deny})
			changed = true
			continue
		}
		if mask&listenerFlag != 0 {
			if value&listenerFlag != 0 {
				cs = append(cs, syscalls.Case{When: c.When, Outcome: deny})
				changed = true
			} else {
				cs = append(cs, c)
			}
			continue
		}
		without, with := withCond(c.When, i, listenerCond(mask, value)), withCond(c.When, i, listenerCond(mask, value|listenerFlag))
		cs = append(cs, syscalls.Case{When: without, Outcome: c.Outcome}, syscalls.Case{When: with, Outcome: deny})
		changed = true
	}
	if !changed {
		return r
	}
	return syscalls.Rule{Tier: r.Tier, Cases: cs, Summary: summarize(cs)}
}

// listenerCond is arg 1 & (mask|NEW_LISTENER) == value: value decides the
// listener bit.
func listenerCond(mask, value uint64) syscalls.Cond {
	return syscalls.Cond{Index: listenerArg, Op: syscalls.OpMaskedEq, Mask: mask | listenerFlag, Value: value}
}

// withCond returns a copy of when with its condition i replaced by c, or
// c appended when i < 0.
func withCond(when []syscalls.Cond, i int, c syscalls.Cond) []syscalls.Cond {
	out := append([]syscalls.Cond(nil), when...)
	if i < 0 {
		return append(out, c)
	}
	out[i] = c
	return out
}
