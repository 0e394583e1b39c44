package syscalls

import "testing"

func TestSignaturesNameTableEntries(t *testing.T) {
	for name := range signatures {
		if _, ok := ByName(name); !ok {
			t.Errorf("signatures names %s, which is not in the %s table", name, Arch)
		}
	}
}

// TestRulesFitArgumentFacts checks every condition of the built-in rules
// against the argument facts: the call has facts, the argument exists,
// and the condition looks at no bit the kernel does not read.
func TestRulesFitArgumentFacts(t *testing.T) {
	for _, e := range All() {
		rules := map[string]Rule{"default": e.col(0), "strict": e.col(1)}
		if cr, ok := e.CapRuleOf(); ok {
			rules["default+"+CapName(cr.Cap)] = cr.Default
			rules["strict+"+CapName(cr.Cap)] = cr.Strict
		}
		for prof, r := range rules {
			if !r.Conditional() {
				continue
			}
			if _, known := e.Args(); !known {
				t.Errorf("%s: %s decides it by argument value, but the table has no argument facts for it", e.Name, prof)
				continue
			}
			for _, c := range r.Cases {
				for _, w := range c.When {
					a, ok := e.ArgAt(w.Index)
					if !ok {
						t.Errorf("%s/%s: %v: no argument %d", e.Name, prof, w, w.Index)
						continue
					}
					if a.Memory() {
						t.Errorf("%s/%s: %v compares %s, an address", e.Name, prof, w, a)
					}
					bits := w.Value
					if w.Op == OpMaskedEq {
						bits |= w.Mask
					}
					if bits&^a.Mask() != 0 {
						t.Errorf("%s/%s: %v looks above the %d bits of %s", e.Name, prof, w, a.Width(), a)
					}
				}
			}
		}
	}
}

func TestParseSignature(t *testing.T) {
	for _, tc := range []struct {
		sig  string
		want []Arg
		err  bool
	}{
		{"", []Arg{}, false},
		{"fd fd, uint cmd, ulong arg", []Arg{{"fd", ArgFd}, {"cmd", ArgUint}, {"arg", ArgUlong}}, false},
		{"int", nil, true},
		{"word x", nil, true},
		{"int a, int b, int c, int d, int e, int f, int g", nil, true},
	} {
		got, err := parseSignature(tc.sig)
		if (err != nil) != tc.err {
			t.Errorf("%q: err %v, want error %v", tc.sig, err, tc.err)
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("%q: %v, want %v", tc.sig, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%q: %v, want %v", tc.sig, got, tc.want)
			}
		}
	}
}

func TestArgAt(t *testing.T) {
	ioctl, _ := ByName("ioctl")
	if a, ok := ioctl.ArgAt(1); !ok || a.Name != "cmd" || a.Width() != 32 || a.Memory() {
		t.Errorf("ioctl arg 1 = %v %v", a, ok)
	}
	if _, ok := ioctl.ArgAt(3); ok {
		t.Error("ioctl has an argument 3")
	}
	read, _ := ByName("read")
	if a, _ := read.ArgAt(1); !a.Memory() || a.Width() != 64 {
		t.Errorf("read arg 1 = %v", a)
	}
	getpid, _ := ByName("getpid")
	if _, ok := getpid.ArgAt(0); ok {
		t.Error("getpid has an argument 0")
	}
	ustat, _ := ByName("ustat") // no facts: six unknown 64-bit arguments
	if a, ok := ustat.ArgAt(5); !ok || a.Width() != 64 || a.Kind != ArgUnknown {
		t.Errorf("ustat arg 5 = %v %v", a, ok)
	}
}
