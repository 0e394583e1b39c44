package main

/*
#include <malloc.h>
#include <stdlib.h>

// syscage_reserve_heap prepares glibc's allocator for a container init
// that will run under the container's RLIMIT_AS: one arena for all threads,
// and a heap grown (and kept) now, while no limit applies, so that
// libseccomp can compile the sandbox's filter afterwards without mapping
// new memory. The reservation is address space, not resident memory: the
// block is never touched.
static void syscage_reserve_heap(size_t bytes) {
	mallopt(M_ARENA_MAX, 1);
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	void *p = malloc(bytes);
	free(p);
}
*/
import "C"

// initHeapReserve is what a container init keeps for libseccomp and
// glibc: the filter of the default profile merged with a container's own
// needs a few MiB while it is compiled.
const initHeapReserve = 24 << 20

func reserveInitHeap() { C.syscage_reserve_heap(C.size_t(initHeapReserve)) }
