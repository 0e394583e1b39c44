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
	eafnosupport := Outcome{Tier: Deny, Errno: unix.EAFNOSUPPORT}
	esocktnosupport := Outcome{Tier: Deny, Errno: unix.ESOCKTNOSUPPORT}
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
		{"socket", [6]uint64{unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP}, ok}, // unprivileged ping
		{"socket", [6]uint64{unix.AF_INET6, unix.SOCK_SEQPACKET | unix.SOCK_NONBLOCK, unix.IPPROTO_SCTP}, ok},
		{"socket", [6]uint64{unix.AF_INET | garbage, unix.SOCK_STREAM | garbage}, ok},
		{"socket", [6]uint64{unix.AF_UNIX, unix.SOCK_SEQPACKET | unix.SOCK_NONBLOCK}, ok},
		{"socket", [6]uint64{unix.AF_UNIX, unix.SOCK_DGRAM}, ok},
		{"socket", [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW | unix.SOCK_CLOEXEC}, ok},
		{"socket", [6]uint64{unix.AF_NETLINK, unix.SOCK_DGRAM, unix.NETLINK_ROUTE}, ok},
		{"socket", [6]uint64{unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP}, eperm},
		{"socket", [6]uint64{unix.AF_INET6, unix.SOCK_RAW | unix.SOCK_CLOEXEC | garbage}, eperm},
		{"socket", [6]uint64{unix.AF_INET | garbage, unix.SOCK_RAW | garbage}, eperm},
		{"socket", [6]uint64{unix.AF_INET, unix.SOCK_PACKET, 0x300}, esocktnosupport}, // the kernel makes it AF_PACKET
		{"socket", [6]uint64{unix.AF_INET6, unix.SOCK_PACKET | unix.SOCK_CLOEXEC}, esocktnosupport},
		{"socket", [6]uint64{unix.AF_INET | garbage, unix.SOCK_PACKET | garbage}, esocktnosupport},
		{"socket", [6]uint64{unix.AF_INET, unix.SOCK_DCCP}, esocktnosupport},
		{"socket", [6]uint64{unix.AF_INET, unix.SOCK_RDM}, esocktnosupport},
		{"socket", [6]uint64{unix.AF_INET, 0}, esocktnosupport},
		{"socket", [6]uint64{unix.AF_INET6, 0xf}, esocktnosupport},
		{"socket", [6]uint64{unix.AF_PACKET, unix.SOCK_DGRAM}, eafnosupport},
		{"socket", [6]uint64{unix.AF_PACKET | garbage, unix.SOCK_RAW}, eafnosupport},
		{"socket", [6]uint64{unix.AF_VSOCK, unix.SOCK_STREAM}, eafnosupport},
		{"socket", [6]uint64{unix.AF_ALG, unix.SOCK_SEQPACKET}, eafnosupport},
		{"socket", [6]uint64{unix.AF_KEY, unix.SOCK_RAW}, eafnosupport},
		{"socket", [6]uint64{unix.AF_TIPC, unix.SOCK_RDM}, eafnosupport},
		{"socket", [6]uint64{unix.AF_BLUETOOTH, unix.SOCK_STREAM}, eafnosupport},
		{"socket", [6]uint64{unix.AF_XDP, unix.SOCK_RAW}, eafnosupport},
		{"socket", [6]uint64{unix.AF_UNSPEC, unix.SOCK_STREAM}, eafnosupport},
		{"socket", [6]uint64{64, unix.SOCK_STREAM}, eafnosupport},
		{"socket", [6]uint64{0xffffffff, unix.SOCK_STREAM}, eafnosupport},
		{"socketpair", [6]uint64{unix.AF_UNIX, unix.SOCK_STREAM | unix.SOCK_CLOEXEC}, ok},
		{"socketpair", [6]uint64{unix.AF_PACKET, unix.SOCK_RAW}, eafnosupport},
		{"socketpair", [6]uint64{unix.AF_TIPC, unix.SOCK_STREAM}, eafnosupport},
		{"socketpair", [6]uint64{unix.AF_INET, unix.SOCK_PACKET}, esocktnosupport},
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

// TestSocketAllowlist: socket and socketpair, under default and strict,
// let through exactly the listed families and, in the IP families, the
// listed types; everything else gets an explicit errno (never the filter's
// default ENOSYS), whatever the upper halves and the type's flag bits hold.
func TestSocketAllowlist(t *testing.T) {
	families := map[uint64]bool{unix.AF_UNIX: true, unix.AF_INET: true, unix.AF_INET6: true, unix.AF_NETLINK: true}
	ipTypes := map[uint64]bool{unix.SOCK_STREAM: true, unix.SOCK_DGRAM: true, unix.SOCK_SEQPACKET: true}
	var fams []uint64
	for f := uint64(0); f < 300; f++ {
		fams = append(fams, f)
	}
	fams = append(fams, 0x7fffffff, 0x80000000|unix.AF_INET, 0xffffffff)
	for _, name := range []string{"socket", "socketpair"} {
		e, _ := ByName(name)
		for prof, r := range map[string]Rule{"default": e.Default, "strict": e.Strict} {
			for _, f := range fams {
				for ty := uint64(0); ty < 16; ty++ {
					for _, hi := range []uint64{0, 0xdead_0000_0000_0000} {
						args := [6]uint64{f | hi, ty | unix.SOCK_CLOEXEC | unix.SOCK_NONBLOCK | hi}
						o := r.Eval(args)
						ip := f == unix.AF_INET || f == unix.AF_INET6
						var want unix.Errno
						switch {
						case !families[f]:
							want = unix.EAFNOSUPPORT
						case ip && ty == unix.SOCK_RAW:
							want = unix.EPERM
						case ip && !ipTypes[ty]:
							want = unix.ESOCKTNOSUPPORT
						}
						if want == 0 && o.Tier == Deny || want != 0 && (o.Tier != Deny || o.Errno != want) {
							t.Fatalf("%s/%s(%#x, %#x): %v, want %v", name, prof, args[0], args[1], o, unix.ErrnoName(want))
						}
					}
				}
			}
		}
	}
}
