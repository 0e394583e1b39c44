//go:build seccomp && cgo

package policy

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	dockerseccomp "github.com/moby/profiles/seccomp"
	"github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

// dockerDefaultCaps is the capability set Docker (and containerd's CRI)
// gives a container by default.
var dockerDefaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// looserThanDocker are the calls where `default` lets the kernel run a
// call Docker's default profile (github.com/moby/profiles/seccomp v0.3.0)
// refuses, for some capability set and argument values, and why. The
// test fails on any other such call, and on an entry here that is no
// longer looser. docs/profiles.md ("Compared with Docker's default
// profile") lists the same.
var looserThanDocker = map[string]string{
	// Docker refuses unshare(2) whole without CAP_SYS_ADMIN; default
	// refuses its namespace flags (CLONE_NEW*) and lets the rest run:
	// CLONE_FILES, CLONE_FS and CLONE_SYSVSEM only give the caller a
	// private copy of its own file table, cwd/umask or SysV undo list
	// (Python's os.unshare, some servers' worker setup).
	"unshare": "without CLONE_NEW* flags: a private copy of the caller's own fd table, fs state or SysV undo list, no namespace",
	// Docker refuses them without CAP_SYS_ADMIN. Under default they are
	// notified, checked by the sentry on their values and continued:
	// syscage always gives a container its own UTS namespace, and the
	// kernel's own check (CAP_SYS_ADMIN over that namespace's user
	// namespace) still applies.
	"sethostname":   "check: the container's own, always private, UTS namespace; the kernel still checks CAP_SYS_ADMIN",
	"setdomainname": "check: as sethostname",
}

// filterNames reports whether the installed libseccomp can name a
// syscall: libcontainer leaves out the rules of a name it cannot, so the
// call gets the filter's default action (ENOSYS) whatever the rule says.
func filterNames(name string) bool {
	_, err := libseccomp.GetSyscallFromName(name)
	return err == nil
}

// verdict is a filter's decision in the terms of the comparison: does the
// kernel run the call with the workload's arguments?
type verdict int

const (
	refused  verdict = iota // an errno or a kill from the filter
	mediated                // the sentry answers (emulate) or performs a checked copy (proxy)
	reached                 // the kernel runs it: allowed, or checked and continued
)

func (v verdict) String() string { return [...]string{"refused", "mediated", "reached"}[v] }

// ourVerdict is the compiled filter's decision, with a notification
// resolved through the profile's Decide (the sentry decides with it).
func ourVerdict(p *Profile, s *specs.LinuxSeccomp, e *syscalls.Entry, args [6]uint64) verdict {
	if !filterNames(e.Name) {
		return refused
	}
	a := evalSpec(s, e.Name, args)
	switch a.act {
	case specs.ActAllow, specs.ActLog:
		return reached
	case specs.ActNotify:
		_, o := p.Decide(e.Nr, args)
		switch o.Tier {
		case syscalls.Check, syscalls.Pass:
			return reached
		case syscalls.Emulate, syscalls.Proxy:
			return mediated
		}
	}
	return refused
}

func dockerVerdict(s *specs.LinuxSeccomp, name string, args [6]uint64) verdict {
	if !filterNames(name) {
		return refused
	}
	switch evalSpec(s, name, args).act {
	case specs.ActAllow, specs.ActLog, specs.ActTrace, specs.ActNotify:
		return reached
	}
	return refused
}

// dockerKernelVerdict is Docker's decision on the call the kernel sees:
// for the arguments our rule reads as 32-bit ints (every condition on
// them masks within the low half), the kernel ignores the upper half, so
// garbage there makes the same call. Docker compares all 64 bits and
// refuses the garbage form of a call it allows; that is not a door
// Docker closes, so the call counts as reached if either form is.
func dockerKernelVerdict(s *specs.LinuxSeccomp, r syscalls.Rule, name string, args [6]uint64) verdict {
	if v := dockerVerdict(s, name, args); v == reached {
		return v
	}
	narrow := map[uint]bool{}
	for _, c := range r.Cases {
		for _, w := range c.When {
			if _, seen := narrow[w.Index]; !seen {
				narrow[w.Index] = true
			}
			narrow[w.Index] = narrow[w.Index] && w.Op == syscalls.OpMaskedEq && w.Mask <= 0xffffffff
		}
	}
	clean := args
	for i, n := range narrow {
		if n {
			clean[i] &= 0xffffffff
		}
	}
	return dockerVerdict(s, name, clean)
}

// TestNarrowerThanDocker compares `default`'s compiled filter with
// Docker's default profile, call by call over the argument values either
// filter's rules mention (and fixed ones, with garbage upper halves), for
// Docker's default capability set and for it plus CAP_SYS_ADMIN,
// CAP_NET_ADMIN or CAP_SYS_NICE. Where Docker refuses a call, `default`
// refuses it too, or answers it in the sentry, except for the listed
// exceptions. It also logs (and pins a few of) the calls Docker lets run
// that `default` refuses: the doors this profile closes beyond Docker.
func TestNarrowerThanDocker(t *testing.T) {
	base, _ := Builtin(DefaultName)
	looser := map[string]bool{}
	narrower := map[string]map[string]bool{}
	for _, extra := range []string{"", "CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_SYS_NICE"} {
		names := append([]string(nil), dockerDefaultCaps...)
		if extra != "" {
			names = append(names, extra)
		}
		set := "default caps"
		if extra != "" {
			set += " + " + extra
		}
		docker, err := dockerseccomp.GetDefaultProfile(&specs.Spec{Process: &specs.Process{
			Capabilities: &specs.LinuxCapabilities{Bounding: names, Effective: names, Permitted: names}}})
		if err != nil {
			t.Fatalf("Docker's default profile for %s: %v", set, err)
		}
		p := base.ForCaps(syscalls.MustCaps(names...))
		ours, err := ContainerFilter(p, nil, "/x.sock", false)
		if err != nil {
			t.Fatal(err)
		}
		narrower[set] = map[string]bool{}
		for _, e := range syscalls.All() {
			for _, args := range append(sampleArgs(e.Name, ours, docker), crossArgs(e.Name, ours, docker)...) {
				o, d := ourVerdict(p, ours, &e, args), dockerKernelVerdict(docker, p.Rule(&e), e.Name, args)
				switch {
				case o == reached && d == refused:
					if _, ok := looserThanDocker[e.Name]; !ok && !looser[e.Name] {
						t.Errorf("%s: %s(%#x, %#x, %#x) (and maybe more values): default lets the kernel run it, Docker refuses it", set, e.Name, args[0], args[1], args[2])
					}
					looser[e.Name] = true
				case o == refused && d == reached:
					narrower[set][e.Name] = true
				}
			}
		}
		t.Logf("%s: closed beyond Docker: %s", set, strings.Join(sortedKeys(narrower[set]), " "))
	}
	for n := range looserThanDocker {
		if !looser[n] {
			t.Errorf("%s is listed as looser than Docker but is not: drop it from looserThanDocker and docs/profiles.md", n)
		}
	}
	// The doors this issue closes, with Docker's default capabilities.
	for _, n := range []string{"socket", "socketpair", "pipe2", "setsockopt", "ioctl"} {
		if !narrower["default caps"][n] {
			t.Errorf("%s: no argument value that Docker lets run and default refuses", n)
		}
	}
}

// crossArgs returns argument vectors that combine, across arguments 0 to
// 2, the values the filters' rules compare each argument with (and the
// values next to them): sampleArgs puts one value in all of them, which
// misses a rule on a pair such as setsockopt's (level, option).
func crossArgs(name string, fs ...*specs.LinuxSeccomp) [][6]uint64 {
	var per [3][]uint64
	for _, f := range fs {
		for _, r := range byName(f.Syscalls)[name] {
			for _, a := range r.args {
				if a.Index > 2 {
					continue
				}
				v := a.Value
				if a.Op == specs.OpMaskedEqual {
					v = a.ValueTwo
				}
				for _, x := range []uint64{v, v + 1} {
					if len(per[a.Index]) < 64 && !slices.Contains(per[a.Index], x) {
						per[a.Index] = append(per[a.Index], x)
					}
				}
			}
		}
	}
	for i := range per {
		per[i] = append(per[i], 0)
	}
	var out [][6]uint64
	for _, a := range per[0] {
		for _, b := range per[1] {
			for _, c := range per[2] {
				out = append(out, [6]uint64{a, b, c})
			}
		}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestDockerComparisonSeesArguments: the comparison is not vacuous. For
// values on both sides of this profile's argument rules, the evaluation
// of both filters gives the decision each filter's rules say.
func TestDockerComparisonSeesArguments(t *testing.T) {
	base, _ := Builtin(DefaultName)
	for _, tc := range []struct {
		caps         []string
		name         string
		args         [6]uint64
		ours, docker verdict
	}{
		{nil, "socket", [6]uint64{16, 3, 12}, refused, reached},                       // NETLINK_NETFILTER
		{[]string{"CAP_NET_ADMIN"}, "socket", [6]uint64{16, 3, 12}, reached, reached}, // with the capability
		{nil, "socket", [6]uint64{40, 1, 0}, refused, refused},                        // AF_VSOCK
		{nil, "socket", [6]uint64{17, 3, 0x300}, refused, reached},                    // AF_PACKET
		{nil, "socket", [6]uint64{2, 1, 6}, reached, reached},                         // TCP
		{nil, "pipe2", [6]uint64{0, 0x80}, refused, reached},                          // O_NOTIFICATION_PIPE
		{nil, "setsockopt", [6]uint64{3, 6, 31}, refused, reached},                    // TCP_ULP
		{nil, "ioctl", [6]uint64{0, 0x5423}, refused, reached},                        // TIOCSETD
		{nil, "mbind", [6]uint64{}, refused, refused},                                 // no CAP_SYS_NICE
		{[]string{"CAP_SYS_NICE"}, "mbind", [6]uint64{}, reached, reached},            // with it
		{[]string{"CAP_SYS_ADMIN"}, "mount", [6]uint64{}, refused, reached},           // never, here
		{nil, "personality", [6]uint64{0x0400000}, refused, refused},                  // READ_IMPLIES_EXEC
		{nil, "clone", [6]uint64{0x10000000}, refused, refused},                       // CLONE_NEWUSER
		{[]string{"CAP_SYS_ADMIN"}, "clone", [6]uint64{0x10000000}, refused, reached}, // Docker opens it
		{nil, "read", [6]uint64{}, reached, reached},
	} {
		names := append(append([]string(nil), dockerDefaultCaps...), tc.caps...)
		docker, err := dockerseccomp.GetDefaultProfile(&specs.Spec{Process: &specs.Process{
			Capabilities: &specs.LinuxCapabilities{Bounding: names}}})
		if err != nil {
			t.Fatal(err)
		}
		p := base.ForCaps(syscalls.MustCaps(names...))
		ours, err := ContainerFilter(p, nil, "/x.sock", false)
		if err != nil {
			t.Fatal(err)
		}
		e, _ := syscalls.ByName(tc.name)
		at := fmt.Sprintf("%s%v with %v", tc.name, tc.args[:3], tc.caps)
		if got := ourVerdict(p, ours, e, tc.args); got != tc.ours {
			t.Errorf("%s: default %v, want %v", at, got, tc.ours)
		}
		if got := dockerVerdict(docker, tc.name, tc.args); got != tc.docker {
			t.Errorf("%s: Docker %v, want %v", at, got, tc.docker)
		}
	}
}
