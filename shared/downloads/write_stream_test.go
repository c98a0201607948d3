package downloads_test

import (
	"context"
	"io"
	"runtime"
	"testing"

	"lookit.dev/platform/shared/downloads"
)

// generatedSource yields n generated responses (see generate) in one reused Response, and
// measures the live heap in each pass from the warm-th response to the last.
type generatedSource struct {
	t      *testing.T
	n      int
	warm   int
	growth []int64 // per pass
}

func (s *generatedSource) Each(ctx context.Context, _ downloads.Pass, fn func(*downloads.Response) error) error {
	// generate makes children of three consecutive responses, so id order is also child order.
	r := handMadeResponse(s.t)
	var start uint64
	for i := range s.n {
		if i == s.warm {
			start = settledHeap()
		}
		generate(r, i)
		if err := fn(r); err != nil {
			return err
		}
	}
	s.growth = append(s.growth, int64(settledHeap())-int64(start))
	return nil
}

// settledHeap is heapInUse with sync.Pool's caches emptied too (a pool's objects outlive one
// collection): archive/zip pools its compressors, about 1 MB each.
func settledHeap() uint64 {
	runtime.GC()
	return heapInUse()
}

// zipRecordBytes bounds what the zip format makes a writer keep per entry until its directory
// is written at the end: the entry's header (name, sizes, offset, time).
const zipRecordBytes = 512

// TestWriteMemoryDoesNotGrowWithResponses checks Write as TestMemoryDoesNotGrowWithRows checks
// the writers: the live heap must not grow with the responses in any pass, except by the zip
// directory's records in the pass that writes an entry per response (two in the Psych-DS zip).
// Keeping each response's exp_data (~10 KB) would exceed that twentyfold.
func TestWriteMemoryDoesNotGrowWithResponses(t *testing.T) {
	short := raceEnabled || testing.Short() // the race detector slows the zips' deflating most
	for _, c := range []struct {
		f             downloads.File
		n, shortN     int
		entriesInPass map[int]int // pass → zip entries per response
	}{
		{downloads.SummaryFile, 4000, 1200, nil},
		{downloads.PsychDSFile, 3000, 300, map[int]int{4: 2}},
		{downloads.FrameDataZipFile, 3000, 0, map[int]int{1: 1}}, // the Psych-DS zip's frame data does the same
	} {
		n := c.n
		if short {
			n = c.shortN
		}
		if n == 0 {
			continue
		}
		warm := n / 4
		t.Run(downloads.FileName(testStudy, c.f, downloads.Options{}), func(t *testing.T) {
			src := &generatedSource{t: t, n: n, warm: warm}
			res, err := downloads.Write(context.Background(), io.Discard, c.f, testStudy, allOptions(t), src)
			if err != nil {
				t.Fatal(err)
			}
			if res.Responses != n || len(src.growth) != downloads.Passes(c.f) {
				t.Fatalf("%d responses in %d passes", res.Responses, len(src.growth))
			}
			for i, g := range src.growth {
				allowed := int64(maxGrowth + c.entriesInPass[i+1]*zipRecordBytes*(n-warm))
				t.Logf("pass %d: live heap %+d bytes over %d responses (%.0f per response), %d allowed",
					i+1, g, n-warm, float64(g)/float64(n-warm), allowed)
				if g > allowed {
					t.Errorf("pass %d: live heap grew %d bytes over %d responses, over %d", i+1, g, n-warm, allowed)
				}
			}
		})
	}
}
