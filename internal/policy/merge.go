package policy

import (
	"errors"
	"fmt"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

// ErrForeignNotify is returned by Merge when the container's own seccomp
// section notifies an agent: a process has one listener, and it is the
// sentry's.
var ErrForeignNotify = errors.New("the container's seccomp section uses SCMP_ACT_NOTIFY or a listener path; syscage's sentry is the only seccomp agent it can have")

// Merge combines our compiled filter with the seccomp section the
// container's config already has (Docker's default profile, say) so that
// for every call the stricter decision wins. It never produces a decision
// more permissive than either input; where a combination cannot be
// expressed exactly it denies.
//
// Strictness of actions, most permissive first: ALLOW and LOG; NOTIFY (the
// sentry decides); TRACE, ERRNO (a deny); TRAP; KILL_THREAD/KILL;
// KILL_PROCESS. Two denies of the same rank are equally strict; ours is kept.
//
// Their rules are first read as runc will load them: a rule with two
// conditions on one argument becomes one rule per condition (ORed), and an
// unconditional rule for a syscall overrides its conditional ones
// (libseccomp). For each syscall in our table, with O our rules and T
// theirs (T is their default action if they have no rule for it):
//
//  1. A rule on either side that denies and is at least as strict as every
//     rule of the other side is kept as it is (their unconditional deny
//     beats our pass or notify; our deny beats their allow).
//
//  2. Every other pair (o, t) becomes one rule: o's conditions ANDed with
//     t's, with the stricter action (their allow with our notify is a
//     notify). Two conditions on the same argument are combined into one
//     when both are equalities or masked equalities (and the pair dropped
//     if they contradict), or when one is a masked equality and the other
//     SCMP_CMP_NE (the excluded value is cut out of the block, comparing
//     the low 32 bits when ours does); any other pair on one argument
//     cannot be expressed, and is dropped.
//
//  3. Argument values that only one side's rules cover, and dropped pairs,
//     get the merged default action: a deny. This is stricter than needed
//     only when their default allows (a deny-list profile): then calls
//     their rules do not mention but ours conditionally pass are denied.
//
//  4. Syscalls only they name (other architectures, names our table does
//     not have) are left to our default, ENOSYS.
//
//  5. Syscalls newer than every syscall their profile names (by number on
//     this architecture) get ERRNO(ENOSYS) from their side when their
//     default action denies: runc loads exactly that, an ENOSYS stub in
//     front of such a profile (libcontainer/seccomp/patchbpf), so that
//     programs fall back from calls the profile's author never saw. The
//     merge is then as strict as theirs as runc enforces it, and ours
//     still applies on top (our deny wins where it is stricter). The
//     exceptions are initAfterFilter: calls libcontainer's own init makes
//     after loading the filter and cannot do without; those are decided
//     by our table alone. When their default allows (ALLOW, LOG, TRACE,
//     which runc gives no stub), their default decides as for any call
//     they do not name; a default of ERRNO(ENOSYS) is the stub's answer.
//
// The merged default action is the stricter of the two (ours, ERRNO ENOSYS,
// on a tie); architectures are ours (their 32-bit ABIs are not allowed);
// flags are the union; listenerPath is ours. A notify action in theirs is
// an error (ErrForeignNotify).
func Merge(ours, theirs *specs.LinuxSeccomp) (*specs.LinuxSeccomp, error) {
	if theirs == nil || (theirs.DefaultAction == "" && len(theirs.Syscalls) == 0) {
		return ours, nil
	}
	if theirs.ListenerPath != "" || theirs.DefaultAction == specs.ActNotify {
		return nil, ErrForeignNotify
	}
	for _, sc := range theirs.Syscalls {
		if sc.Action == specs.ActNotify {
			return nil, ErrForeignNotify
		}
	}
	if _, ok := rank[theirs.DefaultAction]; !ok {
		return nil, fmt.Errorf("their seccomp default action %q is not known", theirs.DefaultAction)
	}

	out := &specs.LinuxSeccomp{
		DefaultAction:    ours.DefaultAction,
		DefaultErrnoRet:  ours.DefaultErrnoRet,
		Architectures:    ours.Architectures,
		ListenerPath:     ours.ListenerPath,
		ListenerMetadata: ours.ListenerMetadata,
		Flags:            unionFlags(ours.Flags, theirs.Flags),
	}
	ourDef := action{ours.DefaultAction, ours.DefaultErrnoRet}
	theirDef := action{theirs.DefaultAction, theirs.DefaultErrnoRet}
	if stricter(theirDef, ourDef) {
		out.DefaultAction, out.DefaultErrnoRet = theirDef.act, theirDef.errno
	}
	O, T := byName(ours.Syscalls), byName(theirs.Syscalls)
	newest := newestNamed(theirs.Syscalls)
	index := map[string]int{}
	for _, e := range syscalls.All() {
		o, ok := O[e.Name]
		if !ok {
			o = []rule{{action: ourDef}}
		}
		t, ok := T[e.Name]
		switch {
		case ok:
		case newest >= 0 && e.Nr > newest && !permissive(theirDef):
			// Their profile predates this call: runc answers it with an
			// ENOSYS stub (or their default is ENOSYS already);
			// libcontainer's init needs a few of them.
			t = []rule{{action: enosysStub}}
			if _, ok := initAfterFilter[e.Name]; ok {
				t = []rule{{action: action{act: specs.ActAllow}}}
			}
		default:
			t = []rule{{action: theirDef}}
		}
		for _, r := range mergeCall(normalize(o), normalize(t)) {
			addRule(out, index, specs.LinuxSyscall{Names: []string{e.Name}, Action: r.act, ErrnoRet: r.errno, Args: r.args})
		}
	}
	return out, nil
}

// initAfterFilter are the calls libcontainer's init (runc v1.3.7,
// standard_init_linux.go) makes between loading the container's filter
// and exec'ing its process, that are newer than some profiles in use and
// that it cannot do without: with the ENOSYS runc's stub would give them,
// no container under such a profile starts. Merge lets our table decide
// them, even when their profile is older than they are. Keep it short:
// test/policy's TestMergeOlderProfile starts containers under a profile
// older than all of them (it fails without each entry), and the unit
// tests (TestMergeNewerCalls, FuzzMerge) that nothing else gets through.
//
//   - statx (332): re-opening the exec fifo (pathrs.Reopen) and closing
//     the fds the process must not inherit go through
//     /proc/thread-self/fd, and pathrs-lite (filepath-securejoin 0.5)
//     checks that path is not over-mounted by comparing
//     statx(STATX_MNT_ID) results. Whether statx can give a mount id is
//     probed once, before the filter is loaded, and cached; afterwards an
//     error is taken for an attack ("could not get mount id"), and start
//     fails. The profile of the OCI runtime-tools validation suite
//     predates statx.
//
// Not needed, though the init makes them after the filter too: openat2,
// close_range, faccessat2 (exec.LookPath), fsopen/fsmount/open_tree and
// the rest of the new mount API. Each is re-probed or falls back on any
// error, ENOSYS included.
var initAfterFilter = map[string]string{
	"statx": "libcontainer's init checks /proc/thread-self/fd for over-mounts with statx(STATX_MNT_ID) after the filter is loaded",
}

// enosysStub is what runc answers for a call newer than a profile.
var enosysStub = action{specs.ActErrno, func() *uint { e := uint(unix.ENOSYS); return &e }()}

// permissive reports whether a default action is one runc puts no ENOSYS
// stub in front of (patchbpf.generatePatch): ALLOW, LOG and TRACE (whose
// tracer should handle new calls). runc skips the stub for a default of
// ERRNO(ENOSYS) too, which answers the same.
func permissive(def action) bool {
	switch def.act {
	case specs.ActAllow, specs.ActLog, specs.ActTrace:
		return true
	}
	return false
}

// action is a seccomp action with its errno.
type action struct {
	act   specs.LinuxSeccompAction
	errno *uint
}

func (a action) String() string {
	if a.errno != nil {
		return fmt.Sprintf("%s(%d)", a.act, *a.errno)
	}
	return string(a.act)
}

func (a action) same(b action) bool {
	if a.act != b.act {
		return false
	}
	if a.errno == nil || b.errno == nil {
		return a.errno == b.errno
	}
	return *a.errno == *b.errno
}

// rank orders actions by strictness; denies are 3 and up.
var rank = map[specs.LinuxSeccompAction]int{
	specs.ActAllow: 0, specs.ActLog: 0,
	specs.ActNotify: 1,
	specs.ActTrace:  3, specs.ActErrno: 3,
	specs.ActTrap: 4,
	specs.ActKill: 5, specs.ActKillThread: 5,
	specs.ActKillProcess: 6,
}

const denyRank = 3

// stricter reports whether a is strictly stricter than b. Unknown actions
// are treated as the strictest.
func stricter(a, b action) bool {
	ra, ok := rank[a.act]
	if !ok {
		ra = 7
	}
	rb, ok := rank[b.act]
	if !ok {
		rb = 7
	}
	return ra > rb
}

func isDeny(a action) bool {
	r, ok := rank[a.act]
	return !ok || r >= denyRank
}

// rule is one syscall's rule: an action under ANDed conditions.
type rule struct {
	action
	args []specs.LinuxSeccompArg
}

func byName(scs []specs.LinuxSyscall) map[string][]rule {
	m := map[string][]rule{}
	for _, sc := range scs {
		for _, n := range sc.Names {
			m[n] = append(m[n], rule{action: action{sc.Action, sc.ErrnoRet}, args: sc.Args})
		}
	}
	return m
}

// normalize reads rules as runc and libseccomp apply them: a rule with two
// conditions on one argument is split into one rule per condition, and an
// unconditional rule overrides the conditional ones (if there are several,
// the strictest is kept).
func normalize(rs []rule) []rule {
	var out []rule
	var uncond *rule
	for _, r := range rs {
		if len(r.args) == 0 {
			if uncond == nil || stricter(r.action, uncond.action) {
				r := r
				uncond = &r
			}
			continue
		}
		seen, dup := map[uint]bool{}, false
		for _, a := range r.args {
			dup = dup || seen[a.Index]
			seen[a.Index] = true
		}
		if !dup {
			out = append(out, r)
			continue
		}
		for _, a := range r.args {
			out = append(out, rule{action: r.action, args: []specs.LinuxSeccompArg{a}})
		}
	}
	if uncond != nil {
		return []rule{*uncond}
	}
	return out
}

// mergeCall merges one syscall's rules (steps 1 and 2 of Merge).
func mergeCall(O, T []rule) []rule {
	var out []rule
	// wholesale reports whether deny rule r is at least as strict as every
	// rule in other.
	wholesale := func(r rule, other []rule) bool {
		if !isDeny(r.action) {
			return false
		}
		for _, x := range other {
			if stricter(x.action, r.action) {
				return false
			}
		}
		return true
	}
	oWhole := make([]bool, len(O))
	for i, o := range O {
		if oWhole[i] = wholesale(o, T); oWhole[i] {
			out = append(out, o)
		}
	}
	tWhole := make([]bool, len(T))
	for j, t := range T {
		if tWhole[j] = wholesale(t, O); tWhole[j] {
			out = append(out, t)
		}
	}
	for i, o := range O {
		for j, t := range T {
			if oWhole[i] || tWhole[j] {
				continue
			}
			act := o.action
			if stricter(t.action, o.action) {
				act = t.action
			}
			for _, args := range and(o.args, t.args) {
				out = append(out, rule{action: act, args: args})
			}
		}
	}
	// An unconditional rule overrides conditional ones in libseccomp: keep
	// only the strictest unconditional rule if there is one.
	var uncond *rule
	for k := range out {
		if len(out[k].args) == 0 && (uncond == nil || stricter(out[k].action, uncond.action)) {
			uncond = &out[k]
		}
	}
	if uncond != nil {
		return []rule{*uncond}
	}
	return dedupe(out)
}

func dedupe(rs []rule) []rule {
	var out []rule
	seen := map[string]bool{}
	for _, r := range rs {
		k := key(specs.LinuxSyscall{Action: r.act, ErrnoRet: r.errno, Args: r.args})
		if !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	return out
}

// and returns the conjunction of two condition lists as alternatives
// (usually one; several when a value is cut out of a block; none when the
// conditions contradict or cannot be expressed).
func and(a, b []specs.LinuxSeccompArg) [][]specs.LinuxSeccompArg {
	alts := [][]specs.LinuxSeccompArg{append([]specs.LinuxSeccompArg(nil), a...)}
	for _, y := range b {
		var next [][]specs.LinuxSeccompArg
		for _, alt := range alts {
			i := -1
			for k, x := range alt {
				if x.Index == y.Index {
					i = k
				}
			}
			if i < 0 {
				next = append(next, append(append([]specs.LinuxSeccompArg(nil), alt...), y))
				continue
			}
			for _, c := range andOne(alt[i], y) {
				n := append([]specs.LinuxSeccompArg(nil), alt...)
				n[i] = c
				next = append(next, n)
			}
		}
		alts = next
	}
	return alts
}

// masked reads an equality or masked equality as (mask, datum).
func masked(a specs.LinuxSeccompArg) (mask, datum uint64, ok bool) {
	switch a.Op {
	case specs.OpEqualTo:
		return ^uint64(0), a.Value, true
	case specs.OpMaskedEqual:
		return a.Value, a.ValueTwo, true
	}
	return 0, 0, false
}

func maskedArg(index uint, mask, datum uint64) specs.LinuxSeccompArg {
	if mask == ^uint64(0) {
		return specs.LinuxSeccompArg{Index: index, Op: specs.OpEqualTo, Value: datum}
	}
	return specs.LinuxSeccompArg{Index: index, Op: specs.OpMaskedEqual, Value: mask, ValueTwo: datum}
}

// andOne ANDs two conditions on the same argument; the result's
// alternatives are disjoint.
func andOne(x, y specs.LinuxSeccompArg) []specs.LinuxSeccompArg {
	if x == y {
		return []specs.LinuxSeccompArg{x}
	}
	mx, dx, okx := masked(x)
	my, dy, oky := masked(y)
	switch {
	case okx && oky:
		if dx&^mx != 0 || dy&^my != 0 || dx&my != dy&mx {
			return nil // a condition that never holds, or a contradiction
		}
		return []specs.LinuxSeccompArg{maskedArg(x.Index, mx|my, dx|dy)}
	case okx && y.Op == specs.OpNotEqual:
		return cutOut(x.Index, mx, dx, y.Value)
	case oky && x.Op == specs.OpNotEqual:
		return cutOut(x.Index, my, dy, x.Value)
	}
	return nil
}

// cutOut returns the block {v : v&mask == datum} without the value c, as
// disjoint masked equalities. If mask looks only at the low 32 bits (an int
// argument), c is compared in the low 32 bits too, which also removes c
// with any upper half: stricter than SCMP_CMP_NE, never more permissive.
func cutOut(index uint, mask, datum, c uint64) []specs.LinuxSeccompArg {
	width := ^uint64(0)
	if mask>>32 == 0 {
		width = 0xffffffff
		c &= width
	}
	if c&mask != datum {
		return []specs.LinuxSeccompArg{maskedArg(index, mask, datum)}
	}
	var out []specs.LinuxSeccompArg
	m, d := mask, datum
	for b := uint64(1) << 63; b != 0; b >>= 1 {
		if width&b == 0 || mask&b != 0 {
			continue
		}
		// values that agree with c on the free bits above b and differ at b
		out = append(out, maskedArg(index, m|b, d|(^c&b)))
		m, d = m|b, d|(c&b)
	}
	return out
}

func unionFlags(a, b []specs.LinuxSeccompFlag) []specs.LinuxSeccompFlag {
	if a == nil && b == nil {
		return nil
	}
	out := append([]specs.LinuxSeccompFlag(nil), a...)
	for _, f := range b {
		found := false
		for _, g := range out {
			found = found || f == g
		}
		if !found {
			out = append(out, f)
		}
	}
	return out
}

// newestNamed is the highest syscall number (on this architecture) that a
// seccomp section names; -1 if it names none our table knows.
func newestNamed(scs []specs.LinuxSyscall) int {
	newest := -1
	for _, sc := range scs {
		for _, name := range sc.Names {
			if e, ok := syscalls.ByName(name); ok && e.Nr > newest {
				newest = e.Nr
			}
		}
	}
	return newest
}
