package container

import (
	"strings"
	"testing"

	"github.com/syscage/syscage/internal/policy"
)

func TestResourceViewsSwitch(t *testing.T) {
	def, err := policy.Builtin("default")
	if err != nil {
		t.Fatal(err)
	}
	off, err := policy.ParseFile("off.json", []byte(`{"syscageProfile": 1, "name": "off", "resourceViews": false, "syscalls": []}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		p          *policy.Profile
		annotation string
		want       bool
		err        string
	}{
		{"default", def, "", true, ""},
		{"annotation off", def, "false", false, ""},
		{"annotation 0", def, "0", false, ""},
		{"annotation on", def, "true", true, ""},
		{"profile off", off, "", false, ""},
		{"annotation cannot undo the profile", off, "true", false, ""},
		{"bad value", def, "no", false, "must be true or false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := resourceViews(tc.p, tc.annotation)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("= %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
