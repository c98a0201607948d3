package videoarchive_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"lookit.dev/platform/shared/benchmem"
	"lookit.dev/platform/shared/s3"
	"lookit.dev/platform/shared/videoarchive"
)

// The benchmark's study: 200 videos of 5 MB (1 GB), the size. It takes about a minute
// and a half, almost all of it in fake-gcs-server, which recomputes the MD5 and CRC32C of
// everything received so far on every 16 MiB chunk of a resumable upload (quadratic in the
// archive's size; a 5 MB object of the ceiling is one chunk). VIDEOARCHIVE_BENCH_VIDEO_MB sets
// another size (1 for a quick look).
const benchVideos = 200

var benchVideoSize = func() int {
	if mb, err := strconv.ParseFloat(os.Getenv("VIDEOARCHIVE_BENCH_VIDEO_MB"), 64); err == nil && mb > 0 {
		return int(mb * 1e6)
	}
	return 5_000_000
}()

// BenchmarkVideoArchive archives 200 videos of 5 MB (1 GB) from the S3 fake into one archive in
// the GCS fake, as an export job would. The ceiling copies the same 200 objects from S3 to GCS
// one by one, without a ZIP, through the same two stores.
//
// Both fakes keep objects in memory, so they run in a child process (this test binary started
// again, see TestMain) and the memory reported is the benchmark process's own: peak-RSS-MB is
// the kernel's high-water mark of its resident set during the timed loop (reset before it),
// peak-heap-MB the highest Go heap in use (sampled every millisecond) above what it was before.
func BenchmarkVideoArchive(b *testing.B) {
	ctx := context.Background()
	fakes := startFakesProcess(b)
	s3client, err := s3.NewClient(ctx, s3.Options{Region: "us-east-1", Endpoint: fakes.S3URL, AccessKey: "k", SecretKey: "s"})
	if err != nil {
		b.Fatal(err)
	}
	if err := s3.EnsureBucket(ctx, s3client, "lookit-videos"); err != nil {
		b.Fatal(err)
	}
	src := &s3.Bucket{Client: s3client, Name: "lookit-videos"}
	dst := gcsBucket(b, gcsClient(b, fakes.GCSAddr), "lookit-private")
	items := putBenchVideos(b, s3client, src)
	total := int64(benchVideos * benchVideoSize)

	b.Run("ours", func(b *testing.B) {
		run := runID(b)
		mem := benchmem.Start()
		b.ResetTimer()
		for i := range b.N {
			if err := videoarchive.Build(ctx, dst, fmt.Sprintf("bench/%s-%d.zip", run, i), items, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		reportRun(b, mem, total)
		// Untimed: every archive holds all the video, and goes, to spare the fake's memory.
		for i := range b.N {
			key := fmt.Sprintf("bench/%s-%d.zip", run, i)
			attrs, err := dst.Client.Bucket(dst.Name).Object(key).Attrs(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if attrs.Size < total {
				b.Fatalf("archive %s is %d bytes, want over %d", key, attrs.Size, total)
			}
			if err := dst.Delete(ctx, key); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("ceiling", func(b *testing.B) {
		run := runID(b)
		mem := benchmem.Start()
		b.ResetTimer()
		for i := range b.N {
			for _, it := range items {
				body, err := src.Get(ctx, it.Key)
				if err != nil {
					b.Fatal(err)
				}
				err = dst.Put(ctx, fmt.Sprintf("bench/%s-%d/%s", run, i, it.Name), body, "video/webm")
				body.Close()
				if err != nil {
					b.Fatal(err)
				}
			}
		}
		b.StopTimer()
		reportRun(b, mem, total)
		for i := range b.N {
			for _, it := range items {
				if err := dst.Delete(ctx, fmt.Sprintf("bench/%s-%d/%s", run, i, it.Name)); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	fakes.logMemory(b)
}

// putBenchVideos fills the S3 fake with the benchmark's videos (random bytes, as video hardly
// compresses), four uploads at a time.
func putBenchVideos(b *testing.B, c *awss3.Client, src *s3.Bucket) []videoarchive.Item {
	ctx := context.Background()
	items := make([]videoarchive.Item, benchVideos)
	recorded := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	for i := range items {
		name := fmt.Sprintf("videoStream_study_%d-video-trial_response_%d_abc.webm", i, recorded.Add(time.Duration(i)*time.Minute).UnixMilli())
		items[i] = videoarchive.Item{Source: src, Key: name, Name: name, Modified: recorded.Add(time.Duration(i) * time.Minute)}
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for range 4 {
		wg.Go(func() {
			data := make([]byte, benchVideoSize)
			for i := range next {
				if _, err := rand.Read(data); err != nil {
					b.Error(err)
					return
				}
				if _, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(src.Name), Key: aws.String(items[i].Key),
					Body: bytes.NewReader(data), ContentType: aws.String("video/webm")}); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for i := range items {
		next <- i
	}
	close(next)
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	return items
}

// runID is a suffix unique to one run of a benchmark function, so that the framework's reruns
// never meet an earlier run's keys.
func runID(b *testing.B) string {
	var r [4]byte
	if _, err := rand.Read(r[:]); err != nil {
		b.Fatal(err)
	}
	return hex.EncodeToString(r[:])
}

// reportRun stops the memory watch and reports throughput and memory; bytes is what one
// operation moves.
func reportRun(b *testing.B, mem *benchmem.Watch, bytes int64) {
	mem.Report(b)
	b.ReportMetric(float64(bytes)*float64(b.N)/1e6/b.Elapsed().Seconds(), "MB/s")
}

// logMemory logs the fakes process's peak resident set, to show what was kept out of the
// benchmark's own figure.
func (p *fakesProcess) logMemory(b *testing.B) {
	if hwm, ok := benchmem.ProcStatusKB(p.pid, "VmHWM"); ok {
		b.Logf("fakes process (S3 and GCS stand-ins, objects in memory): peak RSS %d MB", hwm/1024)
	}
}
