package pipe_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/pipe"
	"lookit.dev/platform/shared/postgres/pgtest"
	"lookit.dev/platform/shared/s3"
	"lookit.dev/platform/shared/s3/s3test"
	"lookit.dev/platform/shared/videos"
)

// benchResponses is how many responses the benchmark's recordings belong to (call i files into
// response i % benchResponses), so that concurrent calls come from different sessions, as they do.
const benchResponses = 16

// callsPerOp is how many webhook calls (or raw copy-and-delete pairs) one benchmark operation
// makes: the batch of 1,000.
const callsPerOp = 1000

// BenchmarkPipeWebhook is Pipe's webhook (POST /exp/renamevideo/) called in process, 1,000 calls
// per operation, each for a distinct recording whose original and snapshot are in a Pipe bucket on
// a local S3 fake (gofakes3 over loopback HTTP): verify the signature, keep the event, copy the
// original to its new name, file the row and delete the original and the snapshot. The ceiling
// is 1,000 raw CopyObject + DeleteObject pairs per operation through the same SDK client on the
// same fake. Each runs one call at a time and 16 at once; ours/ceiling is the ratio of the times
// (the target: the ceiling at most 2x faster).
func BenchmarkPipeWebhook(b *testing.B) {
	pool := pgtest.Pool(b)
	ctx := context.Background()
	responses := benchFixture(b, pool)
	fake := s3test.New(b, "pipe")
	client, bucket := fake.Client, fake.Bucket("pipe")
	h := &pipe.Handler{
		Key:        handlerKey,
		WebhookURL: webhookURL,
		DB:         func(context.Context) (*pgxpool.Pool, error) { return pool, nil },
		Bucket:     func(context.Context) (videos.Store, error) { return bucket, nil },
		Log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, mode := range []struct {
		name    string
		workers int
	}{{"sequential", 1}, {"concurrent16", 16}} {
		b.Run(mode.name, func(b *testing.B) {
			b.Run("ours", func(b *testing.B) {
				run := runID(b)
				type call struct{ body, sig string }
				calls := make([]call, b.N*callsPerOp)
				keys := make([]string, 0, 2*len(calls))
				for i := range calls {
					video := fmt.Sprintf("vs_bench_%s_%d", run, i)
					name := "videoStream_" + studyUUID + "_" + fmt.Sprintf("bench-%s-%d", run, i) + "_" +
						responses[i%len(responses)] + "_1700000000123_abc123"
					payload := eventJSON(b, "upload success", video, "WEBM", name)
					calls[i] = call{url.Values{"payload": {payload}}.Encode(), pipe.Sign(handlerKey, webhookURL, payload)}
					keys = append(keys, video+".webm", video+".jpg")
				}
				putAll(b, bucket, keys)
				lat := runBench(b, mode.workers, len(calls), func(i int) error {
					req := httptest.NewRequest(http.MethodPost, "/exp/renamevideo/", strings.NewReader(calls[i].body))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.Header.Set("X-Pipe-Signature", calls[i].sig)
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						return fmt.Errorf("call %d: %d %s", i, rec.Code, rec.Body)
					}
					return nil
				})
				reportLatency(b, lat)
				// Untimed: every call filed its row and marked its event processed.
				var rows, events int
				if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM videos WHERE frame_id LIKE $1),
					(SELECT count(*) FROM pipe_webhook_events WHERE video_name LIKE $2 AND processed_at IS NOT NULL)`,
					"bench-"+run+"-%", "vs\\_bench\\_"+run+"\\_%").Scan(&rows, &events); err != nil {
					b.Fatal(err)
				}
				if rows != len(calls) || events != len(calls) {
					b.Fatalf("%d calls filed %d video rows and %d processed events, want %d of each", len(calls), rows, events, len(calls))
				}
			})
			b.Run("ceiling", func(b *testing.B) {
				run := runID(b)
				srcs := make([]string, b.N*callsPerOp)
				for i := range srcs {
					srcs[i] = fmt.Sprintf("ceiling_%s_%d.webm", run, i)
				}
				putAll(b, bucket, srcs)
				lat := runBench(b, mode.workers, len(srcs), func(i int) error {
					dst := fmt.Sprintf("ceiling-renamed_%s_%d.webm", run, i)
					if _, err := client.CopyObject(ctx, &awss3.CopyObjectInput{Bucket: aws.String("pipe"), Key: &dst,
						CopySource: aws.String("pipe/" + srcs[i])}); err != nil {
						return err
					}
					_, err := client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String("pipe"), Key: &srcs[i]})
					return err
				})
				reportLatency(b, lat)
			})
		})
	}
}

// benchFixture makes sure the study of recordingName exists and adds benchResponses responses
// to it; it returns their uuids.
func benchFixture(b *testing.B, pool *pgxpool.Pool) []string {
	ctx := context.Background()
	ensureStudy(b, pool)
	rows, err := pool.Query(ctx, `INSERT INTO responses (study_id, child_id, study_type_id)
		SELECT r.study_id, r.child_id, 1 FROM responses r, generate_series(1, $2) WHERE r.uuid = $1
		RETURNING uuid::text`, responseUUID, benchResponses)
	if err != nil {
		b.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(ids) != benchResponses {
		b.Fatal(err, len(ids))
	}
	return ids
}

// runID is a suffix unique to one run of a benchmark function, so that -count and the
// framework's reruns never meet an earlier run's names.
func runID(b *testing.B) string {
	var r [4]byte
	if _, err := rand.Read(r[:]); err != nil {
		b.Fatal(err)
	}
	return hex.EncodeToString(r[:])
}

// putAll puts small objects under keys in the bucket, 16 at a time (untimed setup).
func putAll(b *testing.B, bucket *s3.Bucket, keys []string) {
	var wg sync.WaitGroup
	work := make(chan string)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for key := range work {
				if err := bucket.Put(context.Background(), key, strings.NewReader("bytes of "+key), "video/webm"); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for _, key := range keys {
		work <- key
	}
	close(work)
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
}

// runBench times n calls (b.N operations), workers at a time, and reports their rate; it returns
// each call's latency.
func runBench(b *testing.B, workers, n int, op func(i int) error) []time.Duration {
	var mu sync.Mutex
	all := make([]time.Duration, 0, n)
	work := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for i := range work {
				t0 := time.Now()
				if err := op(i); err != nil {
					b.Error(err)
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	b.ResetTimer()
	start := time.Now()
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if b.Failed() {
		b.FailNow()
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "calls/s")
	return all
}

func reportLatency(b *testing.B, d []time.Duration) {
	slices.Sort(d)
	at := func(p float64) float64 {
		return float64(d[min(len(d)-1, int(float64(len(d))*p))]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}
