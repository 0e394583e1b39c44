package security

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	dockerseccomp "github.com/moby/profiles/seccomp"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/test/internal/sandboxtest"
)

// dockerCaps is the capability set Docker gives a container by default.
var dockerCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

func withCaps(c []string) specOpt {
	return func(s *specs.Spec) {
		s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: c, Effective: c, Permitted: c}
	}
}

// withDockerSeccomp gives the bundle Docker's default seccomp profile for
// its capabilities, as `docker run` would.
func withDockerSeccomp(t *testing.T) specOpt {
	return func(s *specs.Spec) {
		sc, err := dockerseccomp.GetDefaultProfile(s)
		if err != nil {
			t.Fatalf("Docker's default profile: %v", err)
		}
		s.Linux.Seccomp = sc
	}
}

// door is one attempt of testdata/doors.c and what `default` answers,
// without and with the capability the rule depends on (0: success).
type door struct {
	label, what     string
	without, with   unix.Errno
	capability, cve string
}

var doors = []door{
	{"socket_vsock", "socket(AF_VSOCK)", unix.EAFNOSUPPORT, unix.EAFNOSUPPORT, "", "CVE-2021-26708"},
	{"socket_alg", "socket(AF_ALG)", unix.EAFNOSUPPORT, unix.EAFNOSUPPORT, "", ""},
	{"socket_packet", "socket(AF_PACKET, SOCK_RAW)", unix.EAFNOSUPPORT, unix.EAFNOSUPPORT, "", "CVE-2020-14386"},
	{"socket_xdp", "socket(AF_XDP)", unix.EAFNOSUPPORT, unix.EAFNOSUPPORT, "", ""},
	{"socket_tipc", "socket(AF_TIPC)", unix.EAFNOSUPPORT, unix.EAFNOSUPPORT, "", ""},
	{"socket_sctp_stream", "socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP)", unix.EPROTONOSUPPORT, unix.EPROTONOSUPPORT, "", ""},
	{"socket_sctp_seqpacket", "socket(AF_INET, SOCK_SEQPACKET) (SCTP)", unix.ESOCKTNOSUPPORT, unix.ESOCKTNOSUPPORT, "", ""},
	{"netlink_netfilter", "socket(AF_NETLINK, NETLINK_NETFILTER)", unix.EPERM, 0, "CAP_NET_ADMIN", "CVE-2024-1086"},
	{"netlink_xfrm", "socket(AF_NETLINK, NETLINK_XFRM)", unix.EPERM, 0, "CAP_NET_ADMIN", ""},
	{"netlink_generic", "socket(AF_NETLINK, NETLINK_GENERIC)", unix.EPERM, 0, "CAP_NET_ADMIN", ""},
	{"netlink_crypto", "socket(AF_NETLINK, NETLINK_CRYPTO)", unix.EPROTONOSUPPORT, unix.EPROTONOSUPPORT, "", ""},
	{"pipe2_notification", "pipe2(O_NOTIFICATION_PIPE)", unix.EPERM, unix.EPERM, "", "CVE-2022-0995"},
	{"setsockopt_tcp_ulp", "setsockopt(SOL_TCP, TCP_ULP)", unix.EPERM, unix.EPERM, "", "CVE-2023-0461"},
	{"ioctl_tiocsetd", "ioctl(TIOCSETD)", unix.EPERM, unix.EPERM, "", "CVE-2023-6546"},
	{"ioctl_tioccons", "ioctl(TIOCCONS)", unix.EPERM, unix.EPERM, "", ""},
	{"mbind", "mbind", unix.EPERM, 0, "CAP_SYS_NICE", ""},
	{"set_mempolicy", "set_mempolicy", unix.EPERM, 0, "CAP_SYS_NICE", ""},
	{"socket_inet6_stream", "socket(AF_INET6) (not used while learning)", 0, 0, "", ""},
	{"prctl_syscall_user_dispatch", "prctl(PR_SET_SYSCALL_USER_DISPATCH) (strict's allowlist)", 0, 0, "", ""},
	{"ioctl_fioqsize", "ioctl(FIOQSIZE) (strict's allowlist)", 0, 0, "", ""},
	{"setsockopt_ip_minttl", "setsockopt(IPPROTO_IP, IP_MINTTL) (strict's allowlist)", 0, 0, "", ""},
	{"execveat_empty_path", "execveat(AT_EMPTY_PATH) (fexecve; strict)", 0, 0, "", ""},
}

// strictDoors are the doors strict closes beyond default.
var strictDoors = map[string]unix.Errno{
	"prctl_syscall_user_dispatch": unix.EPERM,
	"ioctl_fioqsize":              unix.EPERM,
	"setsockopt_ip_minttl":        unix.EPERM,
	"execveat_empty_path":         unix.EPERM,
}

func (a attempt) String() string {
	if a.ret >= 0 {
		return "ok"
	}
	return errnoName(a.errno)
}

// runcDoors runs the doors program under runc with the bundle's config.
func runcDoors(t *testing.T, bundle string) map[string]attempt {
	t.Helper()
	root := filepath.Join(sandboxtest.ShortTempDir(t, "rcd"), "r")
	id := newID(t)
	out, err := exec.Command("runc", "--root", root, "run", "--bundle", bundle, id).CombinedOutput()
	if err != nil {
		_ = exec.Command("runc", "--root", root, "delete", "--force", id).Run()
		t.Fatalf("runc run: %v\n%s", err, out)
	}
	return parseAttempts(t, string(out), "R")
}

// TestDoors knocks once on each narrow door from inside a container,
// without and with the capabilities (Docker's default set; every
// capability the host has), under runc without seccomp, runc with
// Docker's default profile, syscage default, strict, and a profile
// learned from a workload that uses only the ordinary values of the same
// calls. default and strict must answer each door as the table says; the
// learned profile must refuse every door (EPERM, its unlisted answer),
// the AF_INET6 socket the learning run never made included. runc and
// Docker are the baseline: the logged table (docs/security.md, "Narrow
// doors") shows where their kernel ran the call. An audited run as each
// identity shows every refusal is the sandbox's (doorsAudited).
func TestDoors(t *testing.T) {
	if _, err := exec.LookPath("runc"); err != nil {
		t.Fatalf("runc, the baseline, is not installed (scripts/setup.sh installs it): %v", err)
	}
	cols := []string{"runc", "runc+docker", "default", "strict", "learned"}
	results := map[string]map[string]map[string]attempt{} // caps → column → label
	for _, set := range []struct {
		name string
		opt  specOpt
	}{{"docker-caps", withCaps(dockerCaps)}, {"all-caps", withAllCapabilities(t)}} {
		res := map[string]map[string]attempt{}
		results[set.name] = res
		rt := newRuntime(t)
		b := newBundle(t, withArgs("/t/doors"), set.opt)
		res["runc"] = runcDoors(t, b)
		res["runc+docker"] = runcDoors(t, newBundle(t, withArgs("/t/doors"), set.opt, withDockerSeccomp(t)))
		for _, p := range []string{"default", "strict"} {
			r := rt.Container(b, nil, "--profile", p)
			if r.Code != 0 {
				t.Fatalf("%s %s: %s", set.name, p, r)
			}
			res[p] = parseAttempts(t, r.Stdout, "R")
		}
		learned := filepath.Join(t.TempDir(), "learned.json")
		lb := newBundle(t, withArgs("/t/doors", "learn"), set.opt)
		if r := rt.Container(lb, nil, "--profile", "learn", "--learned-profile", learned); r.Code != 0 {
			t.Fatalf("%s: learning run: %s", set.name, r)
		}
		checkLearnedSockets(t, learned)
		r := rt.Container(b, nil, "--profile", learned)
		if r.Code != 0 {
			t.Fatalf("%s: under the learned profile: %s", set.name, r)
		}
		res["learned"] = parseAttempts(t, r.Stdout, "R")

		with := set.name == "all-caps"
		for _, d := range doors {
			want := d.without
			if with {
				want = d.with
			}
			for _, p := range []string{"default", "strict"} {
				want := want
				if e, ok := strictDoors[d.label]; ok && p == "strict" {
					want = e
				}
				a, ok := res[p][d.label]
				switch {
				case !ok:
					t.Errorf("%s %s: %s not attempted", set.name, p, d.label)
				case want == 0 && a.ret < 0:
					t.Errorf("%s %s: %s failed with %s, want success", set.name, p, d.label, a)
				case want != 0 && (a.ret >= 0 || a.errno != want):
					t.Errorf("%s %s: %s gave %s, want %s", set.name, p, d.label, a, errnoName(want))
				}
			}
			if a := res["learned"][d.label]; a.ret >= 0 || (a.errno != unix.EPERM && a.errno != d.without) {
				t.Errorf("%s learned: %s gave %s, want EPERM (the learning run never made it)", set.name, d.label, a)
			}
		}
	}
	doorsAudited(t)
	var b strings.Builder
	fmt.Fprintf(&b, "\n| door | %s |\n|---|%s\n", strings.Join(cols, " | "), strings.Repeat("---|", len(cols)))
	for _, d := range doors {
		fmt.Fprintf(&b, "| %s |", d.what)
		for _, c := range cols {
			w, a := results["docker-caps"][c][d.label], results["all-caps"][c][d.label]
			fmt.Fprintf(&b, " %s / %s |", w, a)
		}
		b.WriteString("\n")
	}
	t.Logf("results, Docker's default capabilities / every capability:%s", b.String())
}

// checkLearnedSockets: the learned profile allows socket by exact family,
// type and protocol (the learning run's AF_INET stream, AF_UNIX stream,
// netlink route), not by name.
func checkLearnedSockets(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Syscalls []struct {
			Names []string `json:"names"`
			Tier  string   `json:"tier"`
			When  []struct {
				Arg   uint   `json:"arg"`
				Value uint64 `json:"value"`
			} `json:"when"`
		} `json:"syscalls"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("learned profile %s: %v", path, err)
	}
	families := map[uint64]bool{}
	for _, e := range f.Syscalls {
		if len(e.Names) != 1 || e.Names[0] != "socket" || e.Tier == "deny" {
			continue
		}
		args := map[uint]bool{}
		for _, c := range e.When {
			args[c.Arg] = true
			if c.Arg == 0 {
				families[c.Value] = true
			}
		}
		if !args[0] || !args[1] || !args[2] {
			t.Errorf("learned socket entry does not pin family, type and protocol: %+v", e)
		}
	}
	for _, fam := range []uint64{unix.AF_INET, unix.AF_UNIX, unix.AF_NETLINK} {
		if !families[fam] {
			t.Errorf("learned profile allows no socket of family %d, which the learning run used", fam)
		}
	}
	if families[unix.AF_INET6] {
		t.Errorf("learned profile allows AF_INET6, which the learning run never used")
	}
}

// doorsAudited runs the doors under default with the audit stream on, as
// each identity a workload has, with Docker's default capabilities: every
// refusal must be the sandbox's, a deny event with the door's syscall and
// errno, also where this kernel would give the same errno (AF_ALG, SCTP,
// crypto netlink are not built here).
func doorsAudited(t *testing.T) {
	t.Run("audited/strict", func(t *testing.T) {
		// strict's allowlists: a value outside them is refused with an
		// audit event, one per door.
		rt := newRuntime(t)
		b := newBundle(t, withArgs("/t/doors"), withCaps(dockerCaps))
		log := filepath.Join(filepath.Dir(rt.Root), "audit.jsonl")
		res := rt.Run([]string{"--strace-log", log}, "run", "--bundle", b, "--profile", "strict", newID(t))
		if res.Code != 0 {
			t.Fatalf("doors container: %s", res)
		}
		got := parseAttempts(t, res.Stdout, "R")
		denies := map[string]int{}
		for _, e := range readAudit(t, log) {
			if e.Decision == "deny" && e.Errno == "EPERM" {
				denies[e.Syscall]++
			}
		}
		want := map[string]int{}
		for label := range strictDoors {
			a, ok := got[label]
			if !ok {
				t.Errorf("%s not attempted", label)
				continue
			}
			want[a.syscall]++
		}
		// default's own EPERM doors on the same calls are audited too.
		for _, d := range doors {
			if _, ok := strictDoors[d.label]; !ok && d.without == unix.EPERM {
				want[got[d.label].syscall]++
			}
		}
		for sys, n := range want {
			if denies[sys] != n {
				t.Errorf("%d deny EPERM events for %s under strict, want %d", denies[sys], sys, n)
			}
		}
	})
	for _, ident := range sandboxtest.Identities {
		t.Run("audited/"+ident.Name, func(t *testing.T) {
			rt := newRuntime(t)
			b := newBundle(t, withArgs("/t/doors"), withCaps(dockerCaps), ident.Opt)
			log := filepath.Join(filepath.Dir(rt.Root), "audit.jsonl")
			id := newID(t)
			res := rt.Run([]string{"--strace-log", log}, "run", "--bundle", b, id)
			if res.Code != 0 {
				t.Fatalf("doors container: %s", res)
			}
			got := parseAttempts(t, res.Stdout, "R")
			type key struct{ syscall, errno string }
			denies := map[key]int{}
			for _, e := range readAudit(t, log) {
				if e.Decision == "deny" {
					denies[key{e.Syscall, e.Errno}]++
				}
			}
			need := map[key]int{}
			for _, d := range doors {
				if d.without == 0 {
					continue
				}
				a := got[d.label]
				if a.ret >= 0 || a.errno != d.without {
					t.Errorf("%s: %s, want %s", d.label, a, errnoName(d.without))
					continue
				}
				need[key{a.syscall, unix.ErrnoName(d.without)}]++
			}
			for k, n := range need {
				if denies[k] < n {
					t.Errorf("audit: %d deny event(s) for %s %s, want %d", denies[k], k.syscall, k.errno, n)
				}
			}
		})
	}
}
