package policy

import (
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

// TestPrivileged: a privileged container's built-in profile checks mount
// and umount2 (notified, so the sentry's hook decides), answers the new
// mount API with ENOSYS, and decides every other call exactly as the
// profile does — the filter and the sentry alike. Files and learn mode
// are left as they are.
func TestPrivileged(t *testing.T) {
	enosys := action{specs.ActErrno, ptr(uint(unix.ENOSYS))}
	for _, name := range Names() {
		base, _ := Builtin(name)
		p := Privileged(base)
		if !p.Privileged || p.Name != base.Name || base.Privileged {
			t.Fatalf("%s: Privileged gave %q privileged=%v (base privileged=%v)", name, p.Name, p.Privileged, base.Privileged)
		}
		if Privileged(p) != p {
			t.Errorf("%s: Privileged of a privileged profile is not itself", name)
		}
		f, err := Compile(p, "/run/x.sock")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range syscalls.All() {
			for _, args := range [][6]uint64{{}, {1, 2, 3, unix.MS_BIND | unix.MS_REC, 5, 6}, {0, uint64(unix.SECCOMP_FILTER_FLAG_NEW_LISTENER)}} {
				_, got := p.Decide(e.Nr, args)
				filter := evalSpec(f, e.Name, args)
				want := base.Rule(&e).Eval(args)
				switch e.Name {
				case "mount", "umount2":
					want = syscalls.Outcome{Tier: syscalls.Check}
					if filter.act != specs.ActNotify {
						t.Errorf("%s: %s compiles to %v, want notify", name, e.Name, filter)
					}
				case "fsopen", "fsconfig", "fsmount", "fspick", "open_tree", "open_tree_attr", "move_mount", "mount_setattr":
					want = syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.ENOSYS}
					if !filter.same(enosys) {
						t.Errorf("%s: %s compiles to %v, want ENOSYS", name, e.Name, filter)
					}
				}
				if got != want {
					t.Errorf("%s: %s%v: privileged decides %v, want %v", name, e.Name, args, got, want)
				}
			}
		}
	}
	learn := LearnProfile(builtins()["default"])
	if Privileged(learn) != learn {
		t.Error("learn mode changed by Privileged")
	}
	file := &Profile{Name: "web", Source: "/etc/syscage/profiles/web.json", ruleFor: builtins()["default"].ruleFor}
	if Privileged(file) != file {
		t.Error("a profile file changed by Privileged")
	}
}

func ptr[T any](v T) *T { return &v }
