//go:build seccomp && cgo

package policy

import (
	"os"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

var ops = map[specs.LinuxSeccompOperator]libseccomp.ScmpCompareOp{
	specs.OpEqualTo: libseccomp.CompareEqual, specs.OpNotEqual: libseccomp.CompareNotEqual,
	specs.OpLessThan: libseccomp.CompareLess, specs.OpLessEqual: libseccomp.CompareLessOrEqual,
	specs.OpGreaterThan: libseccomp.CompareGreater, specs.OpGreaterEqual: libseccomp.CompareGreaterEqual,
	specs.OpMaskedEqual: libseccomp.CompareMaskedEqual,
}

// bpfSize builds s with libseccomp (without loading it) and returns the
// length of the BPF program, in instructions.
func bpfSize(s *specs.LinuxSeccomp) (int, error) {
	f, err := libseccomp.NewFilter(libseccomp.ActErrno.SetReturnCode(int16(*s.DefaultErrnoRet)))
	if err != nil {
		return 0, err
	}
	defer f.Release()
	_ = f.SetOptimize(2)
	for _, r := range s.Syscalls {
		var act libseccomp.ScmpAction
		switch r.Action {
		case specs.ActAllow:
			act = libseccomp.ActAllow
		case specs.ActNotify:
			act = libseccomp.ActNotify
		default:
			act = libseccomp.ActErrno.SetReturnCode(int16(*r.ErrnoRet))
		}
		if act == libseccomp.ActErrno.SetReturnCode(int16(*s.DefaultErrnoRet)) {
			continue
		}
		var conds []libseccomp.ScmpCondition
		for _, a := range r.Args {
			c, err := libseccomp.MakeCondition(a.Index, ops[a.Op], a.Value, a.ValueTwo)
			if err != nil {
				return 0, err
			}
			conds = append(conds, c)
		}
		for _, n := range r.Names {
			nr, err := libseccomp.GetSyscallFromName(n)
			if err != nil {
				continue
			}
			if err := f.AddRuleConditional(nr, act, conds); err != nil {
				return 0, err
			}
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	go func() { f.ExportBPF(w); w.Close() }()
	var total int
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		total += n
		if err != nil {
			break
		}
	}
	return total / int(unix.SizeofSockFilter), nil
}

// TestComplementBPFSize: with auditing on (every denial a rule), the
// complemented learned profile still fits the kernel's 4096 instructions.
func TestComplementBPFSize(t *testing.T) {
	_, s := complementFilter(t)
	notifyDenials(s, "/x.sock")
	n, err := bpfSize(s)
	if err != nil || n > 4096 {
		t.Errorf("%d BPF instructions, %v", n, err)
	}
	t.Logf("%d rules, %d BPF instructions with auditing on", len(s.Syscalls), n)
}

// TestFileProfilesBPFSize: a profile file compiles within the kernel's
// 4096 instructions (deny and base modes; bpfSize wants an errno default,
// which kill mode does not have).
func TestFileProfilesBPFSize(t *testing.T) {
	for _, unlisted := range []string{"deny", "base"} {
		_, s := compileGood(t, unlisted)
		if n, err := bpfSize(s); err != nil || n > 4096 {
			t.Errorf("%s: %d BPF instructions, %v", unlisted, n, err)
		}
	}
}

// TestBuiltinBPFSize: the built-in profiles, for the capability sets their
// rules depend on, with auditing on and off, fit the kernel's 4096
// instructions (the argument rules are the bulk of them).
func TestBuiltinBPFSize(t *testing.T) {
	for _, name := range Names() {
		base, _ := Builtin(name)
		for _, caps := range []syscalls.Caps{0, syscalls.MustCaps("CAP_NET_ADMIN", "CAP_SYS_NICE", "CAP_SYS_ADMIN")} {
			for _, audit := range []bool{false, true} {
				s, err := ContainerFilter(base.ForCaps(caps), nil, "/x.sock", audit)
				if err != nil {
					t.Fatal(err)
				}
				n, err := bpfSize(s)
				if err != nil || n > 4096 {
					t.Errorf("%s %v audit=%v: %d BPF instructions, %v", name, caps.Names(), audit, n, err)
				}
				t.Logf("%s %v audit=%v: %d rules, %d BPF instructions", name, caps.Names(), audit, len(s.Syscalls), n)
			}
		}
	}
}
