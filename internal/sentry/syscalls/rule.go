package syscalls

import (
	"fmt"
	"math/bits"

	"golang.org/x/sys/unix"
)

// Op compares one syscall argument with a value. The names are libseccomp's
// and the OCI runtime spec's (specs.LinuxSeccompOperator).
type Op string

const (
	OpEq       Op = "SCMP_CMP_EQ"
	OpNe       Op = "SCMP_CMP_NE"
	OpLt       Op = "SCMP_CMP_LT"
	OpLe       Op = "SCMP_CMP_LE"
	OpGe       Op = "SCMP_CMP_GE"
	OpGt       Op = "SCMP_CMP_GT"
	OpMaskedEq Op = "SCMP_CMP_MASKED_EQ"
)

// Cond is one condition on a value argument. It maps 1:1 onto
// specs.LinuxSeccompArg: Index → Index, Op → Op, and for OpMaskedEq
// Mask → Value and Value → ValueTwo (libseccomp takes the mask first);
// for the other operators Value → Value.
//
// Comparisons see the full 64-bit register. The kernel truncates int
// arguments to 32 bits, so conditions on them use OpMaskedEq with a mask
// inside the low 32 bits: garbage in the upper half then neither helps
// nor hurts, exactly as in the kernel.
type Cond struct {
	Index uint   `json:"index"`
	Op    Op     `json:"op"`
	Value uint64 `json:"value"`
	Mask  uint64 `json:"mask,omitempty"`
}

// Holds reports whether the condition is true for the given arguments,
// with libseccomp's (unsigned 64-bit) semantics.
func (c Cond) Holds(args [6]uint64) bool {
	if c.Index >= 6 {
		return false
	}
	a := args[c.Index]
	switch c.Op {
	case OpEq:
		return a == c.Value
	case OpNe:
		return a != c.Value
	case OpLt:
		return a < c.Value
	case OpLe:
		return a <= c.Value
	case OpGe:
		return a >= c.Value
	case OpGt:
		return a > c.Value
	case OpMaskedEq:
		return a&c.Mask == c.Value
	}
	return false
}

func (c Cond) String() string {
	if c.Op == OpMaskedEq {
		return fmt.Sprintf("arg%d&%#x==%#x", c.Index, c.Mask, c.Value)
	}
	sym := map[Op]string{OpEq: "==", OpNe: "!=", OpLt: "<", OpLe: "<=", OpGe: ">=", OpGt: ">"}[c.Op]
	return fmt.Sprintf("arg%d%s%#x", c.Index, sym, c.Value)
}

// Outcome is the decision for one call: a tier and, for Deny, the errno.
type Outcome struct {
	Tier  Tier       `json:"tier"`
	Errno unix.Errno `json:"-"`
}

func (o Outcome) String() string {
	if o.Tier == Deny {
		return "deny " + unix.ErrnoName(o.errno())
	}
	return o.Tier.String()
}

func (o Outcome) errno() unix.Errno {
	if o.Tier == Deny && o.Errno == 0 {
		return unix.EPERM
	}
	return o.Errno
}

// Case is a value-dependent outcome: it applies to a call for which every
// condition in When holds (libseccomp ANDs the conditions of one rule; at
// most one condition per argument, because runc splits a rule with two
// conditions on the same argument into separate, ORed rules).
type Case struct {
	When []Cond `json:"when"`
	Outcome
}

// Rule is an entry's decision under one profile.
//
// Without Cases it is unconditional: every call gets Tier (and Errno, for
// Deny; 0 means EPERM). With Cases, a call gets the outcome of the case it
// matches; cases with different outcomes never overlap (the table's tests
// check it), and a call that matches no case gets the filter's default
// action, ENOSYS. Tier then names the main outcome, for listings, and
// Summary says in words what the cases do.
type Rule struct {
	Tier    Tier
	Errno   unix.Errno
	Cases   []Case
	Summary string
}

// ErrnoOf returns the errno a Deny rule returns (EPERM if unset).
func (r Rule) ErrnoOf() unix.Errno { return Outcome{Tier: r.Tier, Errno: r.Errno}.errno() }

// Conditional reports whether the decision depends on argument values.
func (r Rule) Conditional() bool { return len(r.Cases) > 0 }

// Eval decides a call from its arguments, exactly as the compiled filter
// does (for notified tiers, the sentry learns the tier from here).
func (r Rule) Eval(args [6]uint64) Outcome {
	if len(r.Cases) == 0 {
		return Outcome{Tier: r.Tier, Errno: r.ErrnoOf()}
	}
	for _, c := range r.Cases {
		if holdsAll(c.When, args) {
			return Outcome{Tier: c.Tier, Errno: c.errno()}
		}
	}
	return Outcome{Tier: Deny, Errno: unix.ENOSYS}
}

func holdsAll(cs []Cond, args [6]uint64) bool {
	for _, c := range cs {
		if !c.Holds(args) {
			return false
		}
	}
	return true
}

// Describe is the rule in one line: tier, errno and conditions.
func (r Rule) Describe() string {
	if len(r.Cases) > 0 {
		return r.Summary
	}
	if r.Tier == Deny {
		return unix.ErrnoName(r.ErrnoOf())
	}
	return ""
}

// Argument widths: the bits the kernel looks at.
const (
	width32 = uint64(0xffffffff)
	width64 = ^uint64(0)
)

// span returns OpMaskedEq conditions on argument i, one per alternative,
// that together match exactly the arguments whose value seen through width
// lies in [lo, hi] and is not in except. The alternatives are disjoint
// aligned blocks (a value range whose size is a power of two), so the
// result is exact, whatever the upper, ignored bits hold.
func span(i uint, width, lo, hi uint64, except ...uint64) []Cond {
	var out []Cond
	emit := func(a, b uint64) { // the closed range [a, b], a <= b
		for {
			size := uint64(1) << bits.TrailingZeros64(a|1<<63) // largest block aligned at a
			for size > 1 && (b-a < size-1) {
				size >>= 1
			}
			out = append(out, Cond{Index: i, Op: OpMaskedEq, Mask: width &^ (size - 1), Value: a})
			if b-a == size-1 {
				return
			}
			a += size
		}
	}
	a := lo
	for _, x := range sorted(except) {
		if x < a || x > hi {
			continue
		}
		if x > a {
			emit(a, x-1)
		}
		if x == hi {
			return out
		}
		a = x + 1
	}
	emit(a, hi)
	return out
}

func sorted(v []uint64) []uint64 {
	s := append([]uint64(nil), v...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}
