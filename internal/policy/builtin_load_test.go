package policy

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

// BenchmarkLoadBuiltins is the start-up cost of compiling the embedded
// built-in profiles (every syscage process pays it once).
func BenchmarkLoadBuiltins(b *testing.B) {
	for i := 0; i < b.N; i++ {
		loadBuiltins()
	}
}

// TestBuiltinFilesCheck loads each embedded built-in as a user's profile
// file (renamed), with every check the loader skips for built-ins (the
// disjointness of cases): the files must pass them all, and give the
// same rules.
func TestBuiltinFilesCheck(t *testing.T) {
	for _, name := range Names() {
		data, err := BuiltinFile(name)
		if err != nil {
			t.Fatal(err)
		}
		renamed := bytes.Replace(data, []byte(`"name": "`+name+`"`), []byte(`"name": "copy-of-`+name+`"`), 1)
		p, err := ParseFile(name+".json", renamed)
		if err != nil {
			t.Fatalf("%s as a user's file: %v", name, err)
		}
		b, _ := Builtin(name)
		for _, c := range []syscalls.Caps{0, syscalls.Caps(1<<41 - 1)} {
			for _, e := range syscalls.All() {
				if got, want := p.ForCaps(c).Rule(&e), b.ForCaps(c).Rule(&e); !reflect.DeepEqual(got, want) {
					t.Errorf("%s/%s: %v as a file, %v built in", name, e.Name, got, want)
				}
			}
		}
	}
}
