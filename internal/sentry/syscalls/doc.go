// Package syscalls is syscage's system call table: facts, no policy. One
// entry per syscall number of the architecture, each with its name, the
// sentry's handler if it has one (and the tier it serves), and a one-line
// note of what is supported; beside it the arguments' kinds and widths
// (Entry.Args, signatures_linux.go). It also defines the vocabulary
// profiles are written in: tiers, rules, cases and conditions on value
// arguments, capability sets. The profiles themselves, built-in ones
// included, are data (internal/policy).
//
// With a profile the table drives three things, so they cannot drift
// apart: the seccomp program (internal/policy compiles it), the sentry's
// dispatch of notified calls (ByNr → Entry.Handler), and `syscage
// syscalls`, which prints it as documentation.
//
// Handlers live in files named for their subsystem (sys_identity.go ...);
// the table for each architecture lives in table_<arch>.go.
package syscalls
