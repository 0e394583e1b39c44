package container

import (
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// sentryIDsDir records which sentry ids are taken: one file per id, named
// by it, holding the state dir of the container whose sentry (and views
// server) runs as it. Created with O_EXCL, so two containers never share
// an id: a sentry's id is its own, and nothing but root can signal it,
// trace it or share its per-user limits (a hash into the range alone let
// two containers' sentries share one, as the review found).
func sentryIDsDir() string { return filepath.Join(agentDirectory(), "ids") }

// sentryIDFile, in a container's state dir, is the id its sentry holds.
const sentryIDFile = "sentry.id"

// allocateSentryID takes a free id of r for the container of stateDir,
// starting from a hash of the state dir, and records it in both places.
// An id whose record names a state dir that no longer exists (a container
// removed without its runtime's delete) is taken back.
func allocateSentryID(r IDRange, stateDir string) (uint32, error) {
	return allocateIDIn(sentryIDsDir(), r, stateDir)
}

// allocateIDIn is allocateSentryID with the records in dir.
func allocateIDIn(dir string, r IDRange, stateDir string) (uint32, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, fmt.Errorf("sentry id: %w", err)
	}
	h := fnv.New32a()
	h.Write([]byte(stateDir))
	start := h.Sum32()
	for i := uint32(0); i < r.Size; i++ {
		id := r.First + (start+i)%r.Size
		path := filepath.Join(dir, strconv.FormatUint(uint64(id), 10))
		for attempt := 0; attempt < 2; attempt++ {
			f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err == nil {
				_, werr := f.WriteString(stateDir)
				if cerr := f.Close(); werr == nil {
					werr = cerr
				}
				if werr == nil {
					werr = os.WriteFile(filepath.Join(stateDir, sentryIDFile), []byte(strconv.FormatUint(uint64(id), 10)), 0o600)
				}
				if werr != nil {
					os.Remove(path)
					return 0, fmt.Errorf("sentry id %d: %w", id, werr)
				}
				return id, nil
			}
			if !errors.Is(err, os.ErrExist) || !staleSentryID(path) {
				break
			}
			os.Remove(path)
		}
	}
	return 0, fmt.Errorf("sentry id: every id of %d..%d is taken (sentryIDs in the runtime config)", r.First, uint64(r.First)+uint64(r.Size)-1)
}

// staleSentryID reports whether the record at path names a state dir that
// is gone.
func staleSentryID(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	owner := strings.TrimSpace(string(data))
	if owner == "" {
		return false // being written
	}
	_, err = os.Stat(owner)
	return errors.Is(err, os.ErrNotExist)
}

// releaseSentryID gives back the id the container of stateDir holds.
func releaseSentryID(stateDir string) { releaseIDIn(sentryIDsDir(), stateDir) }

// releaseIDIn is releaseSentryID with the records in dir.
func releaseIDIn(dir, stateDir string) {
	data, err := os.ReadFile(filepath.Join(stateDir, sentryIDFile))
	if err != nil {
		return
	}
	id := strings.TrimSpace(string(data))
	path := filepath.Join(dir, id)
	if owner, err := os.ReadFile(path); err == nil && string(owner) == stateDir {
		os.Remove(path)
	}
}
