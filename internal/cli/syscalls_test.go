package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/syscage/syscage/internal/policy"
	"github.com/syscage/syscage/internal/sentry/syscalls"
)

func TestSyscallsOutput(t *testing.T) {
	n := len(syscalls.All())
	for _, name := range policy.Names() {
		p, err := policy.Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			format string
			print  func(*bytes.Buffer, *policy.Profile) error
			check  func(t *testing.T, out string)
		}{
			{"table", func(b *bytes.Buffer, p *policy.Profile) error { return printSyscallTable(b, p) }, func(t *testing.T, out string) {
				lines := strings.Split(strings.TrimSpace(out), "\n")
				// header, one line per syscall, a blank line, the calls
				// closed beyond Docker's default (a blank line, a title,
				// a header, one line each), a blank line, the footer
				closed, err := policy.ClosedBeyondDocker(p)
				if err != nil {
					t.Fatal(err)
				}
				if len(lines) != n+3+3+len(closed) {
					t.Errorf("%d lines for %d syscalls and %d closed beyond Docker's", len(lines), n, len(closed))
				}
				if !strings.Contains(out, "closed beyond Docker's default: ") || !strings.Contains(out, `{"names": ["ptrace"], "tier": "pass"}`) {
					t.Error("no section of the calls closed beyond Docker's default, with ptrace's opening line")
				}
				if !strings.HasPrefix(lines[0], "NR") || !strings.Contains(lines[len(lines)-1], "profile "+name) {
					t.Errorf("header %q, footer %q", lines[0], lines[len(lines)-1])
				}
				if !strings.Contains(out, "uname") || !strings.Contains(out, "emulate") {
					t.Error("uname is not shown as emulated")
				}
			}},
			{"json", func(b *bytes.Buffer, p *policy.Profile) error { return printSyscallJSON(b, p) }, func(t *testing.T, out string) {
				var list []syscallJSON
				if err := json.Unmarshal([]byte(out), &list); err != nil {
					t.Fatal(err)
				}
				if len(list) != n {
					t.Errorf("%d objects for %d syscalls", len(list), n)
				}
				for _, j := range list {
					if j.Name == "clone3" && (j.Tier != "deny" || j.Errno != "ENOSYS") {
						t.Errorf("clone3: %+v", j)
					}
				}
			}},
		} {
			t.Run(name+"/"+tc.format, func(t *testing.T) {
				var b bytes.Buffer
				if err := tc.print(&b, p); err != nil {
					t.Fatal(err)
				}
				tc.check(t, b.String())
			})
		}
	}
}

// TestDocsClosedBeyondDocker: docs/profiles.md carries the list of calls
// default closes beyond Docker's default profile exactly as the profiles
// give it today.
func TestDocsClosedBeyondDocker(t *testing.T) {
	p, _ := policy.Builtin("default")
	want, err := closedMarkdown(p)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := os.ReadFile("../../docs/profiles.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(docs), want) {
		t.Errorf("docs/profiles.md does not carry the current list of calls default closes beyond Docker's default; replace its table (section \"Closed beyond Docker's default\") with:\n%s", want)
	}
}

// TestSyscallsCapabilityRules: the table shows the argument rules of the
// narrow doors, says what a capability changes, and --caps (ForCaps)
// prints the profile for that capability set.
func TestSyscallsCapabilityRules(t *testing.T) {
	p, _ := policy.Builtin(policy.DefaultName)
	row := func(p *policy.Profile, name string) string {
		var b bytes.Buffer
		if err := printSyscallTable(&b, p); err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(b.String(), "\n") {
			if f := strings.Fields(l); len(f) > 1 && f[1] == name {
				return l
			}
		}
		t.Fatalf("no row for %s", name)
		return ""
	}
	for _, tc := range []struct {
		name string
		caps string
		want []string
	}{
		{"mbind", "", []string{"deny", "EPERM", "[with CAP_SYS_NICE: pass]"}},
		{"mbind", "CAP_SYS_NICE", []string{"pass"}},
		{"socket", "", []string{"netlink protocols", "EPERM without CAP_NET_ADMIN", "[with CAP_NET_ADMIN: other argument rules (--caps CAP_NET_ADMIN)]"}},
		{"socket", "CAP_NET_ADMIN", []string{"xfrm, netfilter, generic; in inet"}},
		{"pipe2", "", []string{"O_NOTIFICATION_PIPE"}},
		{"setsockopt", "", []string{"TCP_ULP (31)"}},
		{"ioctl", "", []string{"TIOCSETD (0x5423)", "TIOCCONS (0x541d)"}},
	} {
		q := p
		if tc.caps != "" {
			q = p.ForCaps(syscalls.MustCaps(tc.caps))
		}
		l := row(q, tc.name)
		for _, w := range tc.want {
			if !strings.Contains(l, w) {
				t.Errorf("%s with %q: row lacks %q:\n%s", tc.name, tc.caps, w, l)
			}
		}
		if tc.caps != "" && strings.Contains(l, "[with "+tc.caps) {
			t.Errorf("%s with %s still notes what the capability would change:\n%s", tc.name, tc.caps, l)
		}
	}
}
