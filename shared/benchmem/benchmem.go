// Package benchmem measures the memory of a benchmark's own process over its timed run: the
// kernel's high-water mark of the resident set (Linux), reset when the watch starts, and the
// highest Go heap in use, sampled every millisecond. Benchmarks report both beside their time,
// so a claim such as "memory does not grow with the data" can be read off the table.
package benchmem

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Watch measures this process's memory from Start to Stop.
type Watch struct {
	rssReset bool
	baseHeap uint64
	stop     chan struct{}
	peakHeap chan uint64
	peak     *Peak
}

// Peak is what a Watch saw.
type Peak struct {
	// HeapMB is the highest Go heap in use (live and not yet collected objects) above what it
	// was at Start, in MiB.
	HeapMB float64
	// RSSMB is the kernel's high-water mark of the resident set since Start, in MiB: the
	// process's whole footprint (runtime, binary, buffers), not only what the run added.
	// RSSKnown is false where it cannot be read or reset (not Linux).
	RSSMB    float64
	RSSKnown bool
}

const heapMetric = "/memory/classes/heap/objects:bytes"

// Start collects garbage, returns freed memory to the system, resets the resident-set
// high-water mark (Linux: writing 5 to /proc/self/clear_refs) and starts sampling the Go heap.
func Start() *Watch {
	runtime.GC()
	debug.FreeOSMemory()
	w := &Watch{stop: make(chan struct{}), peakHeap: make(chan uint64, 1)}
	w.rssReset = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	sample := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(sample)
	w.baseHeap = sample[0].Value.Uint64()
	go func() {
		peak := w.baseHeap
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-w.stop:
				metrics.Read(sample)
				w.peakHeap <- max(peak, sample[0].Value.Uint64())
				return
			case <-tick.C:
				metrics.Read(sample)
				peak = max(peak, sample[0].Value.Uint64())
			}
		}
	}()
	return w
}

// Stop ends the watch and returns what it saw; later calls return the same.
func (w *Watch) Stop() Peak {
	if w.peak != nil {
		return *w.peak
	}
	close(w.stop)
	p := Peak{HeapMB: float64(<-w.peakHeap-w.baseHeap) / (1 << 20)}
	if hwm, ok := ProcStatusKB(os.Getpid(), "VmHWM"); ok && w.rssReset {
		p.RSSMB, p.RSSKnown = float64(hwm)/1024, true
	}
	w.peak = &p
	return p
}

// Report stops the watch and reports peak-heap-MB and (where known) peak-RSS-MB.
func (w *Watch) Report(b *testing.B) {
	p := w.Stop()
	b.ReportMetric(p.HeapMB, "peak-heap-MB")
	if p.RSSKnown {
		b.ReportMetric(p.RSSMB, "peak-RSS-MB")
	}
}

// ProcStatusKB reads a "kB" field of /proc/<pid>/status, such as VmHWM or VmRSS.
func ProcStatusKB(pid int, field string) (int64, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
