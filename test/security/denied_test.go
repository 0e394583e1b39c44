package security

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/test/internal/sandboxtest"
)

// deniedCalls is what the default profile promises for every attempt
// testdata/attack.c makes: label → errno (from internal/sentry/syscalls'
// x86_64 table, as `syscage syscalls --profile default` prints it). Every
// one is denied in the filter (or, with auditing on, by the sentry) with
// this errno; the kernel never sees it.
var deniedCalls = map[string]unix.Errno{
	// namespaces: unshare and clone with CLONE_NEW*; clone3 always (its
	// flags are in memory) with ENOSYS so libc falls back to clone
	"unshare_newuser": unix.EPERM, "unshare_newns": unix.EPERM, "unshare_newnet": unix.EPERM,
	"clone_newuser": unix.EPERM, "clone_newpid": unix.EPERM,
	"clone3_newuser": unix.ENOSYS, "clone3_plain": unix.ENOSYS,
	"setns": unix.EPERM,
	// the mount family
	"mount": unix.EPERM, "umount2": unix.EPERM, "pivot_root": unix.EPERM,
	"fsopen": unix.EPERM, "fsconfig": unix.EPERM, "fsmount": unix.EPERM, "fspick": unix.EPERM,
	"open_tree_clone": unix.EPERM, "open_tree_plain": unix.EPERM, "move_mount": unix.EPERM,
	"mount_setattr": unix.EPERM,
	// kernel subsystems with a history of exploits
	"bpf": unix.EPERM, "perf_event_open": unix.EPERM, "userfaultfd": unix.EPERM,
	"io_uring_setup": unix.EPERM, "io_uring_enter": unix.EPERM, "io_uring_register": unix.EPERM,
	// keyrings (not namespaced)
	"keyctl_session": unix.EPERM, "keyctl_describe": unix.EPERM, "add_key": unix.EPERM, "request_key": unix.EPERM,
	// the host kernel and machine
	"kexec_load": unix.EPERM, "kexec_file_load": unix.EPERM,
	"init_module": unix.EPERM, "finit_module": unix.EPERM, "delete_module": unix.EPERM,
	"reboot": unix.EPERM, "swapon": unix.EPERM, "swapoff": unix.EPERM, "acct": unix.EPERM,
	"settimeofday": unix.EPERM, "clock_settime": unix.EPERM, "clock_adjtime": unix.EPERM,
	"adjtimex_set": unix.EPERM,
	"quotactl":     unix.EPERM, "quotactl_fd": unix.EPERM,
	"iopl": unix.EPERM, "ioperm": unix.EPERM,
	"personality_read_implies_exec": unix.EPERM, "personality_addr_no_randomize": unix.EPERM,
	// other processes
	"ptrace_traceme": unix.EPERM, "ptrace_attach": unix.EPERM,
	"process_vm_readv": unix.EPERM, "process_vm_writev": unix.EPERM,
	"pidfd_getfd": unix.EPERM, "kcmp": unix.EPERM,
	// file handles (the "shocker" escape)
	"open_by_handle_at": unix.EPERM, "name_to_handle_at": unix.EPERM,
	// the kernel log, file system watches, raw network, terminal injection
	"syslog_read_all": unix.EPERM, "syslog_size": unix.EPERM,
	"fanotify_init": unix.EPERM, "fanotify_mark": unix.EPERM,
	// sockets: an allowlist of families (AF_UNIX, AF_INET, AF_INET6,
	// AF_NETLINK; any other EAFNOSUPPORT, as on a kernel without it) and
	// of IP types (STREAM, DGRAM; RAW EPERM; any other, SEQPACKET and SOCK_PACKET
	// included, ESOCKTNOSUPPORT); socketpair follows the same rule
	"socket_packet_raw": unix.EAFNOSUPPORT, "socket_packet_dgram": unix.EAFNOSUPPORT,
	"socket_inet_packet": unix.ESOCKTNOSUPPORT, "socket_inet_packet_flags": unix.ESOCKTNOSUPPORT,
	"socket_inet6_packet": unix.ESOCKTNOSUPPORT,
	"socket_inet_raw":     unix.EPERM, "socket_inet6_raw": unix.EPERM,
	"socket_inet_dccp": unix.ESOCKTNOSUPPORT, "socket_inet_rdm": unix.ESOCKTNOSUPPORT,
	"socket_vsock": unix.EAFNOSUPPORT, "socket_alg": unix.EAFNOSUPPORT, "socket_key": unix.EAFNOSUPPORT,
	"socket_tipc": unix.EAFNOSUPPORT, "socket_rds": unix.EAFNOSUPPORT, "socket_bluetooth": unix.EAFNOSUPPORT,
	"socket_can": unix.EAFNOSUPPORT, "socket_xdp": unix.EAFNOSUPPORT, "socket_smc": unix.EAFNOSUPPORT,
	"socket_appletalk": unix.EAFNOSUPPORT, "socket_unspec": unix.EAFNOSUPPORT, "socket_family_64": unix.EAFNOSUPPORT,
	"socketpair_packet": unix.EAFNOSUPPORT, "socketpair_vsock": unix.EAFNOSUPPORT,
	"socketpair_inet_packet": unix.ESOCKTNOSUPPORT,
	"ioctl_tiocsti":          unix.EPERM, "ioctl_tioclinux": unix.EPERM,
}

// controlCalls are the same syscalls with values the profile lets pass;
// they must succeed, or the test would only show a blanket refusal.
var controlCalls = []string{
	"unshare_fs", "clone_plain", "personality_query",
	"socket_inet_stream", "socket_netlink_raw", "socket_netlink_dgram", "socket_inet_dgram",
	"socket_inet6_stream", "socket_unix_dgram", "socket_unix_seqpacket", "socketpair_unix", "ioctl_fionread",
	"adjtimex_read",
}

// attempt is one "R"/"C" line of testdata/attack.c.
type attempt struct {
	label, syscall string
	ret            int64
	errno          unix.Errno
}

// parseAttempts reads attack's output; it fails the test on a process
// killed by a signal ("K" lines) and on a missing DONE.
func parseAttempts(t *testing.T, out, kind string) map[string]attempt {
	t.Helper()
	if !strings.Contains(out, "\nDONE\n") && !strings.HasPrefix(out, "DONE\n") {
		t.Errorf("attack program did not finish (no DONE line); output:\n%s", out)
	}
	for _, k := range lines(out, "K ") {
		t.Errorf("an attempt's process was killed by a signal: %s", k)
	}
	got := map[string]attempt{}
	for _, l := range lines(out, kind+" ") {
		f := strings.Fields(l)
		if len(f) != 4 {
			t.Errorf("malformed line %q", l)
			continue
		}
		ret, err1 := strconv.ParseInt(f[2], 10, 64)
		e, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil {
			t.Errorf("malformed line %q", l)
			continue
		}
		got[f[0]] = attempt{label: f[0], syscall: f[1], ret: ret, errno: unix.Errno(e)}
	}
	return got
}

func errnoName(e unix.Errno) string {
	if e == 0 {
		return "success"
	}
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return "errno " + strconv.Itoa(int(e))
}

// kernelRuns, in privilegedCalls, means the sandbox lets the kernel
// answer: any result but the sandbox's EPERM.
const kernelRuns = unix.Errno(1 << 20)

// privilegedCalls are the answers a privileged container (one granted
// CAP_SYS_ADMIN) gets instead of deniedCalls' (policy.Privileged): mount
// and umount2 go on to the kernel in the container's own mount namespace
// (the attempts are harmless there: a tmpfs on /target, a detach of
// /proc/kcore, absent on some kernels), and the new mount API answers
// ENOSYS so mount(8) falls back to mount(2).
var privilegedCalls = map[string]unix.Errno{
	"mount": kernelRuns, "umount2": kernelRuns,
	"fsopen": unix.ENOSYS, "fsconfig": unix.ENOSYS, "fsmount": unix.ENOSYS, "fspick": unix.ENOSYS,
	"open_tree_clone": unix.ENOSYS, "open_tree_plain": unix.ENOSYS, "move_mount": unix.ENOSYS,
	"mount_setattr": unix.ENOSYS,
}

// checkDenied asserts every denied call failed with the profile's errno
// and every control succeeded.
func checkDenied(t *testing.T, out string) map[string]attempt {
	t.Helper()
	return checkDeniedWith(t, out, nil)
}

// checkDeniedWith is checkDenied with the answers in instead replacing
// deniedCalls' (kernelRuns: the kernel's answer, whatever it is, but not
// the sandbox's EPERM).
func checkDeniedWith(t *testing.T, out string, instead map[string]unix.Errno) map[string]attempt {
	t.Helper()
	got := parseAttempts(t, out, "R")
	labels := make([]string, 0, len(deniedCalls))
	for l := range deniedCalls {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	for _, l := range labels {
		want := deniedCalls[l]
		if w, ok := instead[l]; ok {
			want = w
		}
		a, ok := got[l]
		switch {
		case !ok:
			t.Errorf("%s: not attempted (no line in the output)", l)
		case want == kernelRuns:
			if a.ret < 0 && a.errno == unix.EPERM {
				t.Errorf("%s (%s): EPERM, want the kernel to run it (privileged, in its own mount namespace)", l, a.syscall)
			}
		case a.ret >= 0:
			t.Errorf("%s (%s): SUCCEEDED (returned %d), want %s", l, a.syscall, a.ret, errnoName(want))
		case a.errno != want:
			t.Errorf("%s (%s): failed with %s, want %s from the sandbox (another errno means the kernel ran the call)",
				l, a.syscall, errnoName(a.errno), errnoName(want))
		}
	}
	checkControls(t, out, controlCalls, "the profile passes these values")
	return got
}

// checkControls checks every control ("C" line) in labels was attempted
// and succeeded; why says why it must.
func checkControls(t *testing.T, out string, labels []string, why string) {
	t.Helper()
	ctl := parseAttempts(t, out, "C")
	for _, l := range labels {
		a, ok := ctl[l]
		switch {
		case !ok:
			t.Errorf("control %s: not attempted", l)
		case a.ret < 0:
			t.Errorf("control %s (%s): failed with %s, want success (%s)", l, a.syscall, errnoName(a.errno), why)
		}
	}
}

// TestDeniedCalls attempts every denied category from a default container
// and checks the errno of each.
func TestDeniedCalls(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	b := newBundle(t, withArgs("/t/attack"))
	res := rt.Container(b, nil)
	if res.Code != 0 {
		t.Fatalf("attack container: %s", res)
	}
	checkDenied(t, res.Stdout)
}

// TestDeniedCallsAudited runs the same attempts with the audit stream on,
// as each identity a workload has (host root, uid 1000, root in a user
// namespace): each denial must reach the sentry and be recorded as a deny
// event with the syscall's name and the same errno, which shows the
// refusal came from the sandbox and not from a missing capability.
func TestDeniedCallsAudited(t *testing.T) {
	for _, ident := range sandboxtest.Identities {
		t.Run(ident.Name, func(t *testing.T) {
			t.Parallel()
			deniedCallsAudited(t, ident.Opt)
		})
	}
}

func deniedCallsAudited(t *testing.T, opt specOpt) {
	rt := newRuntime(t)
	b := newBundle(t, withArgs("/t/attack"), opt)
	log := filepath.Join(filepath.Dir(rt.Root), "audit.jsonl")
	args := []string{"run", "--bundle", b}
	id := newID(t)
	res := rt.Run([]string{"--strace-log", log}, append(args, id)...)
	if res.Code != 0 {
		t.Fatalf("attack container: %s", res)
	}
	got := checkDenied(t, res.Stdout)
	evs := readAudit(t, log)
	type key struct{ syscall, errno string }
	denies := map[key]int{}
	for _, e := range evs {
		if e.Container != id {
			t.Errorf("audit event for container %q, want %q: %+v", e.Container, id, e)
		}
		// A refusal is a deny, or a proxied call the sentry refused after
		// looking at its copy of the arguments (adjtimex setting the clock).
		if e.Decision == "deny" || (e.Decision == "proxy" && e.Errno != "") {
			denies[key{e.Syscall, e.Errno}]++
			if e.Result != -1 {
				t.Errorf("deny event with result %d, want -1: %+v", e.Result, e)
			}
		}
	}
	// Every attempt needs a deny event with its syscall's name and errno.
	// Attempts sharing a syscall and errno need as many events.
	need := map[key][]string{}
	for l, want := range deniedCalls {
		a, ok := got[l]
		if !ok {
			continue // reported by checkDenied
		}
		k := key{a.syscall, unix.ErrnoName(want)}
		need[k] = append(need[k], l)
	}
	for k, ls := range need {
		if denies[k] < len(ls) {
			sort.Strings(ls)
			t.Errorf("audit: %d deny event(s) for %s with %s, want at least %d (attempts %s)",
				denies[k], k.syscall, k.errno, len(ls), strings.Join(ls, ", "))
		}
	}
	if t.Failed() {
		t.Logf("audit stream (%d events):\n%s", len(evs), summarizeAudit(evs))
	}
}

// TestDeniedCallsAllCapabilities gives the container every capability
// (CAP_SYS_ADMIN, CAP_SYS_MODULE, CAP_SYS_BOOT, CAP_BPF...). The kernel's
// own permission checks would now let most of the calls through, so each
// EPERM must come from the sandbox. The attempts' arguments are harmless
// if a call ever did run (see testdata/attack.c). With CAP_SYS_ADMIN the
// container is privileged, but over the host's user namespace: its mount
// family stays refused like everyone's (a mount there would be the
// host's root: docs/profiles.md, "Privileged containers"), and the
// warning says so. In a user namespace of its own (TestPrivileged...)
// the mount family answers privilegedCalls.
func TestDeniedCallsAllCapabilities(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	b := newBundle(t, withArgs("/t/attack"), withAllCapabilities(t))
	res := rt.Container(b, nil)
	if res.Code != 0 {
		t.Fatalf("attack container: %s", res)
	}
	checkDenied(t, res.Stdout)
	if !strings.Contains(res.Stderr, "mount and umount2 stay refused") {
		t.Errorf("no warning that a privileged container over the host's user namespace cannot mount: %s", res.Stderr)
	}
}

// TestDeniedCallsAllCapabilitiesUserns is the same in a user namespace of
// the container's own, where a privileged container may mount: its mount
// family answers privilegedCalls, every other call stays refused.
func TestDeniedCallsAllCapabilitiesUserns(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	b := newBundle(t, withArgs("/t/attack"), withAllCapabilities(t), sandboxtest.WithUserNamespace(100000, 65536))
	res := rt.Container(b, nil)
	if res.Code != 0 {
		t.Fatalf("attack container: %s", res)
	}
	checkDeniedWith(t, res.Stdout, privilegedCalls)
}

// TestDeniedCompatEntries tries the other doors into the kernel: the
// 32-bit entry (int $0x80, with i386 syscall numbers) and the x32 bit.
// The profile lists only x86_64, so every such call must be refused
// before the kernel runs it: the process killed by the filter (SIGSYS)
// or ENOSYS — never a success, never another errno.
func TestDeniedCompatEntries(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	b := newBundle(t, withArgs("/t/attack", "compat"))
	res := rt.Container(b, nil)
	if res.Code != 0 {
		t.Fatalf("attack container: %s", res)
	}
	out := res.Stdout
	if !strings.Contains(out, "DONE\n") {
		t.Errorf("attack program did not finish; output:\n%s", out)
	}
	for _, u := range lines(out, "U ") {
		t.Errorf("uname through a compat entry returned a release: %s (host: %s)", u, hostRelease)
	}
	killed := map[string]string{}
	for _, k := range lines(out, "K ") {
		f := strings.Fields(k)
		if len(f) == 2 {
			killed[f[0]] = f[1]
		}
	}
	attempts := 0
	for _, l := range lines(out, "R ") {
		f := strings.Fields(l)
		if len(f) != 4 {
			t.Errorf("malformed line %q", l)
			continue
		}
		attempts++
		if f[2] == "-1" && f[3] == strconv.Itoa(int(unix.ENOSYS)) {
			continue
		}
		t.Errorf("%s: returned %s errno %s, want ENOSYS or the process killed", f[0], f[2], f[3])
	}
	for label, sig := range killed {
		attempts++
		if sig != strconv.Itoa(int(unix.SIGSYS)) && sig != strconv.Itoa(int(unix.SIGKILL)) {
			t.Errorf("%s: killed by signal %s, want SIGSYS (the filter) or SIGKILL", label, sig)
		}
	}
	if attempts < 15 {
		t.Errorf("only %d compat attempts reported, want 15; output:\n%s", attempts, out)
	}
}

// summarizeAudit prints events compactly for failure messages.
func summarizeAudit(evs []auditEvent) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "  %s %s %s args=%v result=%d\n", e.Syscall, e.Decision, e.Errno, e.Args, e.Result)
	}
	return b.String()
}

// TestDeniedCallsStrict makes the same attempts under strict: it checks
// and audits more than default, and refuses at least as much, with the
// same errnos.
func TestDeniedCallsStrict(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	b := newBundle(t, withArgs("/t/attack"))
	res := rt.Container(b, nil, "--profile", "strict")
	if res.Code != 0 {
		t.Fatalf("attack container: %s", res)
	}
	checkDenied(t, res.Stdout)
}
