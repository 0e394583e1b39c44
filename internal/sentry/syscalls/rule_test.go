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
// columns returns an entry's rules under the built-in profiles, with and
// without the capability its capability-dependent rule names.
func columns(e *Entry) map[string]Rule {
	m := map[string]Rule{"default": e.col(0), "strict": e.col(1)}
	if cr, ok := e.CapRuleOf(); ok {
		m["default+"+CapName(cr.Cap)], m["strict+"+CapName(cr.Cap)] = cr.Default, cr.Strict
	}
	return m
}

func TestCasesDisjoint(t *testing.T) {
	for _, e := range table {
		for prof, r := range columns(&e) {
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
	eprotonosupport := Outcome{Tier: Deny, Errno: unix.EPROTONOSUPPORT}
	netAdmin, sysAdmin, sysNice := MustCaps("CAP_NET_ADMIN"), MustCaps("CAP_SYS_ADMIN"), MustCaps("CAP_SYS_NICE")
	const garbage = 0xffff_fff0_0000_0000
	for _, tc := range []struct {
		name string
		args [6]uint64
		want Outcome
		caps Caps
	}{
		{"clone", [6]uint64{unix.CLONE_VM | unix.CLONE_THREAD | unix.CLONE_SIGHAND | unix.CLONE_FS | unix.CLONE_FILES}, ok, 0},
		{"clone", [6]uint64{uint64(unix.SIGCHLD)}, ok, 0},
		{"clone", [6]uint64{0x80 | uint64(unix.SIGCHLD)}, ok, 0}, // exit signal bits, not CLONE_NEWTIME
		{"clone", [6]uint64{unix.CLONE_NEWUSER | uint64(unix.SIGCHLD)}, eperm, 0},
		{"clone", [6]uint64{unix.CLONE_NEWNET}, eperm, 0},
		{"clone", [6]uint64{unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWIPC}, eperm, 0},
		{"clone", [6]uint64{unix.CLONE_NEWCGROUP | garbage}, eperm, 0},
		{"unshare", [6]uint64{unix.CLONE_FS | unix.CLONE_FILES}, ok, 0},
		{"unshare", [6]uint64{unix.CLONE_NEWTIME}, eperm, 0},
		{"unshare", [6]uint64{unix.CLONE_NEWUTS}, eperm, 0},
		{"socket", [6]uint64{unix.AF_INET, unix.SOCK_STREAM | unix.SOCK_CLOEXEC}, ok, 0},
		{"socket", [6]uint64{unix.AF_INET6, unix.SOCK_DGRAM}, ok, 0},
		{"socket", [6]uint64{unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP}, ok, 0}, // unprivileged ping
		{"socket", [6]uint64{unix.AF_INET6, unix.SOCK_SEQPACKET | unix.SOCK_NONBLOCK, unix.IPPROTO_SCTP}, esocktnosupport, 0},
		{"socket", [6]uint64{unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_SCTP}, eprotonosupport, 0},
		{"socket", [6]uint64{unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_MPTCP}, ok, 0},
		{"socket", [6]uint64{unix.AF_INET6, unix.SOCK_STREAM, unix.IPPROTO_TCP | garbage}, ok, 0},
		{"socket", [6]uint64{unix.AF_INET6, unix.SOCK_DGRAM, unix.IPPROTO_ICMPV6}, ok, 0},
		{"socket", [6]uint64{unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_UDPLITE}, ok, 0}, // CPython's test_socket
		{"socket", [6]uint64{unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_L2TP}, eprotonosupport, 0},
		{"socket", [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_SOCK_DIAG}, ok, 0},
		{"socket", [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_AUDIT}, ok, 0},
		{"socket", [6]uint64{unix.AF_NETLINK, unix.SOCK_DGRAM, unix.NETLINK_KOBJECT_UEVENT}, ok, 0},
		{"socket", [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_NETFILTER}, eperm, 0},
		{"socket", [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_XFRM | garbage}, eperm, 0},
		{"socket", [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_GENERIC}, eperm, 0},
		{"socket", [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_NETFILTER}, ok, netAdmin},
		{"socket", [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_XFRM}, ok, netAdmin},
		{"socket", [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_GENERIC}, ok, netAdmin},
		{"socket", [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_CRYPTO}, eprotonosupport, netAdmin},
		{"socket", [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_USERSOCK}, eprotonosupport, 0},
		{"socket", [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW, 0xffffffff}, eprotonosupport, 0},
		{"socket", [6]uint64{unix.AF_VSOCK, unix.SOCK_STREAM}, eafnosupport, netAdmin},
		{"socket", [6]uint64{unix.AF_PACKET, unix.SOCK_RAW}, eafnosupport, netAdmin | sysAdmin},
		{"socketpair", [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_NETFILTER}, eperm, 0},
		{"pipe2", [6]uint64{0, unix.O_CLOEXEC | unix.O_NONBLOCK}, ok, 0},
		{"pipe2", [6]uint64{0, unix.O_DIRECT}, ok, 0},
		{"pipe2", [6]uint64{0, unix.O_EXCL}, eperm, 0}, // O_NOTIFICATION_PIPE
		{"pipe2", [6]uint64{0, unix.O_EXCL | unix.O_CLOEXEC | garbage}, eperm, netAdmin | sysAdmin | sysNice},
		{"setsockopt", [6]uint64{3, unix.SOL_TCP, unix.TCP_NODELAY}, ok, 0},
		{"setsockopt", [6]uint64{3, unix.SOL_SOCKET, unix.TCP_ULP}, ok, 0},
		{"setsockopt", [6]uint64{3, unix.SOL_TCP, unix.TCP_ULP}, eperm, 0},
		{"setsockopt", [6]uint64{3, unix.SOL_TCP | garbage, unix.TCP_ULP | garbage}, eperm, netAdmin | sysAdmin},
		{"ioctl", [6]uint64{0, unix.TIOCSETD}, eperm, 0},
		{"ioctl", [6]uint64{0, unix.TIOCCONS}, eperm, sysAdmin},
		{"ioctl", [6]uint64{0, unix.TIOCGETD}, ok, 0},
		{"mbind", [6]uint64{}, eperm, 0},
		{"mbind", [6]uint64{}, eperm, netAdmin | sysAdmin},
		{"mbind", [6]uint64{}, ok, sysNice},
		{"set_mempolicy", [6]uint64{}, eperm, 0},
		{"set_mempolicy", [6]uint64{}, ok, sysNice},
		{"get_mempolicy", [6]uint64{}, eperm, 0},
		{"set_mempolicy_home_node", [6]uint64{}, ok, sysNice},
		{"migrate_pages", [6]uint64{}, eperm, sysNice},
		{"move_pages", [6]uint64{}, eperm, sysNice},
		{"socket", [6]uint64{unix.AF_INET | garbage, unix.SOCK_STREAM | garbage}, ok, 0},
		{"socket", [6]uint64{unix.AF_UNIX, unix.SOCK_SEQPACKET | unix.SOCK_NONBLOCK}, ok, 0},
		{"socket", [6]uint64{unix.AF_UNIX, unix.SOCK_DGRAM}, ok, 0},
		{"socket", [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW | unix.SOCK_CLOEXEC}, ok, 0},
		{"socket", [6]uint64{unix.AF_NETLINK, unix.SOCK_DGRAM, unix.NETLINK_ROUTE}, ok, 0},
		{"socket", [6]uint64{unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP}, eperm, 0},
		{"socket", [6]uint64{unix.AF_INET6, unix.SOCK_RAW | unix.SOCK_CLOEXEC | garbage}, eperm, 0},
		{"socket", [6]uint64{unix.AF_INET | garbage, unix.SOCK_RAW | garbage}, eperm, 0},
		{"socket", [6]uint64{unix.AF_INET, unix.SOCK_PACKET, 0x300}, esocktnosupport, 0}, // the kernel makes it AF_PACKET
		{"socket", [6]uint64{unix.AF_INET6, unix.SOCK_PACKET | unix.SOCK_CLOEXEC}, esocktnosupport, 0},
		{"socket", [6]uint64{unix.AF_INET | garbage, unix.SOCK_PACKET | garbage}, esocktnosupport, 0},
		{"socket", [6]uint64{unix.AF_INET, unix.SOCK_DCCP}, esocktnosupport, 0},
		{"socket", [6]uint64{unix.AF_INET, unix.SOCK_RDM}, esocktnosupport, 0},
		{"socket", [6]uint64{unix.AF_INET, 0}, esocktnosupport, 0},
		{"socket", [6]uint64{unix.AF_INET6, 0xf}, esocktnosupport, 0},
		{"socket", [6]uint64{unix.AF_PACKET, unix.SOCK_DGRAM}, eafnosupport, 0},
		{"socket", [6]uint64{unix.AF_PACKET | garbage, unix.SOCK_RAW}, eafnosupport, 0},
		{"socket", [6]uint64{unix.AF_VSOCK, unix.SOCK_STREAM}, eafnosupport, 0},
		{"socket", [6]uint64{unix.AF_ALG, unix.SOCK_SEQPACKET}, eafnosupport, 0},
		{"socket", [6]uint64{unix.AF_KEY, unix.SOCK_RAW}, eafnosupport, 0},
		{"socket", [6]uint64{unix.AF_TIPC, unix.SOCK_RDM}, eafnosupport, 0},
		{"socket", [6]uint64{unix.AF_BLUETOOTH, unix.SOCK_STREAM}, eafnosupport, 0},
		{"socket", [6]uint64{unix.AF_XDP, unix.SOCK_RAW}, eafnosupport, 0},
		{"socket", [6]uint64{unix.AF_UNSPEC, unix.SOCK_STREAM}, eafnosupport, 0},
		{"socket", [6]uint64{64, unix.SOCK_STREAM}, eafnosupport, 0},
		{"socket", [6]uint64{0xffffffff, unix.SOCK_STREAM}, eafnosupport, 0},
		{"socketpair", [6]uint64{unix.AF_UNIX, unix.SOCK_STREAM | unix.SOCK_CLOEXEC}, ok, 0},
		{"socketpair", [6]uint64{unix.AF_PACKET, unix.SOCK_RAW}, eafnosupport, 0},
		{"socketpair", [6]uint64{unix.AF_TIPC, unix.SOCK_STREAM}, eafnosupport, 0},
		{"socketpair", [6]uint64{unix.AF_INET, unix.SOCK_PACKET}, esocktnosupport, 0},
		{"seccomp", [6]uint64{1, 0}, ok, 0},
		{"seccomp", [6]uint64{1, unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_LOG}, ok, 0},
		{"seccomp", [6]uint64{0, 0}, ok, 0},
		{"seccomp", [6]uint64{1, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER}, eperm, 0},
		{"seccomp", [6]uint64{1, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH | garbage}, eperm, 0},
		{"seccomp", [6]uint64{2, 0xffffffff}, eperm, 0},
		{"personality", [6]uint64{0xffffffff}, ok, 0},
		{"personality", [6]uint64{0x8}, ok, 0},
		{"personality", [6]uint64{0x0}, ok, 0},
		{"personality", [6]uint64{0x0040000}, eperm, 0},
		{"personality", [6]uint64{0x0400000}, eperm, 0},
		{"personality", [6]uint64{0xfffffffe}, eperm, 0},
		{"personality", [6]uint64{0x0040000 | garbage}, eperm, 0},
		{"ioctl", [6]uint64{0, unix.TCGETS}, ok, 0},
		{"ioctl", [6]uint64{3, 0x541b}, ok, 0},
		{"ioctl", [6]uint64{0, unix.TIOCSTI}, eperm, 0},
		{"ioctl", [6]uint64{0, unix.TIOCSTI | garbage}, eperm, 0},
		{"ioctl", [6]uint64{0, unix.TIOCLINUX}, eperm, 0},
		{"ioctl", [6]uint64{0, 0x5413}, ok, 0},
	} {
		e, found := ByName(tc.name)
		if !found {
			t.Fatalf("no entry %s", tc.name)
		}
		if got := e.DefaultFor(tc.caps).Eval(tc.args); got != tc.want {
			t.Errorf("%s(%#x, %#x, %#x) with %v: %v, want %v", tc.name, tc.args[0], tc.args[1], tc.args[2], tc.caps.Names(), got, tc.want)
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
		if o := e.col(1).Eval(with); o.Tier != Deny || o.Errno != unix.EPERM {
			t.Errorf("strict %s with MSG_FASTOPEN: %v, want deny EPERM", tc.name, o)
		}
		if o := e.col(1).Eval(without); o.Tier != Pass {
			t.Errorf("strict %s without MSG_FASTOPEN: %v, want pass", tc.name, o)
		}
		if o := e.col(0).Eval(with); o.Tier != Pass {
			t.Errorf("default %s with MSG_FASTOPEN: %v, want pass", tc.name, o)
		}
	}
}

// TestSocketAllowlist: socket and socketpair, under default and strict,
// with and without CAP_NET_ADMIN, let through exactly the listed
// families, types and protocols; everything else gets an explicit errno
// (never the filter's default ENOSYS), whatever the upper halves and the
// type's flag bits hold.
func TestSocketAllowlist(t *testing.T) {
	families := map[uint64]bool{unix.AF_UNIX: true, unix.AF_INET: true, unix.AF_INET6: true, unix.AF_NETLINK: true}
	ipProtos := map[uint64]map[uint64]bool{
		unix.SOCK_STREAM: {0: true, unix.IPPROTO_TCP: true, unix.IPPROTO_MPTCP: true},
		unix.SOCK_DGRAM:  {0: true, unix.IPPROTO_UDP: true, unix.IPPROTO_UDPLITE: true, unix.IPPROTO_ICMP: true, unix.IPPROTO_ICMPV6: true},
	}
	nlOpen := map[uint64]bool{unix.NETLINK_ROUTE: true, unix.NETLINK_SOCK_DIAG: true, unix.NETLINK_AUDIT: true, unix.NETLINK_KOBJECT_UEVENT: true}
	nlAdmin := map[uint64]bool{unix.NETLINK_XFRM: true, unix.NETLINK_NETFILTER: true, unix.NETLINK_GENERIC: true}
	var fams []uint64
	for f := uint64(0); f < 300; f++ {
		fams = append(fams, f)
	}
	fams = append(fams, 0x7fffffff, 0x80000000|unix.AF_INET, 0xffffffff)
	var protos []uint64
	for p := uint64(0); p < 300; p++ {
		protos = append(protos, p)
	}
	protos = append(protos, 0x10006, 0x7fffffff, 0xffffffff)
	for _, name := range []string{"socket", "socketpair"} {
		e, _ := ByName(name)
		for _, caps := range []Caps{0, MustCaps("CAP_NET_ADMIN"), MustCaps("CAP_SYS_ADMIN", "CAP_NET_RAW")} {
			for prof, r := range map[string]Rule{"default": e.DefaultFor(caps), "strict": e.StrictFor(caps)} {
				for _, f := range fams {
					for ty := uint64(0); ty < 16; ty++ {
						for _, proto := range protos {
							if f != unix.AF_INET && f != unix.AF_NETLINK && proto > 2 && proto != 0xffffffff {
								continue // the protocol matters in inet and netlink only; keep the loop small
							}
							hi := uint64(0xdead_0000_0000_0000) * (proto & 1)
							args := [6]uint64{f | hi, ty | unix.SOCK_CLOEXEC | unix.SOCK_NONBLOCK | hi, proto | hi}
							o := r.Eval(args)
							ip := f == unix.AF_INET || f == unix.AF_INET6
							var want unix.Errno
							switch {
							case !families[f]:
								want = unix.EAFNOSUPPORT
							case ip && ty == unix.SOCK_RAW:
								want = unix.EPERM
							case ip && ipProtos[ty] == nil:
								want = unix.ESOCKTNOSUPPORT
							case ip && !ipProtos[ty][proto]:
								want = unix.EPROTONOSUPPORT
							case f == unix.AF_NETLINK && nlAdmin[proto] && !caps.Has(unix.CAP_NET_ADMIN):
								want = unix.EPERM
							case f == unix.AF_NETLINK && !nlOpen[proto] && !nlAdmin[proto]:
								want = unix.EPROTONOSUPPORT
							}
							if want == 0 && o.Tier == Deny || want != 0 && (o.Tier != Deny || o.Errno != want) {
								t.Fatalf("%s/%s %v (%#x, %#x, %#x): %v, want %v", name, prof, caps.Names(), args[0], args[1], args[2], o, unix.ErrnoName(want))
							}
						}
					}
				}
			}
		}
	}
}

// TestStrictPrctlAllowlist: strict passes the listed prctl options and
// refuses every other value with EPERM, whatever the upper half holds;
// default passes them all.
func TestStrictPrctlAllowlist(t *testing.T) {
	e, _ := ByName("prctl")
	allowed := map[uint64]bool{}
	for _, o := range prctlOptions {
		allowed[o] = true
	}
	vals := append([]uint64{unix.PR_SET_MM, unix.PR_SET_IO_FLUSHER, unix.PR_SET_MEMORY_MERGE, unix.PR_SCHED_CORE,
		unix.PR_SET_SYSCALL_USER_DISPATCH, 0, 0x7fffffff, 0xffffffff}, prctlOptions...)
	for v := uint64(0); v < 100; v++ {
		vals = append(vals, v)
	}
	for _, v := range vals {
		for _, hi := range []uint64{0, 0xdead_0000_0000_0000} {
			o := e.col(1).Eval([6]uint64{v | hi})
			if allowed[v] && o.Tier != Pass || !allowed[v] && (o.Tier != Deny || o.Errno != unix.EPERM) {
				t.Errorf("strict prctl(%#x): %v, allowed=%v", v|hi, o, allowed[v])
			}
			if d := e.col(0).Eval([6]uint64{v | hi}); d.Tier != Pass {
				t.Errorf("default prctl(%#x): %v, want pass", v|hi, d)
			}
		}
	}
}
