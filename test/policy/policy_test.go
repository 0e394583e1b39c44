package policy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/syscage/syscage/test/internal/sandboxtest"
)

// learnedFile is the part of a learned profile the tests look at.
type learnedFile struct {
	SyscageProfile int    `json:"syscageProfile"`
	Name           string `json:"name"`
	Base           string `json:"base"`
	Unlisted       string `json:"unlisted"`
	Syscalls       []struct {
		Names []string `json:"names"`
		Tier  string   `json:"tier"`
		Errno string   `json:"errno"`
		When  []any    `json:"when"`
		Why   string   `json:"why"`
	} `json:"syscalls"`
}

func readLearned(t *testing.T, path string) learnedFile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("learned profile: %v", err)
	}
	var f learnedFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("learned profile %s: %v", path, err)
	}
	if f.SyscageProfile != 1 || f.Unlisted != "deny" || f.Base != "default" || len(f.Syscalls) == 0 {
		t.Fatalf("learned profile %s: %+v", path, f)
	}
	why := regexp.MustCompile(`^(first by pid \d+ \(.+\); \d+ calls( with more than \d+ distinct argument values: any the base allows)?|always: .+|the base refuses .+)$`)
	for i, s := range f.Syscalls {
		if !why.MatchString(s.Why) {
			t.Errorf("syscalls[%d] %v: why %q does not say why", i, s.Names, s.Why)
		}
	}
	return f
}

func (f learnedFile) has(name string) bool {
	for _, s := range f.Syscalls {
		for _, n := range s.Names {
			if n == name && s.Tier != "deny" {
				return true
			}
		}
	}
	return false
}

// allowedCount is from the last line of `syscage syscalls --profile P`:
// how many syscalls the profile lets run (for some arguments at least).
func allowedCount(t *testing.T, r *runtime, profile string) int {
	t.Helper()
	res := r.Run(nil, "syscalls", "--profile", profile)
	if res.Code != 0 {
		t.Fatalf("%s", res)
	}
	m := regexp.MustCompile(`; (\d+) allowed\n$`).FindStringSubmatch(res.Stdout)
	if m == nil {
		t.Fatalf("no count in:\n%s", res.Stdout)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// roundTrip learns args' profile, checks the workload behaves the same
// under it, and returns the profile's path and the enforced output.
func roundTrip(t *testing.T, r *runtime, args []string, opts ...specOpt) (string, learnedFile) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "learned.json")
	b := newBundle(t, append([]specOpt{withArgs(args...), withWritableTmp()}, opts...)...)
	learn := r.Container(b, nil, "--profile", "learn", "--learned-profile", out)
	if learn.Code != 0 {
		t.Fatalf("learn run: %s", learn)
	}
	f := readLearned(t, out)
	enforce := r.Container(b, nil, "--profile", out)
	if enforce.Code != 0 || enforce.Stdout != learn.Stdout {
		t.Fatalf("enforced run differs from the learning run:\nlearn:\n%s\nenforce: %s", learn.Stdout, enforce)
	}
	learned, def := allowedCount(t, r, out), allowedCount(t, r, "default")
	t.Logf("allowed syscalls: learned %d, default %d", learned, def)
	if learned >= def/2 {
		t.Errorf("learned profile allows %d syscalls, default %d: not much of a reduction", learned, def)
	}
	return out, f
}

// deniedAndAudited runs b under profile with auditing on and checks the
// audit stream has a deny EPERM event for each syscall in calls, naming
// a process.
func deniedAndAudited(t *testing.T, r *runtime, b, profile string, calls ...string) result {
	t.Helper()
	log := filepath.Join(t.TempDir(), "audit.jsonl")
	res := r.Container(b, []string{"--strace-log", log}, "--profile", profile)
	evs := readAudit(t, log)
	for _, c := range calls {
		found := false
		for _, e := range evs {
			if e.Syscall == c && e.Decision == "deny" && e.Errno == "EPERM" && e.Pid > 0 && e.Container != "" {
				found = true
			}
		}
		if !found {
			t.Errorf("no deny EPERM audit event for %s in %d events", c, len(evs))
		}
	}
	return res
}

func TestLearnEnforceShellPipeline(t *testing.T) {
	r := newRuntime(t)
	script := `echo "the quick brown fox jumps over the lazy dog" | tr ' ' '\n' | sort | uniq -c | sort -rn | head -3; ` +
		`seq 1 200 > /tmp/n; wc -l < /tmp/n; cat /tmp/n | grep 7 | wc -l; rm /tmp/n; date +%Y >/dev/null`
	out, f := roundTrip(t, r, []string{"sh", "-c", script})
	if f.has("mkdir") || f.has("bpf") {
		t.Errorf("learned profile allows mkdir or bpf: %s", out)
	}
	b := newBundle(t, withArgs("sh", "-c", script+`; mkdir /tmp/d; echo "mkdir=$?"`), withWritableTmp())
	res := deniedAndAudited(t, r, b, out, "mkdir")
	if !strings.Contains(res.Stderr+res.Stdout, "Operation not permitted") || !strings.Contains(res.Stdout, "mkdir=1") {
		t.Errorf("mkdir under the learned profile: %s", res)
	}
}

// TestLearnEnforceStaticC learns a static C program's profile and
// enforces it, as each identity a workload has (host root, uid 1000,
// root in a user namespace): learn mode learns as each.
func TestLearnEnforceStaticC(t *testing.T) {
	for _, ident := range sandboxtest.Identities {
		t.Run(ident.Name, func(t *testing.T) {
			t.Parallel()
			learnEnforceStaticC(t, ident.Opt)
		})
	}
}

func learnEnforceStaticC(t *testing.T, opt specOpt) {
	r := newRuntime(t)
	out, f := roundTrip(t, r, []string{"/t/app"}, opt)
	for _, want := range []string{"socket", "connect", "accept", "bind", "listen", "rename", "unlink", "futex"} {
		if !f.has(want) && !f.has(want+"4") && !f.has(want+"at") {
			t.Errorf("learned profile lacks %s", want)
		}
	}
	b := newBundle(t, withArgs("/t/app", "extra"), withWritableTmp(), opt)
	res := deniedAndAudited(t, r, b, out, "mkdir", "socket")
	if res.Code != 0 {
		t.Fatalf("%s", res)
	}
	for _, want := range []string{"ok tcp hello over loopback", "extra mkdir EPERM", "extra socket6 EPERM"} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("want %q in:\n%s", want, res.Stdout)
		}
	}
	// The same program under default: the extra calls work.
	res = r.Container(b, nil)
	if !strings.Contains(res.Stdout, "extra mkdir ok") || !strings.Contains(res.Stdout, "extra socket6 ok") {
		t.Errorf("under default: %s", res)
	}
}

// TestLearnKill: a learned profile edited to "unlisted": "kill" kills a
// process that makes an unlisted call.
func TestLearnKill(t *testing.T) {
	r := newRuntime(t)
	out, _ := roundTrip(t, r, []string{"/t/app"})
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	kill := filepath.Join(t.TempDir(), "kill.json")
	if err := os.WriteFile(kill, []byte(strings.Replace(string(data), `"unlisted": "deny"`, `"unlisted": "kill"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	b := newBundle(t, withArgs("/t/app", "extra"), withWritableTmp())
	res := r.Container(b, nil, "--profile", kill)
	if res.Code != 128+31 || strings.Contains(res.Stdout, "extra mkdir") {
		t.Errorf("want death by SIGSYS (exit 159) at mkdir: %s", res)
	}
}

// TestLearnOverLifetime: learn mode chosen by annotation (the
// administrator allows it), the profile in the state dir (named by
// `state`), and calls of an exec'd process part of it.
func TestLearnOverLifetime(t *testing.T) {
	r := newRuntime(t)
	adminConfig(t, map[string]any{"annotationProfiles": []string{"learn"}})
	b := newBundle(t, withArgs("sh", "-c", "sleep 600; echo done"), withAnnotation("dev.syscage.profile", "learn"), withWritableTmp())
	id := newID(t)
	if res := r.Run(nil, "create", "--bundle", b, id); res.Code != 0 {
		t.Fatalf("%s", res)
	}
	if res := r.Run(nil, "start", id); res.Code != 0 {
		t.Fatalf("%s", res)
	}
	res := r.Run(nil, "state", id)
	var st struct {
		Status         string `json:"status"`
		Profile        string `json:"profile"`
		LearnedProfile string `json:"learnedProfile"`
	}
	if err := json.Unmarshal([]byte(res.Stdout), &st); err != nil {
		t.Fatalf("%v: %s", err, res)
	}
	want := filepath.Join(r.Root, id, "learned-profile.json")
	if st.Profile != "learn" || st.LearnedProfile != want {
		t.Fatalf("state: profile %q learnedProfile %q, want learn and %s", st.Profile, st.LearnedProfile, want)
	}
	if res := r.Run(nil, "exec", id, "mkdir", "/tmp/from-exec"); res.Code != 0 {
		t.Fatalf("%s", res)
	}
	if res := r.Run(nil, "exec", "--profile", "strict", id, "true"); res.Code == 0 || !strings.Contains(res.Stderr, "runs under its container's profile") {
		t.Errorf("exec --profile: %s", res)
	}
	if res := r.Run(nil, "kill", id, "KILL"); res.Code != 0 {
		t.Fatalf("%s", res)
	}
	if !waitFor(10*time.Second, func() bool {
		_, err := os.Stat(want)
		return err == nil
	}) {
		t.Fatalf("no learned profile at %s after the container stopped", want)
	}
	f := readLearned(t, want)
	if !f.has("mkdir") && !f.has("mkdirat") {
		t.Errorf("the exec'd process's mkdir is not in the learned profile")
	}
	if !f.has("execve") {
		t.Errorf("execve (the runtime's init after the filter) is not in the learned profile")
	}
}

// TestSelection: flag over annotation over the runtime's default. The
// annotation names a file of the administrator's profile directory; the
// flags name any file.
func TestSelection(t *testing.T) {
	r := newRuntime(t)
	dir := adminConfig(t, map[string]any{"annotationProfiles": []string{"default", "ro"}})
	roProfile := filepath.Join(dir, "ro.json")
	if err := os.WriteFile(roProfile, []byte(`{"syscageProfile": 1, "name": "no-mkdir", "kernelRelease": "9.9.9-file", "syscalls": [
		{"names": ["mkdir", "mkdirat"], "tier": "deny", "errno": "EROFS", "why": "test"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	probe := []string{"sh", "-c", "mkdir /tmp/d 2>/dev/null; echo rc=$?; uname -r"}
	type tc struct {
		name   string
		global []string
		flags  []string
		ann    string
		want   string
	}
	for _, c := range []tc{
		{"built-in default", nil, nil, "", "rc=0"},
		{"annotation", nil, nil, "ro", "rc=1\n9.9.9-file"},
		{"flag over annotation", nil, []string{"--profile", "default"}, "ro", "rc=0"},
		{"runtime default", []string{"--default-profile", roProfile}, nil, "", "rc=1"},
		{"annotation over runtime default", []string{"--default-profile", roProfile}, nil, "default", "rc=0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := []specOpt{withArgs(probe...), withWritableTmp()}
			if c.ann != "" {
				opts = append(opts, withAnnotation("dev.syscage.profile", c.ann))
			}
			res := r.Container(newBundle(t, opts...), c.global, c.flags...)
			if res.Code != 0 || !strings.Contains(res.Stdout, c.want) {
				t.Errorf("want %s: %s", c.want, res)
			}
		})
	}
	res := r.Run(nil, "profiles")
	for _, name := range []string{"default", "strict", "learn"} {
		if !regexp.MustCompile(`(?m)^` + name + `\s+\S+\s+\S.*$`).MatchString(res.Stdout) {
			t.Errorf("profiles does not list %s:\n%s", name, res.Stdout)
		}
	}
}

// TestMalformedProfiles: each bad profile fails create with the file, the
// field and the problem, and leaves nothing behind.
func TestMalformedProfiles(t *testing.T) {
	r := newRuntime(t)
	names := []string{"unknown-syscall", "proxy-without-handler", "check-write", "arg-index", "unknown-op",
		"masked-eq-without-mask", "unknown-errno", "unknown-field", "wrong-version", "not-JSON"}
	dir := adminConfig(t, map[string]any{"annotationProfiles": append(names, "learn")})
	entry := func(e string) string { return `{"syscageProfile": 1, "name": "bad", "syscalls": [` + e + `]}` }
	for _, c := range []struct{ name, data, field, problem string }{
		{"unknown syscall", entry(`{"names": ["read", "frobnicate"], "tier": "pass"}`), "syscalls[0].names[1]", `unknown syscall "frobnicate"`},
		{"proxy without handler", entry(`{"names": ["read"], "tier": "pass"}, {"names": ["getpid"], "tier": "proxy"}`), "syscalls[1].names[0]", "no proxy handler"},
		{"check write", entry(`{"names": ["write"], "tier": "check"}`), "syscalls[0].names[0]", "write cannot be check"},
		{"arg index", entry(`{"names": ["socket"], "tier": "pass", "when": [{"arg": 7, "op": "eq", "value": 2}]}`), "syscalls[0].when[0].arg", "arguments 0 to 5"},
		{"unknown op", entry(`{"names": ["socket"], "tier": "pass", "when": [{"arg": 0, "op": "contains", "value": 2}]}`), "syscalls[0].when[0].op", "unknown operator"},
		{"masked-eq without mask", entry(`{"names": ["ioctl"], "tier": "pass", "when": [{"arg": 1, "op": "masked-eq", "value": 21505}]}`), "syscalls[0].when[0].mask", "needs a mask"},
		{"unknown errno", entry(`{"names": ["mkdir"], "tier": "deny", "errno": "ENOPE"}`), "syscalls[0].errno", "unknown errno"},
		{"unknown field", `{"syscageProfile": 1, "name": "bad", "syscalls": [], "default": "allow"}`, "default", "unknown field"},
		{"wrong version", `{"syscageProfile": 7, "name": "bad", "syscalls": []}`, "syscageProfile", "version 7 is not supported"},
		{"not JSON", `{"syscageProfile": 1,,}`, "", "not valid JSON"},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := strings.ReplaceAll(c.name, " ", "-")
			path := filepath.Join(dir, name+".json")
			if err := os.WriteFile(path, []byte(c.data), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, how := range []string{"flag", "annotation"} {
				opts := []specOpt{withArgs("true")}
				var flags []string
				if how == "flag" {
					flags = []string{"--profile", path}
				} else {
					opts = append(opts, withAnnotation("dev.syscage.profile", name))
				}
				b := newBundle(t, opts...)
				id := newID(t)
				res := r.Run(nil, append(append([]string{"create", "--bundle", b}, flags...), id)...)
				res.Stderr = strings.ReplaceAll(res.Stderr, `\"`, `"`) // logrus quotes the message
				want := "profile file " + path + ": "
				if c.field != "" {
					want += c.field + ": "
				}
				if res.Code == 0 || !strings.Contains(res.Stderr, want) || !strings.Contains(res.Stderr, c.problem) {
					t.Errorf("%s: want an error with %q and %q: %s", how, want, c.problem, res)
				}
				if _, err := os.Stat(filepath.Join(r.Root, id)); err == nil {
					t.Errorf("%s: state dir left behind", how)
				}
				if _, err := os.Stat(agentSocket(filepath.Join(r.Root, id))); err == nil {
					t.Errorf("%s: agent socket left behind", how)
				}
				if p := markedProcesses(b); len(p) > 0 {
					t.Errorf("%s: processes left behind: %v", how, p)
				}
				if cg := cgroupLeftovers(id); len(cg) > 0 {
					t.Errorf("%s: cgroups left behind: %v", how, cg)
				}
			}
		})
	}
	// --learned-profile without learn, and a learned-profile annotation
	// outside the learned directory.
	b := newBundle(t, withArgs("true"))
	if res := r.Run(nil, "create", "--bundle", b, "--learned-profile", filepath.Join(dir, "x.json"), newID(t)); res.Code == 0 || !strings.Contains(res.Stderr, "only with --profile learn") {
		t.Errorf("--learned-profile without learn: %s", res)
	}
	b = newBundle(t, withArgs("true"), withAnnotation("dev.syscage.profile", "learn"), withAnnotation("dev.syscage.learned-profile", "/etc/cron.d/x"))
	if res := r.Run(nil, "create", "--bundle", b, newID(t)); res.Code == 0 || !strings.Contains(res.Stderr, "must be a file name in /var/lib/syscage/learned") {
		t.Errorf("learned-profile annotation outside the directory: %s", res)
	}
}
