package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/demo"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/videos"
)

// placeholderSize is the size of a generated video's stand-in object.
const placeholderSize = 4 << 10

// putConcurrency is how many placeholders are put at once.
const putConcurrency = 16

// seedDemoResponses gives the demo studies their generated families and sessions (the first
// start only: demo.SeedResponses adds nothing after that) and, at every start, puts a small
// placeholder object for each of their videos into an S3 stand-in on this machine, which keeps
// objects in memory only. Objects already there are left alone; a remote S3 endpoint gets none.
func seedDemoResponses(ctx context.Context, in *instance.Instance, pool *pgxpool.Pool, say func(string, ...any)) error {
	if !in.Config.IsLocal() {
		return nil
	}
	started := time.Now()
	objects, err := demo.SeedResponses(ctx, pool, demo.Responses)
	if err != nil {
		return err
	}
	where := "not put: S3 is not on this machine"
	if loopback(in.Config.S3Endpoint) {
		buckets, err := in.Videos(ctx)
		if err != nil {
			return err
		}
		put, err := putDemoVideos(ctx, buckets, objects)
		if err != nil {
			return fmt.Errorf("demo videos: %w", err)
		}
		where = fmt.Sprintf("%d placeholders put", put)
	}
	say("Demo data    families @%s with sessions on the demo studies; %d videos (%s) in %s",
		demo.FamilyDomain, len(objects), where, time.Since(started).Round(time.Millisecond))
	return nil
}

// loopback reports whether the S3 endpoint is on this machine.
func loopback(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil || u.Hostname() == "" {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

// putDemoVideos puts a placeholder for each object that is not in its bucket yet and returns
// how many it put.
func putDemoVideos(ctx context.Context, buckets videos.Buckets, objects []demo.VideoObject) (int, error) {
	work := make(chan demo.VideoObject)
	var mu sync.Mutex
	var errs []error
	put := 0
	var wg sync.WaitGroup
	for range min(putConcurrency, len(objects)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range work {
				done, err := putPlaceholder(ctx, buckets, o)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else if done {
					put++
				}
				mu.Unlock()
			}
		}()
	}
	for _, o := range objects {
		work <- o
	}
	close(work)
	wg.Wait()
	return put, errors.Join(errs...)
}

func putPlaceholder(ctx context.Context, buckets videos.Buckets, o demo.VideoObject) (bool, error) {
	b := buckets.Named(o.Bucket)
	if b == nil {
		return false, fmt.Errorf("%s: no bucket %q", o.Key, o.Bucket)
	}
	if ok, err := b.Exists(ctx, o.Key); err != nil || ok {
		return false, err
	}
	return true, b.Put(ctx, o.Key, bytes.NewReader(placeholder(o)), o.ContentType())
}

// placeholder is a stand-in for a generated video: a few KB that say what they are.
func placeholder(o demo.VideoObject) []byte {
	b := make([]byte, placeholderSize)
	copy(b, fmt.Sprintf("Lookit demo data: a placeholder for the video %s (%s). Not a playable video.\n", o.Key, o.ContentType()))
	return b
}
