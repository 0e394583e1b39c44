package syscalls

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestTableComplete: every number in the kernel's ranges has exactly one
// entry and nothing else does.
func TestTableComplete(t *testing.T) {
	names := map[string]bool{}
	for _, e := range table {
		if names[e.Name] {
			t.Errorf("name %s twice", e.Name)
		}
		names[e.Name] = true
	}
	want := 0
	for _, r := range archRanges {
		for nr := r[0]; nr <= r[1]; nr++ {
			want++
			if _, ok := ByNr(nr); !ok {
				t.Errorf("no entry for %d", nr)
			}
		}
	}
	numbers := 0
	for _, e := range byNr {
		if e != nil {
			numbers++
		}
	}
	if len(table) != want || numbers != want {
		t.Errorf("%d entries (%d numbers), want %d", len(table), numbers, want)
	}
	for _, nr := range []int{-1, archRanges[len(archRanges)-1][1] + 1, 1 << 30} {
		if e, ok := ByNr(nr); ok || e != nil {
			t.Errorf("ByNr(%d) = %v, %v; want nothing", nr, e, ok)
		}
	}
}

// TestNumbers checks names against golang.org/x/sys for the entries that
// matter most (and a sample of the rest).
func TestNumbers(t *testing.T) {
	for name, nr := range sysNumbers {
		e, ok := ByName(name)
		if !ok {
			t.Errorf("no entry %s", name)
			continue
		}
		if e.Nr != nr {
			t.Errorf("%s is %d in the table, %d in x/sys", name, e.Nr, nr)
		}
	}
}

func TestRulesWellFormed(t *testing.T) {
	for _, e := range table {
		for prof, r := range columns(&e) {
			if r.Tier < Pass || r.Tier > Check {
				t.Errorf("%s/%s: no tier", e.Name, prof)
			}
			if r.Tier != Deny && r.Errno != 0 {
				t.Errorf("%s/%s: errno on a %v rule", e.Name, prof, r.Tier)
			}
			if r.Conditional() && r.Summary == "" {
				t.Errorf("%s/%s: conditional rule without summary", e.Name, prof)
			}
			for _, c := range r.Cases {
				if (c.Tier == Emulate || c.Tier == Proxy) && e.Handler == nil {
					t.Errorf("%s/%s: %v case without handler", e.Name, prof, c.Tier)
				}
			}
			if (r.Tier == Emulate || r.Tier == Proxy) && e.Handler == nil {
				t.Errorf("%s/%s: %v without handler", e.Name, prof, r.Tier)
			}
			if e.Name == "write" && r.Tier.Notified() {
				t.Errorf("write must never be notified (runc refuses it)")
			}
		}
	}
}

// TestDefaultProfile pins the decisions issue 3 asks for.
func TestDefaultProfile(t *testing.T) {
	for _, tc := range []struct {
		tier  Tier
		errno unix.Errno
		names []string
	}{
		{Pass, 0, []string{"read", "write", "mmap", "mprotect", "munmap", "brk", "futex", "epoll_wait", "epoll_ctl",
			"epoll_pwait", "poll", "ppoll", "select", "clock_gettime", "nanosleep", "rt_sigaction", "rt_sigprocmask",
			"fork", "vfork", "execve", "execveat", "wait4", "waitid", "openat", "stat", "fstat", "newfstatat", "statx",
			"getdents64", "close", "connect", "bind", "accept4", "getpid", "prctl", "rseq"}},
		{Deny, unix.EPERM, []string{"setns", "mount", "umount2", "pivot_root", "fsopen", "fsconfig", "fsmount",
			"fspick", "move_mount", "open_tree", "mount_setattr", "bpf", "perf_event_open", "userfaultfd",
			"io_uring_setup", "io_uring_enter", "io_uring_register", "keyctl", "add_key", "request_key",
			"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot", "swapon",
			"swapoff", "acct", "settimeofday", "clock_settime", "quotactl",
			"quotactl_fd", "iopl", "ioperm", "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
			"open_by_handle_at", "name_to_handle_at", "syslog", "fanotify_init", "fanotify_mark", "vhangup"}},
		{Deny, unix.ENOSYS, []string{"clone3", "sysfs", "_sysctl", "uselib", "ustat", "create_module",
			"query_module", "nfsservctl", "lookup_dcookie"}},
		{Emulate, 0, []string{"uname"}},
		// Harmless reads and namespace-local calls Docker's profile allows:
		// adjtimex queries answered on a copy (setting: EPERM in the
		// handler); the container's own host and domain name.
		{Proxy, 0, []string{"adjtimex", "clock_adjtime"}},
		{Check, 0, []string{"sethostname", "setdomainname"}},
	} {
		for _, n := range tc.names {
			e, ok := ByName(n)
			if !ok {
				t.Errorf("no entry %s", n)
				continue
			}
			if e.col(0).Tier != tc.tier || e.col(0).Conditional() || (tc.tier == Deny && e.col(0).ErrnoOf() != tc.errno) {
				t.Errorf("%s: default is %v %v, want %v %v", n, e.col(0).Tier, e.col(0).ErrnoOf(), tc.tier, tc.errno)
			}
		}
	}
}

func TestHandlerTiers(t *testing.T) {
	for _, e := range All() {
		ht := e.HandlerTier()
		switch {
		case e.Handler != nil && ht != Emulate && ht != Proxy:
			t.Errorf("%s has a handler but no handler tier (%v)", e.Name, ht)
		case e.Handler == nil && ht != 0:
			t.Errorf("%s has a handler tier %v but no handler", e.Name, ht)
		}
		// The rules first written used a handler with its tier only.
		for _, r := range []Rule{e.col(0), e.col(1)} {
			for _, o := range append([]Case{{Outcome: Outcome{Tier: r.Tier}}}, r.Cases...) {
				if (o.Tier == Emulate || o.Tier == Proxy) && o.Tier != ht {
					t.Errorf("%s: a built-in uses %v, its handler serves %v", e.Name, o.Tier, ht)
				}
			}
		}
	}
	for name := range handlerTiers {
		if _, ok := ByName(name); !ok {
			t.Errorf("handlerTiers names %s, not in the table", name)
		}
	}
}
