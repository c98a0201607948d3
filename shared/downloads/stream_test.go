package downloads_test

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"lookit.dev/platform/shared/downloads"
)

// expDataTemplates are session data of about 10 KB: 12 frames with form answers and 5 events
// each, and an exit survey. Two shapes so that responses differ.
var expDataTemplates = func() [2]json.RawMessage {
	var out [2]json.RawMessage
	for v := range out {
		var b strings.Builder
		b.WriteString("{")
		for f := range 12 {
			fmt.Fprintf(&b, `"%d-trial-%d": {"frameType": "DEFAULT", "formData": {"answer": "option %d", "confidence": %d.5, "notes": "said \"yes\", then no"},`, f, v, f, f)
			b.WriteString(`"eventTimings": [`)
			for e := range 5 {
				if e > 0 {
					b.WriteString(",")
				}
				fmt.Fprintf(&b, `{"eventType": "exp-lookit-images-audio:event%d", "timestamp": "2024-05-01T17:11:0%d.000Z", "streamTime": %d.25, "videoId": "videoStream_abcdef_%d-trial_%d"}`, e, e, e, f, v)
			}
			b.WriteString("]},")
		}
		b.WriteString(`"12-exit": {"frameType": "EXIT", "birthDate": "2023-04-20T04:00:00.000Z", "withdrawal": false, "feedback": "ok", "useOfMedia": "private", "databraryShare": "no"}}`)
		out[v] = json.RawMessage(b.String())
	}
	return out
}()

// generate fills r as the i-th response of a study (three responses per child). It reuses r
// and the templates, so the test measures the writers, not the generator.
func generate(r *downloads.Response, i int) {
	var id, child uuid.UUID
	id[0], id[1], id[2], id[15] = byte(i>>16), byte(i>>8), byte(i), 0x40
	child[0], child[1], child[2], child[15] = byte(i/3>>16), byte(i/3>>8), byte(i/3), 0x80
	r.ID = int64(i + 1)
	r.UUID = id
	r.CreatedAt = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
	r.ExpData = expDataTemplates[i%2]
	r.Sequence = r.Sequence[:0]
	for f := range 12 {
		r.Sequence = append(r.Sequence, fmt.Sprintf("%d-trial-%d", f, i%2))
	}
	r.Sequence = append(r.Sequence, "12-exit")
	r.Child.UUID = child.String()
	r.Participant.UUID = child
}

// heapInUse is the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// maxGrowth is the live-heap growth allowed between the 2,000th and the 20,000th row: a writer
// that kept even one small string per row (~60 bytes each) would exceed it.
const maxGrowth = 512 << 10

// heapGrowth writes n generated responses with write and returns how much the live heap grew
// from the 2,000th row to the last.
func heapGrowth(t *testing.T, n int, write func(*downloads.Response) error) int64 {
	t.Helper()
	r := handMadeResponse(t)
	var start uint64
	for i := range n {
		if i == 2000 {
			start = heapInUse()
		}
		generate(r, i)
		if err := write(r); err != nil {
			t.Fatal(err)
		}
	}
	growth := int64(heapInUse()) - int64(start)
	t.Logf("live heap %d bytes after 2,000 rows, %+d bytes after %d", start, growth, n)
	return growth
}

// TestMemoryDoesNotGrowWithRows streams 20,000 responses of ~10 KB of exp_data through each
// writer into io.Discard and checks that the live heap does not grow with the rows written.
func TestMemoryDoesNotGrowWithRows(t *testing.T) {
	n := 20000
	if raceEnabled {
		n = 6000
	}
	if len(expDataTemplates[0]) < 9000 {
		t.Fatalf("exp_data template is only %d bytes", len(expDataTemplates[0]))
	}
	// First pass of the overview, to build its writer.
	var keys downloads.KeySet
	if growth := heapGrowth(t, n, keys.Add); growth > maxGrowth {
		t.Errorf("KeySet: live heap grew %d bytes over %d rows", growth, n-2000)
	}
	writers := map[string]writer{
		"summary":           downloads.NewSummaryCSV(io.Discard, allOptions(t), keys.Keys()),
		"all-responses":     downloads.NewResponsesJSON(io.Discard, allOptions(t)),
		"children":          downloads.NewChildrenCSV(io.Discard, allOptions(t)),
		"frame data":        downloads.NewFrameDataCSV(io.Discard),
		"demographics":      downloads.NewDemographicsCSV(io.Discard, allOptions(t)),
		"demographics JSON": downloads.NewDemographicsJSON(io.Discard, allOptions(t)),
	}
	for name, w := range writers {
		if (testing.Short() || raceEnabled) && name != "summary" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			if growth := heapGrowth(t, n, w.Write); growth > maxGrowth {
				t.Errorf("live heap grew %d bytes over %d rows", growth, n-2000)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
	var d downloads.FrameDictionary
	if growth := heapGrowth(t, n, d.Add); growth > maxGrowth {
		t.Errorf("FrameDictionary: live heap grew %d bytes over %d rows", growth, n-2000)
	}

	// The measurement itself must catch a writer that keeps a little of every row (256 bytes:
	// over 4,000 rows, twice maxGrowth).
	var kept [][]byte
	leaky := func(r *downloads.Response) error {
		kept = append(kept, make([]byte, 256))
		return nil
	}
	if growth := heapGrowth(t, n, leaky); growth <= maxGrowth {
		t.Errorf("a writer keeping each response's UUID grew the heap by only %d bytes: the check cannot fail", growth)
	}
	runtime.KeepAlive(kept)
}

func BenchmarkSummaryCSV(b *testing.B) {
	r := handMadeResponse(b)
	generate(r, 0)
	var keys downloads.KeySet
	if err := keys.Add(r); err != nil {
		b.Fatal(err)
	}
	s := downloads.NewSummaryCSV(io.Discard, downloads.DefaultOptions(), keys.Keys())
	b.SetBytes(int64(len(r.ExpData)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		generate(r, i)
		if err := s.Write(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFrameDataCSV(b *testing.B) {
	r := handMadeResponse(b)
	f := downloads.NewFrameDataCSV(io.Discard)
	b.SetBytes(int64(len(expDataTemplates[0])))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		generate(r, i)
		if err := f.Write(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResponsesJSON(b *testing.B) {
	r := handMadeResponse(b)
	j := downloads.NewResponsesJSON(io.Discard, downloads.DefaultOptions())
	b.SetBytes(int64(len(expDataTemplates[0])))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		generate(r, i)
		if err := j.Write(r); err != nil {
			b.Fatal(err)
		}
	}
}
