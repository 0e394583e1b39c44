package security

// What a container sees of the host through its in-namespace sentry's
// /proc entries, which need no ptrace access (found by the review of
// 7cb2862, where TestSentryHostNetworkView failed).

import (
	"strings"
	"testing"
)

// TestSentryHostNetworkView: the sentry serves from the container's pid
// namespace but stays in the host's network namespace. /proc/<pid>/net
// is the network namespace of <pid>, and the kernel checks no ptrace
// access for it: the container's uid 1000 reads the host's sockets,
// interfaces and routes through /proc/<sentry>/net, and its root the
// host's conntrack table. The test fails while either shows there
// (7cb2862: both do).
func TestSentryHostNetworkView(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	b := newBundle(t, withArgs("sleep", "100000"), withCaps(dockerCaps))
	id := newID(t)
	t.Cleanup(func() { rt.Run(nil, "delete", "--force", id) })
	if res := rt.Run(nil, "run", "-d", "--bundle", b, id); res.Code != 0 {
		t.Fatalf("run -d: %s", res)
	}
	if place := stateField(rt, id, "sentryServesFrom"); place != "the container's pid namespace" {
		t.Fatalf("the sentry serves from %q; the test needs it inside", place)
	}
	script := `for p in /proc/[0-9]*; do grep -q syscage-sentry $p/cmdline 2>/dev/null && s=$p; done
echo "sentry $s"
echo "== own"; cat /proc/self/net/dev
echo "== sentry"; cat $s/net/dev
echo "== unix"; cat $s/net/unix | head -n 15
echo "== tcp"; cat $s/net/tcp | head -n 8
echo "== conntrack"; head -n 3 $s/net/nf_conntrack 2>/dev/null`
	res := rt.Run(nil, "exec", "--user", "1000", id, "sh", "-c", script)
	t.Logf("%s", res.Stdout)
	// The container's root (uid 0, Docker's default capabilities) reads
	// the host's connection tracking table: every connection the host
	// routes, other pods' included.
	root := rt.Run(nil, "exec", id, "sh", "-c", script)
	if _, ct, _ := strings.Cut(root.Stdout, "== conntrack"); strings.Contains(ct, "src=") {
		t.Errorf("the container's root reads the host's conntrack table through its sentry:%s", ct)
	}
	_, out, _ := strings.Cut(res.Stdout, "== own")
	own, sentry, _ := strings.Cut(out, "== sentry")
	if len(ifaces(own)) == 0 {
		t.Fatalf("no interface of the container's own in:\n%s", res.Stdout)
	}
	if ifs := ifaces(sentry); len(ifs) > len(ifaces(own)) {
		t.Errorf("uid 1000 in the container reads the host's network namespace through its sentry: interfaces %v (its own: %v)", ifs, ifaces(own))
	}
}

// ifaces lists the interface names in /proc/net/dev text (up to the next
// "==" section).
func ifaces(text string) []string {
	text, _, _ = strings.Cut(text, "==")
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if name, _, ok := strings.Cut(l, ":"); ok && !strings.Contains(name, "|") {
			out = append(out, strings.TrimSpace(name))
		}
	}
	return out
}

// TestSentryNamespacesClosed: a container granted CAP_SYS_ADMIN (but not
// CAP_SYS_PTRACE, so its sentry serves inside its pid namespace) must not
// join the sentry's namespaces (the host's) through a pidfd or
// /proc/<sentry>/ns.
func TestSentryNamespacesClosed(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	b := newBundle(t, withArgs("sleep", "100000"), withCaps(append(append([]string{}, dockerCaps...), "CAP_SYS_ADMIN")))
	id := newID(t)
	t.Cleanup(func() { rt.Run(nil, "delete", "--force", id) })
	if res := rt.Run(nil, "run", "-d", "--bundle", b, id); res.Code != 0 {
		t.Fatalf("run -d: %s", res)
	}
	if place := stateField(rt, id, "sentryServesFrom"); place != "the container's pid namespace" {
		t.Fatalf("the sentry serves from %q; the test needs it inside", place)
	}
	res := rt.Run(nil, "exec", id, "/t/sentryns")
	t.Logf("%s", res.Stdout)
	if !strings.Contains(res.Stdout, "sentry ") || strings.Contains(res.Stdout, "sentry 0") {
		t.Fatalf("sentryns did not find the sentry: %s", res)
	}
	for _, l := range strings.Split(res.Stdout, "\n") {
		if strings.HasSuffix(l, " ok") && (strings.HasPrefix(l, "setns") || strings.HasPrefix(l, "open-ns") || strings.HasPrefix(l, "host-agent-dir")) {
			t.Errorf("joined the sentry's namespaces: %s", l)
		}
	}
}
