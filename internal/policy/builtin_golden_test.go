package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/builtin.golden from the current built-in profiles")

// builtinVariants are the shapes a built-in profile reaches the kernel in:
// each capability set that opens a door, privileged, resource views off,
// and learn mode over each.
func builtinVariants(t *testing.T) map[string]*Profile {
	t.Helper()
	capSets := map[string]syscalls.Caps{
		"nocaps":   0,
		"docker":   syscalls.MustCaps("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"),
		"netadmin": syscalls.MustCaps("CAP_NET_ADMIN"),
		"sysnice":  syscalls.MustCaps("CAP_SYS_NICE"),
		"all":      syscalls.Caps(1<<41 - 1),
	}
	out := map[string]*Profile{}
	for _, name := range Names() {
		p, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		for cn, c := range capSets {
			q := p.ForCaps(c)
			out[name+"/"+cn] = q
			out[name+"/"+cn+"/privileged"] = Privileged(q)
			out[name+"/"+cn+"/views-off"] = q.WithoutResourceViews()
			out[name+"/"+cn+"/privileged/views-off"] = Privileged(q).WithoutResourceViews()
			out[name+"/"+cn+"/learn"] = LearnProfile(q)
		}
	}
	return out
}

// TestBuiltinGolden pins what the built-in profiles compile to: the OCI
// seccomp section (hence the BPF libseccomp makes of it) and every
// entry's rule (tier, errno, cases) for each variant. Moving the built-ins
// out of the table's columns into embedded profile files must not change
// one of these; a deliberate change of a built-in reruns it with
// -update-golden and shows the change in the diff of testdata/builtin.golden.
func TestBuiltinGolden(t *testing.T) {
	variants := builtinVariants(t)
	var names []string
	for n := range variants {
		names = append(names, n)
	}
	sortStrings(names)
	var got bytes.Buffer
	for _, n := range names {
		p := variants[n]
		sec, err := Compile(p, "/listener")
		if err != nil {
			t.Fatalf("%s: compile: %v", n, err)
		}
		secJSON, err := json.Marshal(sec)
		if err != nil {
			t.Fatal(err)
		}
		type ruleView struct {
			Name  string
			Tier  syscalls.Tier
			Errno int
			Cases []syscalls.Case
			Kills bool
		}
		var rules []ruleView
		for _, e := range syscalls.All() {
			r := p.Rule(&e)
			rules = append(rules, ruleView{e.Name, r.Tier, int(r.ErrnoOf()), r.Cases, p.Kills(&e)})
		}
		rulesJSON, err := json.Marshal(rules)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&got, "%s seccomp %x rules %x\n", n, sha256.Sum256(secJSON), sha256.Sum256(rulesJSON))
	}
	path := filepath.Join("testdata", "builtin.golden")
	if *updateGolden {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v (generate it with -update-golden)", path, err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		gl, wl := bytes.Split(got.Bytes(), []byte("\n")), bytes.Split(want, []byte("\n"))
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w []byte
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if !bytes.Equal(g, w) {
				t.Errorf("built-in profile changed:\n got  %s\n want %s", g, w)
			}
		}
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
