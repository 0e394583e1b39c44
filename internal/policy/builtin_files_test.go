package policy

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

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

var updateBuiltins = flag.Bool("update-builtins", false, "rewrite builtin/*.json from the syscall table's Default and Strict columns")

// columnRule is the rule the table's columns give an entry under a
// built-in profile: the cross-check for the embedded profile files.
func columnRule(name string, e *syscalls.Entry, c syscalls.Caps) syscalls.Rule {
	if name == "strict" {
		return e.StrictFor(c)
	}
	return e.DefaultFor(c)
}

// TestBuiltinFilesMatchTable checks that the embedded built-in profile
// files give every entry exactly the rule the table's columns give it,
// for every capability set that matters (with -update-builtins it writes
// the files from the columns instead).
func TestBuiltinFilesMatchTable(t *testing.T) {
	if *updateBuiltins {
		for _, name := range Names() {
			data, err := exportBuiltin(name)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join("builtin", name+".json"), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	capSets := []syscalls.Caps{0, syscalls.MustCaps("CAP_NET_ADMIN"), syscalls.MustCaps("CAP_SYS_NICE"),
		syscalls.MustCaps("CAP_NET_ADMIN", "CAP_SYS_NICE"), syscalls.Caps(1<<41 - 1)}
	for _, name := range Names() {
		p, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		if p.File() != nil || p.Source != "" || p.Base != "" || !p.Listed(&syscalls.Entry{}) {
			t.Errorf("%s: a built-in must look like one (no file, source or base; lists every call)", name)
		}
		if p.Description != descriptions[name] {
			t.Errorf("%s: description %q, want %q", name, p.Description, descriptions[name])
		}
		for _, c := range capSets {
			q := p.ForCaps(c)
			for _, e := range syscalls.All() {
				got, want := q.ruleFor(&e, c), columnRule(name, &e, c)
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
		cr, ok := e.CapRuleOf()
		if !ok {
			place(&e, without, nil, nil)
			continue
		}
		with := columnRule(name, &e, 1<<cr.Cap)
		if reflect.DeepEqual(with, without) {
			place(&e, without, nil, nil)
			continue
		}
		cn := []string{syscalls.CapName(cr.Cap)}
		place(&e, without, nil, cn)
		place(&e, with, cn, nil)
	}
	var lines [][]byte
	entry := func(fe FileEntry) error {
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
		if err := entry(FileEntry{Names: g.names, Tier: tier, Errno: errno, WithCaps: g.with, WithoutCaps: g.witho}); err != nil {
			return nil, err
		}
	}
	for _, g := range cond {
		for k, c := range g.rule.Cases {
			tier, errno := outcome(c.Outcome)
			fe := FileEntry{Names: g.names, Tier: tier, Errno: errno, WithCaps: g.with, WithoutCaps: g.witho}
			if k == 0 {
				fe.Summary = g.rule.Summary
			}
			for _, w := range c.When {
				arg, val := w.Index, w.Value
				fc := FileCond{Arg: &arg, Op: fileOpName(w.Op), Value: &val}
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
	head("syscageProfile", FileVersion)
	head("name", name)
	head("description", descriptions[name])
	head("base", BaseNone)
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
