package kernelcheck

import "testing"

// TestProbe: this development and CI kernel (6.x) has every feature; each
// feature says what it is for and what happens without it.
func TestProbe(t *testing.T) {
	ma, mi, err := release()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range Probe() {
		if f.Since == "" || f.UsedFor == "" || f.Without == "" || f.Need == "" {
			t.Errorf("%s: incomplete description %+v", f.Name, f)
		}
		var sMa, sMi int
		for i, c := range f.Since {
			if c == '.' {
				for _, d := range f.Since[i+1:] {
					sMi = sMi*10 + int(d-'0')
				}
				break
			}
			sMa = sMa*10 + int(c-'0')
		}
		newer := ma > sMa || (ma == sMa && mi >= sMi)
		if newer && !f.Present {
			t.Errorf("%s (since %s) missing on %d.%d: %s", f.Name, f.Since, ma, mi, f.Detail)
		}
	}
	if m := MissingRequired(Probe()); len(m) > 0 && ma >= 6 {
		t.Errorf("required features missing: %+v", m)
	}
}

func TestMinRelease(t *testing.T) {
	ma, mi, _ := release()
	for _, tc := range []struct {
		major, minor int
		want         bool
	}{
		{ma, mi, true},
		{ma - 1, 99, true},
		{ma, mi + 1, false},
		{ma + 1, 0, false},
		{2, 6, true},
	} {
		if got, _ := minRelease(tc.major, tc.minor)(); got != tc.want {
			t.Errorf("minRelease(%d, %d) on %d.%d = %v, want %v", tc.major, tc.minor, ma, mi, got, tc.want)
		}
	}
}
