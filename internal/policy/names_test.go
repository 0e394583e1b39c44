package policy

import (
	"slices"
	"sort"
	"testing"
)

// TestNamesMatchBuiltins: the names listed without compiling are those of
// the compiled built-ins.
func TestNamesMatchBuiltins(t *testing.T) {
	var compiled []string
	for k := range builtins() {
		compiled = append(compiled, k)
	}
	sort.Strings(compiled)
	if got := Names(); !slices.Equal(got, compiled) {
		t.Errorf("Names() = %v, the compiled built-ins are %v", got, compiled)
	}
}
