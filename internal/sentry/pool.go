package sentry

import "golang.org/x/sys/unix"

// Bounds on proxied calls. A proxied call (connect under strict) may
// block for as long as the kernel lets it (a TCP connect to an address
// that never answers: about two minutes of SYN retries, then ETIMEDOUT),
// and each one in progress holds an OS thread of the sentry. A container
// that starts thousands at once would otherwise make its sentry start
// thousands of threads — outside the container's cgroup — until the Go
// runtime's thread limit kills it.
const (
	// MaxProxying is how many proxied calls one sentry performs at once.
	MaxProxying = 64
	// MaxProxyQueue is how many more wait for a slot (a goroutine each,
	// no thread); beyond that a proxied call is answered EAGAIN at once,
	// as the kernel answers a call that cannot get the resources it
	// needs now.
	MaxProxyQueue = 1024
)

// proxyPool runs proxied calls on at most MaxProxying threads, with at
// most MaxProxyQueue more waiting.
type proxyPool struct {
	slots   chan struct{} // held while a call is performed
	waiting chan struct{} // held while a call waits for a slot
}

func newProxyPool(slots, queue int) *proxyPool {
	return &proxyPool{slots: make(chan struct{}, slots), waiting: make(chan struct{}, slots+queue)}
}

// submit runs call on a goroutine of its own once a slot is free, and
// reports true; it reports false, running nothing, when the pool and its
// queue are full (the caller answers EAGAIN).
func (p *proxyPool) submit(call func()) bool {
	select {
	case p.waiting <- struct{}{}:
	default:
		return false
	}
	go func() {
		defer func() { <-p.waiting }()
		p.slots <- struct{}{}
		defer func() { <-p.slots }()
		call()
	}()
	return true
}

// acquire takes a slot for a call its caller performs on its own thread
// (a receiver, see listener.handle), and reports whether one was free;
// release gives it back.
func (p *proxyPool) acquire() bool {
	select {
	case p.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (p *proxyPool) release() { <-p.slots }

// errBusy is what a proxied call gets when its sentry's pool is full.
const errBusy = unix.EAGAIN
