// Package test holds syscage's integration tests: they build the real
// syscage binary once, prepare real OCI bundles from the host's static
// busybox, and drive the binary through its runc-compatible command line as
// root — the lifecycle, exec, kill, pause/resume, ps, events, list, update,
// the config.json features libcontainer implements (hooks, namespaces,
// seccomp, masked paths ...), terminals through console sockets, bad input,
// and leak checks over many cycles; `syscage do` (do_test.go); and, as the
// unprivileged user sctest through setpriv, rootless do and run
// (rootless_test.go). Every test uses its own --root and
// bundle, so they run in parallel.
//
// Run them as root with `go test -tags seccomp ./test/...`. Nothing is
// skipped: without root, or when the binary does not build, TestMain fails.
//
// The binary, bundles and commands come from test/internal/sandboxtest,
// which the security and policy tests share; harness_test.go holds what
// these tests add (state, lifecycle steps, leak checks), and the other
// files hold the tests, one area each.
package test
