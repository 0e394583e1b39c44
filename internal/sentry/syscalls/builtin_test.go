package syscalls_test

// The built-in profiles are profile files (internal/policy/builtin); this
// test checks them against the rules they were first written as
// (rules_linux_test.go, columns_amd64_test.go), and writes them from
// those rules with -update-builtins. It lives here, in an external test
// package, because those rules are this package's test data.

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/policy"
	"github.com/syscage/syscage/internal/sentry/syscalls"
)

var updateBuiltins = flag.Bool("update-builtins", false, "rewrite builtin/*.json from the syscall table's Default and Strict columns")

func columnRule(name string, e *syscalls.Entry, c syscalls.Caps) syscalls.Rule {
	return syscalls.ColumnRule(name, e, c)
}

var fileOps = map[syscalls.Op]string{
	syscalls.OpEq: "eq", syscalls.OpNe: "ne", syscalls.OpLt: "lt", syscalls.OpLe: "le",
	syscalls.OpGt: "gt", syscalls.OpGe: "ge", syscalls.OpMaskedEq: "masked-eq",
}

// TestBuiltinFilesMatchTable checks that the embedded built-in profile
// files give every entry exactly the rule the table's columns give it,
// for every capability set that matters (with -update-builtins it writes
// the files from the columns instead).
func TestBuiltinFilesMatchTable(t *testing.T) {
	if *updateBuiltins {
		for _, name := range policy.Names() {
			data, err := exportBuiltin(name)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join("..", "..", "policy", "builtin", name+".json"), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	capSets := []syscalls.Caps{0, syscalls.MustCaps("CAP_NET_ADMIN"), syscalls.MustCaps("CAP_SYS_NICE"),
		syscalls.MustCaps("CAP_NET_ADMIN", "CAP_SYS_NICE"), syscalls.Caps(1<<41 - 1)}
	for _, name := range policy.Names() {
		p, err := policy.Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		if p.File() != nil || p.Source != "" || p.Base != "" || !p.Listed(&syscalls.Entry{}) {
			t.Errorf("%s: a built-in must look like one (no file, source or base; lists every call)", name)
		}
		if p.Description != policy.Describe(name) {
			t.Errorf("%s: description %q, want %q", name, p.Description, policy.Describe(name))
		}
		cols := policy.NewForCaps(name, func(e *syscalls.Entry, c syscalls.Caps) syscalls.Rule { return columnRule(name, e, c) })
		for _, c := range capSets {
			q, w := p.ForCaps(c), cols.ForCaps(c)
			for _, e := range syscalls.All() {
				got, want := q.Rule(&e), w.Rule(&e)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s/%s with %v:\n got  %+v\n want %+v", name, e.Name, c.Names(), got, want)
				}
			}
		}
	}
}

// exportBuiltin writes a built-in profile's columns as a profile file:
// one line per entry; unconditional rules grouped by outcome, conditional
// ones one entry per case (calls with the same rule share entries); a
// call whose rule depends on a capability gets its entries twice, with
// withoutCaps and withCaps.
func exportBuiltin(name string) ([]byte, error) {
	type group struct {
		rule        syscalls.Rule
		with, witho []string
		names       []string
	}
	var uncond, cond []*group
	add := func(list *[]*group, e *syscalls.Entry, r syscalls.Rule, with, witho []string) {
		for _, g := range *list {
			if reflect.DeepEqual(g.rule, r) && reflect.DeepEqual(g.with, with) && reflect.DeepEqual(g.witho, witho) {
				g.names = append(g.names, e.Name)
				return
			}
		}
		*list = append(*list, &group{rule: r, with: with, witho: witho, names: []string{e.Name}})
	}
	place := func(e *syscalls.Entry, r syscalls.Rule, with, witho []string) {
		if r.Conditional() {
			add(&cond, e, r, with, witho)
		} else {
			add(&uncond, e, r, with, witho)
		}
	}
	for _, e := range syscalls.All() {
		without := columnRule(name, &e, 0)
		cp, ok := syscalls.ColumnCap(&e)
		if !ok {
			place(&e, without, nil, nil)
			continue
		}
		with := columnRule(name, &e, 1<<cp)
		if reflect.DeepEqual(with, without) {
			place(&e, without, nil, nil)
			continue
		}
		cn := []string{syscalls.CapName(cp)}
		place(&e, without, nil, cn)
		place(&e, with, cn, nil)
	}
	var lines [][]byte
	entry := func(fe policy.FileEntry) error {
		b, err := json.Marshal(fe)
		lines = append(lines, b)
		return err
	}
	outcome := func(o syscalls.Outcome) (string, string) {
		if o.Tier == syscalls.Deny {
			errno := o.Errno
			if errno == 0 {
				errno = unix.EPERM
			}
			return o.Tier.String(), unix.ErrnoName(errno)
		}
		return o.Tier.String(), ""
	}
	for _, g := range uncond {
		tier, errno := outcome(syscalls.Outcome{Tier: g.rule.Tier, Errno: g.rule.Errno})
		if err := entry(policy.FileEntry{Names: g.names, Tier: tier, Errno: errno, WithCaps: g.with, WithoutCaps: g.witho}); err != nil {
			return nil, err
		}
	}
	for _, g := range cond {
		for k, c := range g.rule.Cases {
			tier, errno := outcome(c.Outcome)
			fe := policy.FileEntry{Names: g.names, Tier: tier, Errno: errno, WithCaps: g.with, WithoutCaps: g.witho}
			if k == 0 {
				fe.Summary = g.rule.Summary
			}
			for _, w := range c.When {
				arg, val := w.Index, w.Value
				fc := policy.FileCond{Arg: &arg, Op: fileOps[w.Op], Value: &val}
				if w.Op == syscalls.OpMaskedEq {
					m := w.Mask
					fc.Mask = &m
				}
				fe.When = append(fe.When, fc)
			}
			if err := entry(fe); err != nil {
				return nil, err
			}
		}
	}
	var b bytes.Buffer
	head := func(k string, v any) {
		j, _ := json.Marshal(v)
		fmt.Fprintf(&b, "  %q: %s,\n", k, j)
	}
	b.WriteString("{\n")
	head("syscageProfile", policy.FileVersion)
	head("name", name)
	head("description", policy.Describe(name))
	head("base", policy.BaseNone)
	b.WriteString("  \"syscalls\": [\n")
	for i, l := range lines {
		b.WriteString("    ")
		b.Write(l)
		if i < len(lines)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("  ]\n}\n")
	return b.Bytes(), nil
}
