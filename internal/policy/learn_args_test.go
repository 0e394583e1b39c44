package policy

import (
	"encoding/json"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

// TestLearnedRefusesUnusedFamily: a profile learned from a workload that
// made AF_INET TCP and AF_UNIX sockets allows exactly those (family, type,
// protocol) triples and refuses an AF_INET6 socket, an AF_INET UDP one
// and a TCP one with another protocol, with EPERM.
func TestLearnedRefusesUnusedFamily(t *testing.T) {
	base, _ := Builtin(DefaultName)
	r := NewRecorder(base, "c1")
	for _, a := range [][6]uint64{
		{unix.AF_INET, unix.SOCK_STREAM | unix.SOCK_CLOEXEC, unix.IPPROTO_TCP},
		{unix.AF_UNIX, unix.SOCK_STREAM, 0},
	} {
		r.Observe(os.Getpid(), unix.SYS_SOCKET, a)
	}
	data, _ := json.Marshal(r.Profile("learned-c1"))
	p, err := ParseFile("learned.json", data)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args [6]uint64
		pass bool
	}{
		{[6]uint64{unix.AF_INET, unix.SOCK_STREAM | unix.SOCK_CLOEXEC, unix.IPPROTO_TCP}, true},
		{[6]uint64{unix.AF_UNIX, unix.SOCK_STREAM, 0}, true},
		{[6]uint64{unix.AF_INET6, unix.SOCK_STREAM | unix.SOCK_CLOEXEC, unix.IPPROTO_TCP}, false},
		{[6]uint64{unix.AF_INET, unix.SOCK_DGRAM, 0}, false},
		{[6]uint64{unix.AF_INET, unix.SOCK_STREAM | unix.SOCK_CLOEXEC, 0}, false},
		{[6]uint64{unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_ROUTE}, false},
	} {
		_, o := p.Decide(unix.SYS_SOCKET, tc.args)
		if tc.pass && o.Tier == syscalls.Deny || !tc.pass && (o.Tier != syscalls.Deny || o.Errno != unix.EPERM) {
			t.Errorf("socket%v under the learned profile: %v, want pass=%v (else EPERM)", tc.args[:3], o, tc.pass)
		}
	}
}

// TestLearnWithCapabilities: learning in a container with CAP_NET_ADMIN
// records a netfilter netlink socket (its base allows it) and pins its
// protocol; the learned profile refuses the other netlink protocols the
// capability opens.
func TestLearnWithCapabilities(t *testing.T) {
	base, _ := Builtin(DefaultName)
	r := NewRecorder(base.ForCaps(syscalls.MustCaps("CAP_NET_ADMIN")), "c1")
	r.Observe(os.Getpid(), unix.SYS_SOCKET, [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_NETFILTER})
	data, _ := json.Marshal(r.Profile("learned-c1"))
	p, err := ParseFile("learned.json", data)
	if err != nil {
		t.Fatal(err)
	}
	if _, o := p.Decide(unix.SYS_SOCKET, [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_NETFILTER}); o.Tier == syscalls.Deny {
		t.Errorf("netfilter netlink, learned: %v", o)
	}
	for _, proto := range []uint64{unix.NETLINK_XFRM, unix.NETLINK_GENERIC, unix.NETLINK_ROUTE} {
		if _, o := p.Decide(unix.SYS_SOCKET, [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW, proto}); o.Tier != syscalls.Deny {
			t.Errorf("netlink protocol %d, never learned: %v, want deny", proto, o)
		}
	}
	// Without the capability the recorder's base refuses the call, so
	// nothing is learned for it.
	r = NewRecorder(base, "c1")
	r.Observe(os.Getpid(), unix.SYS_SOCKET, [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_NETFILTER})
	if n := r.Len(); n != 0 {
		t.Errorf("a call the base refuses was recorded (%d records)", n)
	}
}

// TestLearnDetailFitsArgumentFacts: every argument learn mode records the
// exact value of exists and is at least as wide as the bits recorded, so
// a learned profile passes the loader's argument checks.
func TestLearnDetailFitsArgumentFacts(t *testing.T) {
	for name, ds := range learnDetail {
		e, ok := syscalls.ByName(name)
		if !ok {
			t.Fatalf("learnDetail names %s, not in the table", name)
		}
		if _, known := e.Args(); !known {
			t.Errorf("%s: learn mode records its arguments, the table has no facts for them", name)
		}
		for _, d := range ds {
			a, ok := e.ArgAt(d.arg)
			if !ok || a.Memory() || d.mask&^a.Mask() != 0 {
				t.Errorf("%s arg %d (%v, ok %v): mask %#x does not fit", name, d.arg, a, ok, d.mask)
			}
		}
	}
}
