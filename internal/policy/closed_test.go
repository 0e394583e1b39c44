package policy

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

// TestClosedBeyondDocker pins what default closes beyond Docker's default
// profile (issue 17: ptrace, process_vm_*, name_to_handle_at, AF_PACKET
// ...), checks every row is true of both profiles — refused by ours for
// some values, allowed by Docker's — has a reason and a profile-file line
// that parses, and that calls open in both are absent.
func TestClosedBeyondDocker(t *testing.T) {
	def, _ := Builtin("default")
	list, err := ClosedBeyondDocker(def)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range list {
		names = append(names, c.Name)
		if c.Why == "" {
			t.Errorf("%s: no reason", c.Name)
		}
		if c.Name == "seccomp" {
			if c.Opens == "" || c.Opens[0] == '{' {
				t.Errorf("seccomp: a file cannot open the floor, but the line is %q", c.Opens)
			}
			continue
		}
		var ent FileEntry
		if err := json.Unmarshal([]byte(c.Opens), &ent); err != nil || !slices.Equal(ent.Names, []string{c.Name}) || ent.Tier != "pass" {
			t.Errorf("%s: opening line %q does not parse as a pass entry for it: %v", c.Name, c.Opens, err)
		}
	}
	for _, want := range []string{"ioctl", "socket", "socketpair", "ptrace", "modify_ldt", "name_to_handle_at", "process_vm_readv", "process_vm_writev", "process_mrelease", "fanotify_mark", "seccomp"} {
		if !slices.Contains(names, want) {
			t.Errorf("%s is not listed as closed beyond Docker's default (list: %v)", want, names)
		}
	}
	for _, open := range []string{"read", "clone", "personality", "mbind", "adjtimex", "uname", "sethostname", "kcmp", "mount", "bpf"} {
		if slices.Contains(names, open) {
			t.Errorf("%s listed, but it is open in default or closed in Docker's default too", open)
		}
	}
	// strict closes more: MSG_FASTOPEN on the send calls.
	strict, _ := Builtin("strict")
	sl, err := ClosedBeyondDocker(strict)
	if err != nil {
		t.Fatal(err)
	}
	var sn []string
	for _, c := range sl {
		sn = append(sn, c.Name)
	}
	for _, want := range append(names, "sendto", "sendmsg", "sendmmsg") {
		if !slices.Contains(sn, want) {
			t.Errorf("strict: %s not listed", want)
		}
	}
	// A row is true of both profiles: Docker's rendering allows the call
	// for some values the profile refuses.
	docker, err := dockerDefault()
	if err != nil {
		t.Fatal(err)
	}
	theirs := byName(docker.Syscalls)
	for _, c := range list {
		e, _ := syscalls.ByName(c.Name)
		r := def.Rule(e)
		if !r.Conditional() && r.Tier != syscalls.Deny {
			t.Errorf("%s listed but default lets it run", c.Name)
		}
		if len(theirs[c.Name]) == 0 {
			t.Errorf("%s listed but Docker's profile does not name it", c.Name)
		}
	}
}
