package policy

import "testing"

// BenchmarkLoadBuiltins is the start-up cost of compiling the embedded
// built-in profiles (every syscage process pays it once).
func BenchmarkLoadBuiltins(b *testing.B) {
	for i := 0; i < b.N; i++ {
		loadBuiltins()
	}
}
