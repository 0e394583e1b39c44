// Package syscalls is syscage's system call table: one entry per syscall
// number of the architecture, each with its name, its rule under every
// built-in profile (a tier, an errno for denials and, where the decision
// rests on value arguments, conditions on them), the sentry's handler if it
// has one, and a one-line note of what is supported.
//
// The same table drives three things, so they cannot drift apart: the
// seccomp program (internal/policy compiles it), the sentry's dispatch of
// notified calls (ByNr → Entry.Handler), and `syscage syscalls`, which
// prints it as documentation.
//
// Handlers live in files named for their subsystem (sys_identity.go ...);
// the table for each architecture lives in table_<arch>.go.
package syscalls
