package syscalls

import (
	"fmt"
	"strings"
)

// ArgKind is what a syscall argument is, as the kernel declares it
// (SYSCALL_DEFINEn): the kind fixes the width the kernel reads and
// whether the value is an address in the caller's memory.
type ArgKind uint8

// Argument kinds.
const (
	// ArgUnknown is an argument the table has no fact for: treated as a
	// 64-bit value.
	ArgUnknown ArgKind = iota
	ArgInt             // int: 32 bits, signed
	ArgUint            // unsigned int: 32 bits
	ArgLong            // long, off_t, ssize_t: 64 bits, signed
	ArgUlong           // unsigned long, size_t: 64 bits
	ArgFd              // a file descriptor (int): 32 bits
	ArgFlags           // a flags word, unsigned int: 32 bits
	ArgFlags64         // a flags word, unsigned long (clone's): 64 bits
	ArgPtr             // an address in the caller's memory: 64 bits
)

var argKindNames = map[string]ArgKind{
	"int": ArgInt, "uint": ArgUint, "long": ArgLong, "ulong": ArgUlong, "fd": ArgFd,
	"flags": ArgFlags, "flags64": ArgFlags64, "ptr": ArgPtr,
}

func (k ArgKind) String() string {
	for n, v := range argKindNames {
		if v == k {
			return n
		}
	}
	return "unknown"
}

// Width is the number of low bits of the register the kernel reads for an
// argument of this kind (32 or 64).
func (k ArgKind) Width() uint {
	switch k {
	case ArgInt, ArgUint, ArgFd, ArgFlags:
		return 32
	}
	return 64
}

// Arg is the fact about one argument of a syscall.
type Arg struct {
	Name string
	Kind ArgKind
}

// Width is the bits the kernel reads (32 or 64).
func (a Arg) Width() uint { return a.Kind.Width() }

// Mask is the argument's width as a mask of low bits.
func (a Arg) Mask() uint64 {
	if a.Width() == 32 {
		return width32
	}
	return width64
}

// Memory reports whether the argument points into the caller's memory (a
// filter compares the address, never what it points to).
func (a Arg) Memory() bool { return a.Kind == ArgPtr }

func (a Arg) String() string { return a.Kind.String() + " " + a.Name }

// Args returns the entry's arguments, in order, and whether the table
// records them: for an entry without facts (known false) every argument
// counts as a 64-bit value of unknown kind.
func (e *Entry) Args() (args []Arg, known bool) {
	a, ok := argFacts[e.Name]
	return a, ok
}

// ArgAt is the fact about argument i of the entry: for an entry without
// facts, an ArgUnknown named argN; ok is false for an index past the
// arguments the entry is known to take.
func (e *Entry) ArgAt(i uint) (Arg, bool) {
	args, known := e.Args()
	if !known {
		return Arg{Name: fmt.Sprintf("arg%d", i)}, i < 6
	}
	if i >= uint(len(args)) {
		return Arg{}, false
	}
	return args[i], true
}

// argFacts are the entries' arguments, parsed from signatures.
var argFacts = func() map[string][]Arg {
	m := make(map[string][]Arg, len(signatures))
	for name, sig := range signatures {
		args, err := parseSignature(sig)
		if err != nil {
			panic(fmt.Sprintf("syscalls: signature of %s: %v", name, err))
		}
		m[name] = args
	}
	return m
}()

// parseSignature reads "kind name, kind name ..." ("" for no arguments).
func parseSignature(sig string) ([]Arg, error) {
	args := []Arg{}
	if strings.TrimSpace(sig) == "" {
		return args, nil
	}
	for _, part := range strings.Split(sig, ",") {
		f := strings.Fields(part)
		if len(f) != 2 {
			return nil, fmt.Errorf("%q: want \"kind name\"", part)
		}
		k, ok := argKindNames[f[0]]
		if !ok {
			return nil, fmt.Errorf("%q: unknown kind %q", part, f[0])
		}
		args = append(args, Arg{Name: f[1], Kind: k})
	}
	if len(args) > 6 {
		return nil, fmt.Errorf("%d arguments; a syscall has at most 6", len(args))
	}
	return args, nil
}
