package syscalls

// Span returns OpMaskedEq conditions on argument i that together match
// exactly the values (seen through width, a mask of low bits) in [lo, hi]
// except those listed; the alternatives are disjoint. policy uses it to
// spell out the complement of a profile file's cases.
func Span(i uint, width, lo, hi uint64, except ...uint64) []Cond {
	return span(i, width, lo, hi, except...)
}
