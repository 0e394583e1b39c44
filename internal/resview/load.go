package resview

import (
	"math"
	"sync"
	"time"
)

// Load approximates a container's load average without a sampler: the
// number of CPUs its cgroup kept busy, averaged exponentially over 1, 5
// and 15 minutes as the kernel averages its run queue. It is updated
// whenever it is read, from the cgroup's CPU time since the last read
// (the busy rate over the gap stands for every moment of it); like the
// kernel's at boot, the averages start at 0 when the container starts.
// Tasks waiting for a CPU or for I/O are not counted (the kernel's
// loadavg counts both): the cgroup keeps no such count cheaply. Safe for
// concurrent use.
type Load struct {
	mu        sync.Mutex
	lastAt    time.Duration // uptime at the last update
	lastUsage uint64        // CPU ns at the last update
	avg       [3]float64
}

var loadPeriods = [3]float64{60, 300, 900}

// Update folds the cgroup's CPU time usageNs at uptime (since the
// container started) into the averages and returns them.
func (l *Load) Update(uptime time.Duration, usageNs uint64) [3]float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	dt := uptime - l.lastAt
	if dt <= 0 || usageNs < l.lastUsage {
		return l.avg
	}
	busy := float64(usageNs-l.lastUsage) / float64(dt.Nanoseconds())
	for i, p := range loadPeriods {
		a := math.Exp(-dt.Seconds() / p)
		l.avg[i] = l.avg[i]*a + busy*(1-a)
	}
	l.lastAt, l.lastUsage = uptime, usageNs
	return l.avg
}
