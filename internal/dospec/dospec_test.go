package dospec

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/syscage/syscage/internal/subid"
)

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	ok := Options{Args: []string{"true"}, Cwd: dir, Network: NetworkNone}
	with := func(f func(*Options)) Options { o := ok; f(&o); return o }
	tests := []struct {
		name string
		o    Options
		want string // "" for success
	}{
		{"ok", ok, ""},
		{"rw file", with(func(o *Options) { o.RW = []string{file} }), ""},
		{"ro path", with(func(o *Options) { o.RO = []string{"/etc"} }), ""},
		{"host network", with(func(o *Options) { o.Network = NetworkHost }), ""},
		{"no command", with(func(o *Options) { o.Args = nil }), "no command given"},
		{"empty command", with(func(o *Options) { o.Args = []string{""} }), "no command given"},
		{"bad network", with(func(o *Options) { o.Network = "bridge" }), `--network "bridge"`},
		{"missing rw", with(func(o *Options) { o.RW = []string{dir + "/nope"} }), "--rw " + dir + "/nope"},
		{"relative rw", with(func(o *Options) { o.RW = []string{"x"} }), "not an absolute path"},
		{"rw proc", with(func(o *Options) { o.RW = []string{"/proc/self"} }), "cannot be made writable"},
		{"rw root", with(func(o *Options) { o.RW = []string{"/"} }), "cannot be made writable"},
		{"missing ro", with(func(o *Options) { o.RO = []string{"/nonexistent-x"} }), "--ro /nonexistent-x"},
		{"hide", with(func(o *Options) { o.Hide = []string{filepath.Dir(file) + "/sub"} }), ""},
		{"hide a file", with(func(o *Options) { o.Hide = []string{file} }), "--hide " + file + ": not a directory"},
		{"cwd is root", with(func(o *Options) { o.Cwd = "/" }), "working directory is /"},
		{"negative cpus", with(func(o *Options) { o.CPUs = -1 }), "--cpus"},
		{"negative memory", with(func(o *Options) { o.MemoryBytes = -1 }), "--memory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.o)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Check: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("Check succeeded, want error with %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("Check: %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func mountOf(s *specs.Spec, dest string) (specs.Mount, int) {
	for i, m := range s.Mounts {
		if m.Destination == dest {
			return m, i
		}
	}
	return specs.Mount{}, -1
}

func hasNS(s *specs.Spec, t specs.LinuxNamespaceType) bool {
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == t {
			return true
		}
	}
	return false
}

func TestBuild(t *testing.T) {
	o := Options{
		Args: []string{"make"}, Cwd: "/home/u/proj", Network: NetworkNone,
		RW: []string{"/home/u/.cache"}, RO: []string{"/home/u/proj/.git", "/tmp/in"}, Hide: []string{"/home/u/.ssh"},
		Init: "/usr/local/bin/syscage", Env: []string{"A=1"},
	}
	s := Build(o, []string{"usr", "etc", "home"})
	if !s.Root.Readonly {
		t.Error("rootfs is not read-only")
	}
	if want := []string{InitPath, "do-init", "--", "make"}; !slices.Equal(s.Process.Args, want) {
		t.Errorf("args %q, want %q", s.Process.Args, want)
	}
	for _, ns := range []specs.LinuxNamespaceType{specs.PIDNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.MountNamespace, specs.NetworkNamespace} {
		if !hasNS(s, ns) {
			t.Errorf("no %s namespace", ns)
		}
	}
	if hasNS(s, specs.UserNamespace) {
		t.Error("a user namespace as root")
	}
	usr, iusr := mountOf(s, "/usr")
	if !slices.Contains(usr.Options, "rro") || !slices.Contains(usr.Options, "rbind") {
		t.Errorf("/usr: %v, want a recursive read-only bind", usr.Options)
	}
	for _, d := range []string{"/proc", "/dev", "/tmp", "/run", "/sys"} {
		if _, i := mountOf(s, d); i < iusr {
			t.Errorf("%s not mounted after the host's directories", d)
		}
	}
	cwd, icwd := mountOf(s, "/home/u/proj")
	git, igit := mountOf(s, "/home/u/proj/.git")
	_, itmp := mountOf(s, "/tmp")
	_, iin := mountOf(s, "/tmp/in")
	if !slices.Contains(cwd.Options, "rw") || !slices.Contains(git.Options, "rro") {
		t.Errorf("cwd %v, .git %v: want rw and rro", cwd.Options, git.Options)
	}
	if igit < icwd || iin < itmp {
		t.Errorf("nested binds out of order: cwd %d .git %d /tmp %d /tmp/in %d", icwd, igit, itmp, iin)
	}
	if ssh, i := mountOf(s, "/home/u/.ssh"); ssh.Type != "tmpfs" || !slices.Contains(ssh.Options, "ro") || i < iusr {
		t.Errorf("--hide: %+v at %d", ssh, i)
	}
	if _, i := mountOf(s, InitPath); i < 0 {
		t.Error("the init is not bound")
	}

	o.Network, o.Init = NetworkHost, ""
	o.Rootless, o.UID, o.GID = true, 1000, 1000
	o.SubUID = &subid.Range{Start: 100000, Count: 65536}
	o.MemoryBytes, o.CPUs = 1<<20, 1.5
	s = Build(o, nil)
	if hasNS(s, specs.NetworkNamespace) {
		t.Error("--network host has a network namespace")
	}
	if !hasNS(s, specs.UserNamespace) {
		t.Error("rootless without a user namespace")
	}
	if want := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}, {ContainerID: 1, HostID: 100000, Size: 65536}}; !slices.Equal(s.Linux.UIDMappings, want) {
		t.Errorf("uid mappings %v, want %v", s.Linux.UIDMappings, want)
	}
	if want := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}; !slices.Equal(s.Linux.GIDMappings, want) {
		t.Errorf("gid mappings %v, want %v", s.Linux.GIDMappings, want)
	}
	if sys, _ := mountOf(s, "/sys"); sys.Type != "bind" {
		t.Errorf("rootless /sys is %q, want the host's bound", sys.Type)
	}
	if !slices.Equal(s.Process.Args, []string{"make"}) {
		t.Errorf("without an init, args %q", s.Process.Args)
	}
	r := s.Linux.Resources
	if r == nil || r.Memory == nil || *r.Memory.Limit != 1<<20 || r.CPU == nil || *r.CPU.Quota != 150000 || *r.CPU.Period != 100000 {
		t.Errorf("resources %+v", r)
	}
}

func TestPrepare(t *testing.T) {
	base := t.TempDir()
	b, err := Prepare(base, Options{Args: []string{"true"}, Cwd: t.TempDir(), Network: NetworkNone})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"config.json", "rootfs/usr", "rootfs/proc", "rootfs/tmp"} {
		if _, err := os.Lstat(filepath.Join(b.Dir, p)); err != nil {
			t.Errorf("bundle: %v", err)
		}
	}
	if err := b.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := Prepare(base, Options{Cwd: "/tmp", Network: NetworkNone}); err == nil {
		t.Fatal("Prepare without a command succeeded")
	}
	if left, _ := os.ReadDir(base); len(left) != 0 {
		t.Errorf("left behind in %s: %v", base, left)
	}
}

// TestResolve: links the sandboxed command may have left in its working
// directory are followed before any check, so they can neither make a
// host directory writable nor undo a --hide (the review planted out ->
// /var/tmp/victim and .git -> ~/.ssh in one run and used them in the next).
func TestResolve(t *testing.T) {
	dir := t.TempDir()
	proj, victim, secret := filepath.Join(dir, "proj"), filepath.Join(dir, "victim"), filepath.Join(dir, "ssh")
	for _, d := range []string{proj, victim, secret} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{"out": victim, ".git": secret, "pr": "/proc", "root": "/"} {
		if err := os.Symlink(target, filepath.Join(proj, link)); err != nil {
			t.Fatal(err)
		}
	}
	base := Options{Args: []string{"true"}, Cwd: proj, Network: NetworkNone}
	for _, tc := range []struct {
		name string
		f    func(*Options)
		rw   string // the resolved --rw, if any
		err  string
	}{
		{"rw through a link the sandbox could plant", func(o *Options) { o.RW = []string{filepath.Join(proj, "out")} }, "", filepath.Join(proj, "out") + " is a symbolic link inside " + proj},
		{"rw through a planted link to /proc", func(o *Options) { o.RW = []string{filepath.Join(proj, "pr")} }, "", "is a symbolic link inside"},
		{"ro through a planted link", func(o *Options) {
			o.Hide = []string{secret}
			o.RO = []string{filepath.Join(proj, ".git")}
		}, "", "is a symbolic link inside"},
		{"the user's own link outside the writable directories is followed", func(o *Options) {
			o.Cwd = victim
			o.RW = []string{filepath.Join(proj, "out")}
		}, victim, ""},
		{"ro at or under a hidden directory", func(o *Options) {
			o.Hide = []string{secret}
			o.RO = []string{secret}
		}, "", "at or under the hidden directory " + secret},
		{"cwd under a hidden directory", func(o *Options) { o.Hide = []string{dir} }, "", "working directory " + proj + " is at or under the hidden directory"},
		{"a link of the user's", func(o *Options) {
			o.Cwd = secret
			o.RO = []string{filepath.Join(proj, "out")}
		}, "", ""},
		{"dangling rw link", func(o *Options) { o.RW = []string{filepath.Join(proj, "nope")} }, "", "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := base
			tc.f(&o)
			r, err := Resolve(o)
			if err == nil {
				err = Check(r)
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.rw != "" && (len(r.RW) != 1 || r.RW[0] != tc.rw) {
				t.Errorf("resolved --rw %v, want [%s]", r.RW, tc.rw)
			}
		})
	}
}
