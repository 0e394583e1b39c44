package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/policy"
	"github.com/syscage/syscage/internal/sentry"
	"github.com/syscage/syscage/internal/sentry/syscalls"
)

func init() {
	commands = append(commands, cli.Command{
		Name:  "syscalls",
		Usage: "print the syscall table: what a profile does with every system call",
		Description: `Prints every system call of the architecture with its tier under the
profile (pass, deny, emulate, proxy, check), the errno or argument
conditions, and a note. It is the same table the seccomp filter is
compiled from and the sentry dispatches on.

Some rules depend on the container's capabilities (as in Docker's
profile): the table is for a container holding none of those (Docker's
default set holds none), a note says what changes with the capability,
and --caps prints the profile for a capability set (CAP_NET_ADMIN,...).

With --sentry it prints instead the sentry's own allowlist: every system
call the sentry may make once it serves a container, with the argument
condition that narrows it and why it needs it.`,
		Flags: []cli.Flag{
			cli.StringFlag{Name: "profile", Value: policy.DefaultName, Usage: "profile: " + strings.Join(policy.Names(), ", ") + ", " + policy.Learn + " or a profile file"},
			cli.StringFlag{Name: "format", Value: "table", Usage: "output format: table or json"},
			cli.BoolFlag{Name: "sentry", Usage: "print the sentry's own allowlist instead"},
			cli.BoolFlag{Name: "privileged", Usage: "as a privileged container (one granted CAP_SYS_ADMIN) gets the profile"},
			cli.StringFlag{Name: "caps", Usage: "the profile for a container holding these capabilities (comma-separated, e.g. CAP_NET_ADMIN,CAP_SYS_NICE)"},
		},
		Action: func(ctx *cli.Context) error {
			if err := argCount(ctx, 0, 0); err != nil {
				return err
			}
			if ctx.Bool("sentry") {
				return printSentryAllowlist(os.Stdout, ctx.String("format"))
			}
			p, err := policy.Resolve(ctx.String("profile"))
			if err != nil {
				return fmt.Errorf("syscalls: %w", err)
			}
			if v := ctx.String("caps"); v != "" {
				c, err := syscalls.CapsOf(strings.Split(v, ",")...)
				if err != nil {
					return fmt.Errorf("syscalls: --caps %s: %w", v, err)
				}
				p = p.ForCaps(c)
			}
			if ctx.Bool("privileged") {
				p = policy.Privileged(p)
			}
			switch f := ctx.String("format"); f {
			case "table":
				return printSyscallTable(os.Stdout, p)
			case "json":
				return printSyscallJSON(os.Stdout, p)
			default:
				return fmt.Errorf("syscalls: --format %q: must be table or json", f)
			}
		},
	})
}

// printSentryAllowlist prints the sentry's own seccomp allowlist.
func printSentryAllowlist(out io.Writer, format string) error {
	list := sentry.SentryAllowlist()
	switch format {
	case "json":
		type row struct {
			Name      string `json:"name"`
			Condition string `json:"condition"`
			Why       string `json:"why"`
		}
		rows := make([]row, 0, len(list))
		for _, a := range list {
			rows = append(rows, row{a.Name, a.Condition(), a.Why})
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	case "table":
	default:
		return fmt.Errorf("syscalls: --format %q: must be table or json", format)
	}
	w := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tCONDITION\tWHY")
	names := map[string]bool{}
	for _, a := range list {
		names[a.Name] = true
		fmt.Fprintf(w, "%s\t%s\t%s\n", a.Name, a.Condition(), a.Why)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, "the sentry's own filter: %d system calls (%d rules); anything else: EPERM\n", len(names), len(list))
	return err
}

func printSyscallTable(out io.Writer, p *policy.Profile) error {
	w := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(w, "NR\tNAME\tTIER\tERRNO/CONDITIONS\tNOTE")
	counts := map[syscalls.Tier]int{}
	conditional := 0
	all := syscalls.All()
	for _, e := range all {
		r := p.Rule(&e)
		counts[r.Tier]++
		tier := r.Tier.String()
		desc := r.Describe()
		if p.Kills(&e) {
			tier, desc = "kill", "SIGSYS: the kernel kills the process"
		}
		if r.Conditional() {
			conditional++
			tier += "*"
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", e.Nr, e.Name, tier, dash(desc), withCapNote(note(p, &e), capNote(p, &e)))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if p.Source == "" && !p.Learning {
		if err := printClosedBeyondDocker(out, p); err != nil {
			return err
		}
	}
	var parts []string
	for _, t := range syscalls.Tiers() {
		parts = append(parts, fmt.Sprintf("%s %d", t, counts[t]))
	}
	other := "deny ENOSYS"
	if f := p.File(); f != nil && f.Unlisted != policy.UnlistedBase {
		other = map[string]string{policy.UnlistedDeny: "deny EPERM", policy.UnlistedKill: "kill"}[f.Unlisted]
	}
	name := p.Name
	if p.Privileged {
		name += " (privileged container)"
	}
	fmt.Fprintf(out, "\n%d %s syscalls, profile %s: %s (* %d decided by argument values; any other number: %s); %d allowed\n",
		len(all), syscalls.Arch, name, strings.Join(parts, ", "), conditional, other, p.Passes())
	return nil
}

// printClosedBeyondDocker prints the section of a built-in profile's
// table that lists what it closes beyond Docker's default profile.
func printClosedBeyondDocker(out io.Writer, p *policy.Profile) error {
	list, err := policy.ClosedBeyondDocker(p)
	if err != nil {
		return fmt.Errorf("syscalls: %w", err)
	}
	fmt.Fprintf(out, "\nclosed beyond Docker's default: %d calls %s allows, refused by %s (all values, or those listed)\n", len(list), policy.DockerProfileSource, p.Name)
	w := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(w, "NR\tNAME\tDOCKER\tSYSCAGE\tWHY\tA PROFILE FILE OPENS IT WITH")
	for _, c := range list {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", c.Nr, c.Name, c.Docker, c.Answer, dash(c.Why), c.Opens)
	}
	return w.Flush()
}

// note is the entry's note, and for a file profile's own entries the
// file's reason ("why").
func note(p *policy.Profile, e *syscalls.Entry) string {
	if n := p.PrivilegedNote(e); n != "" {
		return n
	}
	f := p.File()
	if f == nil || !p.Listed(e) {
		return e.Note
	}
	var whys []string
	for _, ent := range f.Syscalls {
		if slices.Contains(ent.Names, e.Name) && ent.Why != "" {
			whys = append(whys, ent.Why)
		}
	}
	if len(whys) == 0 {
		return e.Note
	}
	if len(whys) > 2 {
		whys = append(whys[:2], fmt.Sprintf("+%d more", len(whys)-2))
	}
	return "profile: " + strings.Join(whys, "; ")
}

// capNote says how the entry's rule changes for a container that also
// holds a capability the profile's rule depends on (CapDeps; "" if none,
// or the profile already holds it).
func capNote(p *policy.Profile, e *syscalls.Entry) string {
	var notes []string
	for _, n := range (p.CapDeps(e) &^ p.Caps()).Names() {
		c, _ := syscalls.CapsOf(n)
		r, w := p.Rule(e), p.ForCaps(p.Caps()|c).Rule(e)
		if r.Tier == w.Tier && r.Describe() == w.Describe() {
			continue
		}
		if w.Conditional() {
			notes = append(notes, "with "+n+": other argument rules (--caps "+n+")")
			continue
		}
		desc := w.Tier.String()
		if d := w.Describe(); d != "" {
			desc += " " + d
		}
		notes = append(notes, "with "+n+": "+desc)
	}
	return strings.Join(notes, "; ")
}

func withCapNote(note, capNote string) string {
	switch {
	case capNote == "":
		return note
	case note == "":
		return capNote
	}
	return note + " [" + capNote + "]"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// syscallJSON is one line of `syscage syscalls --format json`.
type syscallJSON struct {
	Nr          int        `json:"nr"`
	Name        string     `json:"name"`
	Tier        string     `json:"tier"`
	Errno       string     `json:"errno,omitempty"`
	Conditional bool       `json:"conditional,omitempty"`
	Summary     string     `json:"summary,omitempty"`
	Cases       []caseJSON `json:"cases,omitempty"`
	Handler     bool       `json:"handler,omitempty"`
	Note        string     `json:"note,omitempty"`
	// WithCap is how the rule changes for a container that also holds a
	// capability (capNote).
	WithCap string `json:"withCap,omitempty"`
}

type caseJSON struct {
	When  []syscalls.Cond `json:"when"`
	Tier  string          `json:"tier"`
	Errno string          `json:"errno,omitempty"`
}

func errnoName(t syscalls.Tier, e unix.Errno) string {
	if t != syscalls.Deny {
		return ""
	}
	if e == 0 {
		e = unix.EPERM
	}
	return unix.ErrnoName(e)
}

func printSyscallJSON(out io.Writer, p *policy.Profile) error {
	var list []syscallJSON
	for _, e := range syscalls.All() {
		r := p.Rule(&e)
		j := syscallJSON{
			Nr: e.Nr, Name: e.Name, Tier: r.Tier.String(), Conditional: r.Conditional(),
			Summary: r.Summary, Handler: e.Handler != nil, Note: note(p, &e), WithCap: capNote(p, &e),
		}
		if !r.Conditional() {
			j.Errno = errnoName(r.Tier, r.Errno)
		}
		for _, c := range r.Cases {
			j.Cases = append(j.Cases, caseJSON{When: c.When, Tier: c.Tier.String(), Errno: errnoName(c.Tier, c.Errno)})
		}
		list = append(list, j)
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(list)
}

// closedMarkdown is the list of calls p closes beyond Docker's default
// as the Markdown table docs/profiles.md carries (checked against this
// by the tests, so the docs cannot drift from the profiles).
func closedMarkdown(p *policy.Profile) (string, error) {
	list, err := policy.ClosedBeyondDocker(p)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("| nr | call | Docker's default | `" + p.Name + "` | why | a profile file opens it with |\n|---|---|---|---|---|---|\n")
	for _, c := range list {
		opens := c.Opens
		if strings.HasPrefix(opens, "{") {
			opens = "`" + opens + "`"
		}
		fmt.Fprintf(&b, "| %d | `%s` | %s | %s | %s | %s |\n", c.Nr, c.Name, c.Docker, strings.ReplaceAll(c.Answer, "|", `\|`), strings.ReplaceAll(dash(c.Why), "|", `\|`), opens)
	}
	return b.String(), nil
}
