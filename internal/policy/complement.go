package policy

import (
	"github.com/sirupsen/logrus"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

// maxComplement bounds the cases complement adds for one syscall, to keep
// the filter well under the kernel's 4096 instructions.
const maxComplement = 256

// complement returns deny cases (outcome o) that match exactly the
// argument values a rule's cases do not, when that can be spelt out: every
// case compares the same arguments, each through the same mask of low
// bits, for equality (what learned profiles write). Otherwise it returns
// nil, and those values fall to the filter's default action.
//
// With the "unlisted": "deny" of a file profile the default action already
// denies them with EPERM; complement makes the denial a rule of its own,
// so that with auditing on it is notified and logged like every other.
func complement(name string, cases []syscalls.Case, o syscalls.Outcome) []syscalls.Case {
	if len(cases) == 0 {
		return nil
	}
	shape := cases[0].When
	if len(shape) == 0 {
		return nil
	}
	for _, c := range shape {
		if c.Op != syscalls.OpMaskedEq || c.Mask&(c.Mask+1) != 0 {
			return nil
		}
	}
	for _, cs := range cases {
		if len(cs.When) != len(shape) {
			return nil
		}
		for i, c := range cs.When {
			if c.Op != syscalls.OpMaskedEq || c.Index != shape[i].Index || c.Mask != shape[i].Mask {
				return nil
			}
		}
	}
	var out []syscalls.Case
	var walk func(sub []syscalls.Case, level int, prefix []syscalls.Cond)
	walk = func(sub []syscalls.Case, level int, prefix []syscalls.Cond) {
		arg, mask := shape[level].Index, shape[level].Mask
		var values []uint64
		groups := map[uint64][]syscalls.Case{}
		for _, c := range sub {
			v := c.When[level].Value
			if _, ok := groups[v]; !ok {
				values = append(values, v)
			}
			groups[v] = append(groups[v], c)
		}
		for _, c := range syscalls.Span(arg, mask, 0, mask, values...) {
			out = append(out, syscalls.Case{When: append(append([]syscalls.Cond(nil), prefix...), c), Outcome: o})
		}
		if level+1 == len(shape) {
			return
		}
		for _, v := range values {
			walk(groups[v], level+1, append(append([]syscalls.Cond(nil), prefix...), syscalls.Cond{Index: arg, Op: syscalls.OpMaskedEq, Mask: mask, Value: v}))
		}
	}
	walk(cases, 0, nil)
	if len(out) > maxComplement {
		logrus.Warnf("profile: %s: the values its entries do not allow take %d rules to spell out; they are denied by the filter's default action, without an audit event", name, len(out))
		return nil
	}
	return out
}
