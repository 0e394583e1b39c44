package policy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// adminConfig writes the administrator's config.json (fields, with
// "profileDir" set to a fresh directory unless fields name one) and points
// the binary at it through $SYSCAGE_CONFIG, which only whoever starts the
// runtime sets (here the test, standing in for the node's administrator).
// It returns the profile directory.
func adminConfig(t *testing.T, fields map[string]any) string {
	t.Helper()
	path, profiles := writeConfig(t, fields)
	t.Setenv("SYSCAGE_CONFIG", path)
	return profiles
}

// writeConfig writes a config.json as adminConfig does, returning its
// path and the profile directory.
func writeConfig(t *testing.T, fields map[string]any) (string, string) {
	t.Helper()
	dir := t.TempDir()
	profiles := filepath.Join(dir, "profiles")
	if err := os.Mkdir(profiles, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, ok := fields["profileDir"]; !ok && len(fields) > 0 {
		fields["profileDir"] = profiles
	}
	data, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, profiles
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// refusedCleanly checks that a create failed with want in its error and
// left nothing behind: no state dir, agent socket, process or cgroup.
func refusedCleanly(t *testing.T, r *runtime, res result, bundle, id string, want ...string) {
	t.Helper()
	res.Stderr = strings.ReplaceAll(res.Stderr, `\"`, `"`) // logrus quotes the message
	if res.Code == 0 {
		t.Errorf("create succeeded; want it refused with %q: %s", want, res)
	}
	for _, w := range want {
		if !strings.Contains(res.Stderr, w) {
			t.Errorf("want %q in the error: %s", w, res)
		}
	}
	if _, err := os.Stat(filepath.Join(r.Root, id)); err == nil {
		t.Errorf("state dir left behind")
	}
	if _, err := os.Stat(agentSocket(filepath.Join(r.Root, id))); err == nil {
		t.Errorf("agent socket left behind")
	}
	if p := markedProcesses(bundle); len(p) > 0 {
		t.Errorf("processes left behind: %v", p)
	}
	if cg := cgroupLeftovers(id); len(cg) > 0 {
		t.Errorf("cgroups left behind: %v", cg)
	}
}

// permissive is a valid profile that passes what default denies.
const permissive = `{"syscageProfile": 1, "name": "evil", "syscalls": [
	{"names": ["unshare", "mount", "bpf", "keyctl"], "tier": "pass", "why": "a pod's wish"}]}`

// TestAnnotationCannotWeaken: issue #9 items 4 and 9. A pod's annotations
// choose only among the profiles the administrator allows, a file only by
// name inside the administrator's profile directory, and turn auditing
// on or off without naming a file. Each attempt fails create with a
// clear error and leaves nothing behind. The cases marked plain run under
// an empty configuration (the defaults); the others under one that lets
// annotations choose the files of its profile directory that the cases
// plant.
func TestAnnotationCannotWeaken(t *testing.T) {
	r := newRuntime(t)
	outside := filepath.Join(t.TempDir(), "evil.json")
	writeFile(t, outside, permissive)
	plain, _ := writeConfig(t, map[string]any{})
	admin, dir := writeConfig(t, map[string]any{"annotationProfiles": []string{"default", "strict", "web", "link", "fifo", "huge"}})
	writeFile(t, filepath.Join(dir, "web.json"), `{"syscageProfile": 1, "name": "web", "syscalls": []}`)
	writeFile(t, filepath.Join(dir, "other.json"), permissive)
	writeFile(t, filepath.Join(dir, "huge.json"), permissive+strings.Repeat(" ", 2<<20))
	if err := os.Symlink(outside, filepath.Join(dir, "link.json")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(dir, "fifo.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	evil := fmt.Sprintf("/etc/syscage-test-evil-%s-%d", env.RunTag, os.Getpid())
	t.Cleanup(func() { os.Remove(evil) })
	notAName := func(v string) []string {
		return []string{fmt.Sprintf("annotation dev.syscage.profile: %q is not a profile name", v), "never a path"}
	}
	for _, c := range []struct {
		name, config, key, value string
		want                     []string
	}{
		{"a node file", plain, "dev.syscage.profile", "/etc/passwd", notAName("/etc/passwd")},
		{"a permissive file outside the profile dir", plain, "dev.syscage.profile", outside, notAName(outside)},
		{"traversal", plain, "dev.syscage.profile", "../../etc/x", notAName("../../etc/x")},
		{"the path of a symlink to a file outside", plain, "dev.syscage.profile", filepath.Join(dir, "link.json"), notAName(filepath.Join(dir, "link.json"))},
		{"the path of a huge file", plain, "dev.syscage.profile", filepath.Join(dir, "huge.json"), notAName(filepath.Join(dir, "huge.json"))},
		{"the path of a FIFO", plain, "dev.syscage.profile", filepath.Join(dir, "fifo.json"), notAName(filepath.Join(dir, "fifo.json"))},
		{"learn without the administrator's permission", plain, "dev.syscage.profile", "learn",
			[]string{`annotation dev.syscage.profile="learn": the administrator does not let annotations choose this learn mode`, "annotationProfiles in " + plain + `: ["default" "strict"]`}},
		{"strace naming a file", plain, "dev.syscage.strace", evil, []string{`annotation dev.syscage.strace="` + evil + `": must be true or false`}},
		{"a path into the profile dir", admin, "dev.syscage.profile", filepath.Join(dir, "web.json"), notAName(filepath.Join(dir, "web.json"))},
		{"a symlink in the profile dir to a file outside", admin, "dev.syscage.profile", "link", []string{"profile file " + filepath.Join(dir, "link.json") + ": is a symbolic link"}},
		{"a FIFO", admin, "dev.syscage.profile", "fifo", []string{"profile file " + filepath.Join(dir, "fifo.json") + ": is not a regular file"}},
		{"a huge file", admin, "dev.syscage.profile", "huge", []string{"profile file " + filepath.Join(dir, "huge.json") + ": is 2097", "more than the 1048576 a profile file may have"}},
		{"a file the administrator does not allow", admin, "dev.syscage.profile", "other",
			[]string{`annotation dev.syscage.profile="other": the administrator does not let annotations choose this profile`, "annotationProfiles in " + admin}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("SYSCAGE_CONFIG", c.config)
			b := newBundle(t, withArgs("true"), withAnnotation(c.key, c.value))
			id := newID(t)
			res := r.Run(nil, "create", "--bundle", b, id)
			refusedCleanly(t, r, res, b, id, c.want...)
			if _, err := os.Stat(evil); err == nil {
				t.Errorf("the runtime created %s", evil)
			}
		})
	}
}

// TestAnnotationProfileDir: what annotations may do. A name the
// administrator allows picks the file in the profile directory (which
// `state` names); learn needs the administrator's word; strace=true
// audits into the configured audit directory. The operator's flags still
// name any file.
func TestAnnotationProfileDir(t *testing.T) {
	r := newRuntime(t)
	auditDir := t.TempDir()
	dir := adminConfig(t, map[string]any{"annotationProfiles": []string{"strict", "ro", "learn"}, "auditDir": auditDir})
	writeFile(t, filepath.Join(dir, "ro.json"), `{"syscageProfile": 1, "name": "no-mkdir", "kernelRelease": "9.9.9-dir", "syscalls": [
		{"names": ["mkdir", "mkdirat"], "tier": "deny", "errno": "EROFS", "why": "test"}]}`)
	probe := withArgs("sh", "-c", "mkdir /tmp/d 2>/dev/null; echo rc=$?; uname -r")
	for _, v := range []string{"ro", "ro.json"} {
		res := r.Container(newBundle(t, probe, withWritableTmp(), withAnnotation("dev.syscage.profile", v)), nil)
		if res.Code != 0 || !strings.Contains(res.Stdout, "rc=1\n9.9.9-dir") {
			t.Errorf("annotation %s: want the profile dir's ro.json: %s", v, res)
		}
	}
	b := newBundle(t, withArgs("sh", "-c", "sleep 600"), withAnnotation("dev.syscage.profile", "ro"), withAnnotation("dev.syscage.strace", "true"))
	id := newID(t)
	if res := r.Run(nil, "create", "--bundle", b, id); res.Code != 0 {
		t.Fatalf("%s", res)
	}
	var st struct {
		Profile     string `json:"profile"`
		ProfileFile string `json:"profileFile"`
	}
	res := r.Run(nil, "state", id)
	if err := json.Unmarshal([]byte(res.Stdout), &st); err != nil || st.Profile != "no-mkdir" || st.ProfileFile != filepath.Join(dir, "ro.json") {
		t.Errorf("state: %+v (%v): %s", st, err, res)
	}
	if res := r.Run(nil, "start", id); res.Code != 0 {
		t.Fatalf("%s", res)
	}
	if res := r.Run(nil, "exec", id, "mkdir", "/d"); res.Code == 0 {
		t.Errorf("mkdir under ro: %s", res)
	}
	if !waitFor(10*time.Second, func() bool { _, err := os.Stat(filepath.Join(auditDir, id+".jsonl")); return err == nil }) {
		t.Errorf("no audit stream %s.jsonl in the audit dir", id)
	} else if evs := readAudit(t, filepath.Join(auditDir, id+".jsonl")); len(evs) == 0 {
		t.Errorf("empty audit stream")
	}
	if res := r.Run(nil, "delete", "--force", id); res.Code != 0 {
		t.Errorf("%s", res)
	}
	res = r.Container(newBundle(t, withArgs("true"), withAnnotation("dev.syscage.profile", "learn")), nil)
	if res.Code != 0 {
		t.Errorf("learn allowed by the administrator: %s", res)
	}
	// The operator's command line names any file, whatever annotations may do.
	outside := filepath.Join(t.TempDir(), "evil.json")
	writeFile(t, outside, permissive)
	log := filepath.Join(t.TempDir(), "operator.jsonl")
	res = r.Container(newBundle(t, withArgs("true"), withAnnotation("dev.syscage.profile", "strict")), []string{"--strace-log", log}, "--profile", outside)
	if res.Code != 0 {
		t.Errorf("--profile and --strace-log with paths: %s", res)
	}
	if _, err := os.Stat(log); err != nil {
		t.Errorf("--strace-log: %v", err)
	}
}

// TestBadRuntimeConfig: a configuration the runtime cannot use fails
// create with the file and the field, and leaves nothing behind.
func TestBadRuntimeConfig(t *testing.T) {
	r := newRuntime(t)
	path := filepath.Join(t.TempDir(), "config.json")
	t.Setenv("SYSCAGE_CONFIG", path)
	for _, c := range []struct{ name, data, want string }{
		{"unknown field", `{"minimumProfile": "strict"}`, "runtime config " + path + ": minimumProfile: unknown field"},
		{"wrong type", `{"annotationProfiles": "learn"}`, "runtime config " + path + ": annotationProfiles: is a JSON string"},
		{"a path allowed for annotations", `{"annotationProfiles": ["/tmp/x.json"]}`, "runtime config " + path + `: annotationProfiles[0]: "/tmp/x.json" is not a profile name`},
		{"relative profile dir", `{"profileDir": "profiles"}`, "runtime config " + path + `: profileDir: "profiles" is not an absolute path`},
		{"not JSON", `{"defaultProfile": strict}`, "runtime config " + path + ": not valid JSON"},
	} {
		t.Run(c.name, func(t *testing.T) {
			writeFile(t, path, c.data)
			b := newBundle(t, withArgs("true"))
			id := newID(t)
			refusedCleanly(t, r, r.Run(nil, "create", "--bundle", b, id), b, id, c.want)
		})
	}
	os.Remove(path)
	b := newBundle(t, withArgs("true"))
	id := newID(t)
	refusedCleanly(t, r, r.Run(nil, "create", "--bundle", b, id), b, id, "runtime config "+path+": open "+path+": no such file or directory")
}
