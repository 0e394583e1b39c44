package cli

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHelperMain is not a test: the tests below re-run the test binary
// with SYSCAGE_CLI_ARGS set, so that each command line runs in its own
// process through Main (some paths exit the process) and we see its exit
// status, stdout and stderr.
func TestHelperMain(t *testing.T) {
	env := os.Getenv("SYSCAGE_CLI_ARGS")
	if env == "" {
		t.Skip("helper process for the command-line tests")
	}
	var args []string
	if err := json.Unmarshal([]byte(env), &args); err != nil {
		t.Fatal(err)
	}
	os.Exit(Main(append([]string{"syscage"}, args...)))
}

// runCLI runs syscage with args (after the global --root) and returns its
// exit status and combined output, with the log's \" quoting undone.
func runCLI(t *testing.T, root string, args ...string) (int, string) {
	t.Helper()
	all := append([]string{"--root", root}, args...)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperMain$")
	enc, _ := json.Marshal(all)
	cmd.Env = append(os.Environ(), "SYSCAGE_CLI_ARGS="+string(enc))
	raw, err := cmd.CombinedOutput()
	out := strings.ReplaceAll(string(raw), `\"`, `"`)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out
	case errors.As(err, &ee):
		return ee.ExitCode(), out
	}
	t.Fatalf("running %v: %v", args, err)
	return 0, ""
}

func TestCommandLineErrors(t *testing.T) {
	root := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		// argument counts
		{[]string{"state"}, "state: 1 argument(s) expected, 0 given"},
		{[]string{"state", "a", "b"}, "state: at most 1 argument(s) expected, 2 given"},
		{[]string{"start"}, "start: 1 argument(s) expected"},
		{[]string{"delete"}, "delete: 1 argument(s) expected"},
		{[]string{"kill"}, "kill: 1 argument(s) expected"},
		{[]string{"kill", "a", "KILL", "c"}, "kill: at most 2 argument(s) expected, 3 given"},
		{[]string{"exec"}, "exec: 1 argument(s) expected"},
		{[]string{"ps"}, "ps: 1 argument(s) expected, 0 given (usage: syscage ps <container-id> [ps options])"},
		{[]string{"pause"}, "pause: 1 argument(s) expected"},
		{[]string{"pause", "a", "b"}, "pause: at most 1 argument(s) expected, 2 given"},
		{[]string{"resume"}, "resume: 1 argument(s) expected"},
		{[]string{"events"}, "events: 1 argument(s) expected"},
		{[]string{"events", "a", "b"}, "events: at most 1 argument(s) expected"},
		{[]string{"update"}, "update: 1 argument(s) expected"},
		{[]string{"update", "a", "b"}, "update: at most 1 argument(s) expected"},
		{[]string{"list", "extra"}, "list: at most 0 argument(s) expected, 1 given"},
		{[]string{"spec", "extra"}, "spec: at most 0 argument(s) expected, 1 given"},
		{[]string{"features", "extra"}, "features: at most 0 argument(s) expected, 1 given"},
		{[]string{"do"}, "do: no command given"},
		{[]string{"do", "--"}, "do: no command given"},
		{[]string{"do", "--bogus", "--", "true"}, "flag provided but not defined: -bogus"},
		// unknown commands and flags
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"list", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"ps", "--bogus", "a"}, "flag provided but not defined: -bogus"},
		{[]string{"update", "--cpu-shares", "2", "a"}, "flag provided but not defined: -cpu-shares"},
		{[]string{"events", "--interval", "soon", "a"}, `invalid value "soon" for flag -interval`},
		// bad values, checked before the container is looked up
		{[]string{"list", "--format", "yaml"}, `list: --format "yaml": must be table or json`},
		{[]string{"ps", "--format", "yaml", "a"}, `ps: --format "yaml": must be table or json`},
		{[]string{"events", "--interval", "0s", "a"}, "--interval 0s: must be greater than zero"},
		{[]string{"update", "--memory", "10x", "a"}, `--memory "10x": not a size`},
		{[]string{"update", "--pids-limit", "many", "a"}, `--pids-limit "many"`},
		{[]string{"update", "a"}, "update: nothing to change"},
		{[]string{"update", "-r", "-", "--memory", "1m", "a"}, "cannot be combined"},
		{[]string{"update", "-r", "/nonexistent.json", "a"}, "--resources: open /nonexistent.json"},
		{[]string{"kill", "a", "NOPE"}, `unknown signal "NOPE"`},
		// containers that do not exist
		{[]string{"state", "nosuch"}, `container "nosuch" does not exist`},
		{[]string{"ps", "nosuch"}, `container "nosuch" does not exist`},
		{[]string{"pause", "nosuch"}, `container "nosuch" does not exist`},
		{[]string{"resume", "nosuch"}, `container "nosuch" does not exist`},
		{[]string{"events", "--stats", "nosuch"}, `container "nosuch" does not exist`},
		{[]string{"update", "--memory", "1m", "nosuch"}, `container "nosuch" does not exist`},
		{[]string{"spec", "--bundle", "/nonexistent"}, "spec: bundle directory"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out := runCLI(t, root, tc.args...)
			if code == 0 {
				t.Fatalf("exit status 0, want non-zero; output:\n%s", out)
			}
			if !strings.Contains(out, tc.want) {
				t.Fatalf("output does not contain %q:\n%s", tc.want, out)
			}
		})
	}
}

func TestListEmptyRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), "not-created-yet")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"list"}, "ID          PID         STATUS      BUNDLE      CREATED     OWNER\n"},
		{[]string{"list", "-q"}, ""},
		{[]string{"list", "--format", "json"}, "[]\n"},
		{[]string{"list", "-f", "json", "--quiet"}, ""},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out := runCLI(t, root, tc.args...)
			if code != 0 || out != tc.want {
				t.Fatalf("exit %d, output %q; want 0, %q", code, out, tc.want)
			}
		})
	}
}

func TestSpec(t *testing.T) {
	root, bundle := t.TempDir(), t.TempDir()
	if code, out := runCLI(t, root, "spec", "--bundle", bundle); code != 0 {
		t.Fatalf("spec: exit %d: %s", code, out)
	}
	data, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		OCIVersion string `json:"ociVersion"`
		Root       struct{ Path string }
	}
	if err := json.Unmarshal(data, &spec); err != nil || spec.OCIVersion == "" || spec.Root.Path != "rootfs" {
		t.Fatalf("config.json = %+v, %v", spec, err)
	}
	code, out := runCLI(t, root, "spec", "-b", bundle)
	if code == 0 || !strings.Contains(out, "config.json already exists") {
		t.Fatalf("second spec: exit %d, output %q; want a refusal to overwrite", code, out)
	}
	after, _ := os.ReadFile(filepath.Join(bundle, "config.json"))
	if string(after) != string(data) {
		t.Fatal("config.json was changed by the refused spec")
	}

	rootless := t.TempDir()
	if code, out := runCLI(t, root, "spec", "--rootless", "--bundle", rootless); code != 0 {
		t.Fatalf("spec --rootless: exit %d: %s", code, out)
	}
	data, _ = os.ReadFile(filepath.Join(rootless, "config.json"))
	if !strings.Contains(string(data), `"uidMappings"`) {
		t.Fatalf("rootless config has no uidMappings:\n%s", data)
	}
}

func TestFeatures(t *testing.T) {
	code, out := runCLI(t, t.TempDir(), "features")
	if code != 0 {
		t.Fatalf("features: exit %d: %s", code, out)
	}
	var f struct {
		OCIVersionMin, OCIVersionMax string
		Hooks, MountOptions          []string
		Annotations                  map[string]string
		Linux                        struct {
			Namespaces, Capabilities []string
			Cgroup                   map[string]bool
			Seccomp                  struct {
				Enabled        bool
				Actions, Archs []string
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatalf("features output is not JSON: %v\n%s", err, out)
	}
	switch {
	case f.OCIVersionMin != "1.0.0" || f.OCIVersionMax == "":
		t.Errorf("versions %q..%q", f.OCIVersionMin, f.OCIVersionMax)
	case len(f.Hooks) == 0 || len(f.MountOptions) == 0:
		t.Errorf("no hooks or mount options")
	case len(f.Linux.Namespaces) == 0 || len(f.Linux.Capabilities) == 0:
		t.Errorf("no namespaces or capabilities")
	case !f.Linux.Cgroup["v1"] || !f.Linux.Cgroup["v2"]:
		t.Errorf("cgroup = %v", f.Linux.Cgroup)
	}
	// What rootless mode cannot offer is said.
	for _, k := range []string{"dev.syscage.rootless.cgroups", "dev.syscage.rootless.kernel-identity"} {
		if f.Annotations[k] == "" {
			t.Errorf("features: no annotation %s", k)
		}
	}
}
