package syscalls

import (
	"math/rand"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSpanExact checks span against plain membership, exhaustively over an
// 8-bit argument with garbage in the ignored bits.
func TestSpanExact(t *testing.T) {
	for _, tc := range []struct {
		lo, hi uint64
		except []uint64
	}{
		{0, 255, nil},
		{0, 255, []uint64{0}},
		{0, 255, []uint64{255}},
		{0, 255, []uint64{17, 3, 3, 200}},
		{5, 77, []uint64{5, 77, 40}},
		{0, 63, []uint64{2, 10, 17}},
	} {
		cs := span(0, 0xff, tc.lo, tc.hi, tc.except...)
		for v := uint64(0); v < 256; v++ {
			want := v >= tc.lo && v <= tc.hi
			for _, x := range tc.except {
				want = want && v != x
			}
			n := 0
			for _, c := range cs {
				if c.Holds([6]uint64{v | 0xabcd00}) {
					n++
				}
			}
			if (n == 1) != want || n > 1 {
				t.Errorf("span(%d..%d except %v): value %d matched %d blocks, want in=%v", tc.lo, tc.hi, tc.except, v, n, want)
			}
		}
	}
	// The full 32-bit space around the personality values stays small.
	if n := len(span(0, width32, 0, width32, 0, 8, 0x20000, 0x20008, 0xffffffff)); n > 90 {
		t.Errorf("personality complement has %d blocks", n)
	}
}

// samples returns argument vectors around every value the rule's
// conditions mention, with and without garbage in the upper 32 bits, plus
// random ones.
func samples(r Rule) [][6]uint64 {
	var vals []uint64
	for _, c := range r.Cases {
		for _, cd := range c.When {
			for _, v := range []uint64{cd.Value, cd.Value + 1, cd.Value - 1, cd.Value | cd.Mask, cd.Value &^ 1} {
				vals = append(vals, v, v|0xdead_0000_0000_0000, v&0xffffffff|0x1_0000_0000)
			}
		}
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 200; i++ {
		vals = append(vals, rng.Uint64(), uint64(rng.Uint32()), uint64(rng.Intn(64)))
	}
	var out [][6]uint64
	for _, a := range vals {
		for _, b := range []uint64{0, 1, 2, 3, 5, 0x80803, 0x803, 0xf, 0x1_0000_0003} {
			out = append(out, [6]uint64{a, b})
			out = append(out, [6]uint64{b, a})
		}
	}
	return out
}

// TestCasesDisjoint: a call never matches two cases with different
// outcomes (libseccomp gives no order between rules), and no case has two
// conditions on one argument (runc would OR them).
func TestCasesDisjoint(t *testing.T) {
	for _, e := range table {
		for prof, r := range map[string]Rule{"default": e.Default, "strict": e.Strict} {
			for _, c := range r.Cases {
				seen := map[uint]bool{}
				for _, cd := range c.When {
					if seen[cd.Index] {
						t.Errorf("%s/%s: two conditions on arg%d in one case", e.Name, prof, cd.Index)
					}
					seen[cd.Index] = true
				}
			}
			for _, a := range samples(r) {
				var first *Outcome
				for _, c := range r.Cases {
					if holdsAll(c.When, a) {
						o := Outcome{c.Tier, c.errno()}
						if first != nil && *first != o {
							t.Fatalf("%s/%s: args %#x match cases %v and %v", e.Name, prof, a[:2], *first, o)
						}
						first = &o
					}
				}
			}
		}
	}
}

func TestConditionalRules(t *testing.T) {
	ok := Outcome{Tier: Pass}
	eperm := Outcome{Tier: Deny, Errno: unix.EPERM}
	enosys := Outcome{Tier: Deny, Errno: unix.ENOSYS}
	const garbage = 0xffff_fff0_0000_0000
	for _, tc := range []struct {
		name string
		args [6]uint64
		want Outcome
	}{
		{"clone", [6]uint64{unix.CLONE_VM | unix.CLONE_THREAD | unix.CLONE_SIGHAND | unix.CLONE_FS | unix.CLONE_FILES}, ok},
		{"clone", [6]uint64{uint64(unix.SIGCHLD)}, ok},
		{"clone", [6]uint64{0x80 | uint64(unix.SIGCHLD)}, ok}, // exit signal bits, not CLONE_NEWTIME
		{"clone", [6]uint64{unix.CLONE_NEWUSER | uint64(unix.SIGCHLD)}, eperm},
		{"clone", [6]uint64{unix.CLONE_NEWNET}, eperm},
		{"clone", [6]uint64{unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWIPC}, eperm},
		{"clone", [6]uint64{unix.CLONE_NEWCGROUP | garbage}, eperm},
		{"unshare", [6]uint64{unix.CLONE_FS | unix.CLONE_FILES}, ok},
		{"unshare", [6]uint64{unix.CLONE_NEWTIME}, eperm},
		{"unshare", [6]uint64{unix.CLONE_NEWUTS}, eperm},
		{"socket", [6]uint64{unix.AF_INET, unix.SOCK_STREAM | unix.SOCK_CLOEXEC}, ok},
		{"socket", [6]uint64{unix.AF_INET6, unix.SOCK_DGRAM}, ok},
		{"socket", [6]uint64{unix.AF_UNIX, unix.SOCK_SEQPACKET | unix.SOCK_NONBLOCK}, ok},
		{"socket", [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW | unix.SOCK_CLOEXEC}, ok},
		{"socket", [6]uint64{unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP}, eperm},
		{"socket", [6]uint64{unix.AF_INET6, unix.SOCK_RAW | unix.SOCK_CLOEXEC | garbage}, eperm},
		{"socket", [6]uint64{unix.AF_PACKET, unix.SOCK_DGRAM}, eperm},
		{"socket", [6]uint64{unix.AF_PACKET | garbage, unix.SOCK_RAW}, eperm},
		{"socket", [6]uint64{unix.AF_INET | garbage, unix.SOCK_RAW | garbage}, eperm},
		{"socket", [6]uint64{64, unix.SOCK_STREAM}, enosys},
		{"seccomp", [6]uint64{1, 0}, ok},
		{"seccomp", [6]uint64{1, unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_LOG}, ok},
		{"seccomp", [6]uint64{0, 0}, ok},
		{"seccomp", [6]uint64{1, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER}, eperm},
		{"seccomp", [6]uint64{1, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH | garbage}, eperm},
		{"seccomp", [6]uint64{2, 0xffffffff}, eperm},
		{"personality", [6]uint64{0xffffffff}, ok},
		{"personality", [6]uint64{0x8}, ok},
		{"personality", [6]uint64{0x0}, ok},
		{"personality", [6]uint64{0x0040000}, eperm},
		{"personality", [6]uint64{0x0400000}, eperm},
		{"personality", [6]uint64{0xfffffffe}, eperm},
		{"personality", [6]uint64{0x0040000 | garbage}, eperm},
		{"ioctl", [6]uint64{0, unix.TCGETS}, ok},
		{"ioctl", [6]uint64{3, 0x541b}, ok},
		{"ioctl", [6]uint64{0, unix.TIOCSTI}, eperm},
		{"ioctl", [6]uint64{0, unix.TIOCSTI | garbage}, eperm},
		{"ioctl", [6]uint64{0, unix.TIOCLINUX}, eperm},
		{"ioctl", [6]uint64{0, 0x5413}, ok},
	} {
		e, found := ByName(tc.name)
		if !found {
			t.Fatalf("no entry %s", tc.name)
		}
		if got := e.Default.Eval(tc.args); got != tc.want {
			t.Errorf("%s(%#x, %#x): %v, want %v", tc.name, tc.args[0], tc.args[1], got, tc.want)
		}
	}
}

// TestStrictRefusesFastOpen: under strict, the send calls cannot open a TCP
// connection (MSG_FASTOPEN) around connect's proxy; without the flag, and
// under default, they pass.
func TestStrictRefusesFastOpen(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags uint64
		idx   int
	}{{"sendto", unix.MSG_FASTOPEN, 3}, {"sendmmsg", unix.MSG_FASTOPEN | unix.MSG_DONTWAIT, 3}, {"sendmsg", unix.MSG_FASTOPEN, 2}} {
		e, ok := ByName(tc.name)
		if !ok {
			t.Fatalf("%s: not in the table", tc.name)
		}
		var with, without [6]uint64
		with[tc.idx] = tc.flags | 0xffffffff00000000
		without[tc.idx] = unix.MSG_DONTWAIT | unix.MSG_NOSIGNAL
		if o := e.Strict.Eval(with); o.Tier != Deny || o.Errno != unix.EPERM {
			t.Errorf("strict %s with MSG_FASTOPEN: %v, want deny EPERM", tc.name, o)
		}
		if o := e.Strict.Eval(without); o.Tier != Pass {
			t.Errorf("strict %s without MSG_FASTOPEN: %v, want pass", tc.name, o)
		}
		if o := e.Default.Eval(with); o.Tier != Pass {
			t.Errorf("default %s with MSG_FASTOPEN: %v, want pass", tc.name, o)
		}
	}
}
