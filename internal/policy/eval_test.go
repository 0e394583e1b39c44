package policy

import (
	"github.com/opencontainers/runtime-spec/specs-go"
)

var evalCache = map[*specs.LinuxSeccomp]map[string][]rule{}

// evalSpec decides a call the way the loaded filter does (runc's reading
// of the rules, libseccomp's precedence of an unconditional rule). When
// several rules with different actions match, it returns the most
// permissive of them (libseccomp gives no order), so a test that checks
// strictness checks the worst case.
func evalSpec(s *specs.LinuxSeccomp, name string, args [6]uint64) action {
	m, ok := evalCache[s]
	if !ok {
		m = map[string][]rule{}
		for n, rs := range byName(s.Syscalls) {
			m[n] = normalize(rs)
		}
		evalCache[s] = m
	}
	rs := m[name]
	var best *action
	for _, r := range rs {
		if argsHold(r.args, args) && (best == nil || stricter(*best, r.action)) {
			a := r.action
			best = &a
		}
	}
	if best == nil {
		return action{s.DefaultAction, s.DefaultErrnoRet}
	}
	return *best
}

// sampleArgs returns argument vectors around the values the rules of both
// filters mention for a syscall, with garbage upper halves, plus fixed ones.
func sampleArgs(name string, fs ...*specs.LinuxSeccomp) [][6]uint64 {
	vals := []uint64{0, 1, 2, 3, 8, 10, 17, 40, 0x80, 0x5412, 0x541c, 0x20000, 0x20008, 0xffffffff,
		0x10000000, 0x40000000, 0x7e020000, 0x11, 0x1_0000_0011, ^uint64(0)}
	for _, f := range fs {
		for _, r := range byName(f.Syscalls)[name] {
			for _, a := range r.args {
				for _, v := range []uint64{a.Value, a.ValueTwo, a.Value + 1, a.Value - 1, a.ValueTwo + 1, a.ValueTwo | a.Value} {
					vals = append(vals, v, v|0xdead_0000_0000_0000)
				}
			}
		}
	}
	var out [][6]uint64
	for _, a := range vals {
		for _, b := range []uint64{0, 1, 2, 3, 0x803, 0x80003, 0x5412, 0x1_0000_0003} {
			out = append(out, [6]uint64{a, b, b}, [6]uint64{b, a, a})
		}
	}
	return out
}
