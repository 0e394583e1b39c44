package syscalls

// ColumnRule is the rule the built-in profile (default, strict) was first
// written to give the entry for a container holding c: the cross-check of
// internal/policy/builtin/*.json (builtin_test.go).
func ColumnRule(profile string, e *Entry, c Caps) Rule {
	if profile == "strict" {
		return e.StrictFor(c)
	}
	return e.DefaultFor(c)
}

// ColumnCap is the capability the entry's first-written rule depends on.
func ColumnCap(e *Entry) (int, bool) {
	cr, ok := e.CapRuleOf()
	return cr.Cap, ok
}
