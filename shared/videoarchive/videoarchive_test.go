package videoarchive_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"lookit.dev/platform/shared/objects"
	"lookit.dev/platform/shared/s3/s3test"
	"lookit.dev/platform/shared/videoarchive"
)

// video is one source video of a test.
type video struct {
	key, name string
	data      []byte
	modified  time.Time
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRoundTrip archives videos from the S3 fake into a fake-gcs-server bucket and reads the
// archive back with archive/zip.
func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := s3test.New(t, "lookit-videos").Bucket("lookit-videos")
	dst := gcsBucket(t, startFakeGCS(t), "lookit-private")
	recorded := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	videos := []video{
		{key: "videoStream_s_0-video-consent_r_1700000000123_abc.mp4", name: "videoStream_s_0-video-consent_r_1700000000123_abc.mp4", data: []byte("consent"), modified: recorded},
		{key: "empty.webm", name: "empty.webm", data: []byte{}, modified: recorded.Add(time.Hour)},
		{key: "big one.webm", name: "session/big one.webm", data: randomBytes(t, 3<<20+12345)}, // zero time: the build's
		{key: "vidéo.webm", name: "vidéo-ü.webm", data: randomBytes(t, 70_000), modified: recorded.In(time.FixedZone("EST", -5*3600))},
	}
	var items []videoarchive.Item
	var names []string
	for _, v := range videos {
		if err := src.Put(ctx, v.key, bytes.NewReader(v.data), "video/webm"); err != nil {
			t.Fatal(err)
		}
		items = append(items, videoarchive.Item{Source: src, Key: v.key, Name: v.name, Modified: v.modified})
		names = append(names, v.name)
	}

	type call struct{ done, total int }
	var calls []call
	before := time.Now().Truncate(time.Second)
	key, reused, err := videoarchive.Ensure(ctx, dst, "archives/study_all-videos", items, func(done, total int) {
		calls = append(calls, call{done, total})
	})
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	after := time.Now()
	if reused {
		t.Error("first Ensure reused an archive")
	}
	sum := sha256.Sum256([]byte(strings.Join(names, "")))
	if want := "archives/study_all-videos_" + hex.EncodeToString(sum[:]) + ".zip"; key != want {
		t.Errorf("key = %s, want %s", key, want)
	}
	if want := []call{{1, 4}, {2, 4}, {3, 4}, {4, 4}}; fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("progress calls = %v, want %v", calls, want)
	}
	attrs, err := dst.Client.Bucket(dst.Name).Object(key).Attrs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if attrs.ContentType != videoarchive.ContentType {
		t.Errorf("content type = %q, want %q", attrs.ContentType, videoarchive.ContentType)
	}

	archive := readAll(t, dst, key)
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatalf("archive does not open: %v", err)
	}
	if len(zr.File) != len(videos) {
		t.Fatalf("archive has %d files, want %d", len(zr.File), len(videos))
	}
	for i, f := range zr.File {
		v := videos[i]
		if f.Name != v.name || f.Method != zip.Store || f.UncompressedSize64 != uint64(len(v.data)) || f.CompressedSize64 != f.UncompressedSize64 {
			t.Errorf("file %d = %q, method %d, %d bytes (%d stored); want %q, Store, %d bytes",
				i, f.Name, f.Method, f.UncompressedSize64, f.CompressedSize64, v.name, len(v.data))
		}
		if !f.FileInfo().Mode().IsRegular() {
			t.Errorf("%s: mode %v, want a regular file", f.Name, f.FileInfo().Mode())
		}
		if v.modified.IsZero() {
			if f.Modified.Before(before) || f.Modified.After(after) {
				t.Errorf("%s: modified %v, want the build's time (between %v and %v)", f.Name, f.Modified, before, after)
			}
		} else if !f.Modified.Equal(v.modified) {
			t.Errorf("%s: modified %v, want %v", f.Name, f.Modified, v.modified)
		}
		// Reading to the end makes archive/zip check the CRC-32 and the data descriptor.
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Errorf("%s: %v", f.Name, err)
		} else if !bytes.Equal(got, v.data) {
			t.Errorf("%s: content differs (%d bytes, want %d)", f.Name, len(got), len(v.data))
		}
	}

	// A second Ensure for the same names reuses the archive.
	key2, reused, err := videoarchive.Ensure(ctx, dst, "archives/study_all-videos", items, nil)
	if err != nil || !reused || key2 != key {
		t.Errorf("second Ensure = %s, reused %v, %v; want %s reused", key2, reused, err, key)
	}
}

// TestSourceFailsMidCopy: a video whose body fails part-way fails the build, and nothing is
// left at the key, whether or not the destination's Put is atomic.
func TestSourceFailsMidCopy(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("connection reset by S3")
	s3src := s3test.New(t, "lookit-videos").Bucket("lookit-videos")
	for i := range 3 {
		if err := s3src.Put(ctx, fmt.Sprintf("v%d.webm", i), bytes.NewReader(randomBytes(t, 1<<20)), "video/webm"); err != nil {
			t.Fatal(err)
		}
	}
	gcsDst := gcsBucket(t, startFakeGCS(t), "lookit-private")
	for _, tc := range []struct {
		name string
		dst  objects.Store
		has  func(string) bool
	}{
		{"GCS", gcsDst, func(key string) bool { _, err := gcsDst.Get(ctx, key); return !errors.Is(err, objects.ErrNotExist) }},
		{"non-atomic Put", &memStore{objects: map[string][]byte{}, partialPuts: true}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if m, ok := tc.dst.(*memStore); ok {
				tc.has = m.has
			}
			src := &failingStore{Store: s3src, failAfter: 300_000, err: boom}
			items := []videoarchive.Item{
				{Source: s3src, Key: "v0.webm", Name: "v0.webm"},
				{Source: src, Key: "v1.webm", Name: "v1.webm"},
				{Source: s3src, Key: "v2.webm", Name: "v2.webm"},
			}
			var done []int
			err := videoarchive.Build(ctx, tc.dst, "archive.zip", items, func(d, _ int) { done = append(done, d) })
			if !errors.Is(err, boom) || !strings.Contains(err.Error(), `"v1.webm"`) {
				t.Fatalf("Build = %v, want the source's error naming v1.webm", err)
			}
			if tc.has("archive.zip") {
				t.Error("an object was left at the key after a failed build")
			}
			if fmt.Sprint(done) != "[1]" {
				t.Errorf("progress = %v, want [1] (only v0 was archived)", done)
			}
			if n := src.open.Load(); n != 0 {
				t.Errorf("%d source bodies left open", n)
			}
			waitBuildGoroutinesGone(t)
		})
	}
}

// waitBuildGoroutinesGone fails unless every goroutine the package started has ended (within a
// moment: an abandoned Put may take a little while to return). Goroutines are told apart by
// their stacks, because HTTP clients keep idle connections with goroutines of their own.
func waitBuildGoroutinesGone(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	buf := make([]byte, 4<<20)
	for {
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "lookit.dev/platform/shared/videoarchive.") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines of the build still running:\n%s", stacks)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// failingPutStore's Put reads failAfter bytes, then fails.
type failingPutStore struct {
	*memStore
	failAfter int64
	err       error
}

func (f *failingPutStore) Put(ctx context.Context, key string, r io.Reader, ct string) error {
	if _, err := io.CopyN(io.Discard, r, f.failAfter); err != nil {
		return err
	}
	return f.err
}

// TestDestinationFails: when Put gives up, the build stops at once with Put's error instead of
// blocking on the pipe.
func TestDestinationFails(t *testing.T) {
	ctx := context.Background()
	denied := errors.New("403 storage.objects.create denied")
	src := &failingStore{Store: generatedStore{size: 64 << 20}, failAfter: 1 << 62}
	dst := &failingPutStore{memStore: newMemStore(), failAfter: 1 << 20, err: denied}
	items := []videoarchive.Item{{Source: src, Key: "a", Name: "a.webm"}, {Source: src, Key: "b", Name: "b.webm"}}
	var done []int
	err := videoarchive.Build(ctx, dst, "archive.zip", items, func(d, _ int) { done = append(done, d) })
	if !errors.Is(err, denied) || !strings.HasPrefix(err.Error(), "videoarchive: upload archive.zip: ") {
		t.Fatalf("Build = %v, want the upload's error", err)
	}
	if len(done) != 0 {
		t.Errorf("progress = %v after the upload failed in the first video", done)
	}
	if n := src.open.Load(); n != 0 {
		t.Errorf("%d source bodies left open", n)
	}
	waitBuildGoroutinesGone(t)
}

// TestCancelled: cancelling the context stops the build even while it waits on a destination
// that has stopped reading.
func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	stuck := make(chan struct{})
	dst := &stallingStore{memStore: newMemStore(), stalled: stuck}
	items := []videoarchive.Item{{Source: generatedStore{size: 8 << 20}, Key: "a", Name: "a.webm"}}
	go func() { <-stuck; cancel() }()
	err := videoarchive.Build(ctx, dst, "archive.zip", items, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Build = %v, want context.Canceled", err)
	}
	if dst.has("archive.zip") {
		t.Error("object left at the key")
	}
	waitBuildGoroutinesGone(t)
}

// stallingStore's Put reads a little, then waits for its context to end without reading more.
type stallingStore struct {
	*memStore
	stalled chan struct{}
}

func (s *stallingStore) Put(ctx context.Context, key string, r io.Reader, _ string) error {
	if _, err := io.CopyN(io.Discard, r, 1000); err != nil {
		return err
	}
	close(s.stalled)
	<-ctx.Done()
	return ctx.Err()
}

// TestMissingVideo: a missing video is an error naming it, never a short archive; found before
// the upload when the source can say so, else when the build reaches it.
func TestMissingVideo(t *testing.T) {
	ctx := context.Background()
	s3src := s3test.New(t, "lookit-videos").Bucket("lookit-videos")
	if err := s3src.Put(ctx, "here.webm", strings.NewReader("video"), "video/webm"); err != nil {
		t.Fatal(err)
	}
	mem := newMemStore()
	mem.put("here.webm", []byte("video"))
	for _, tc := range []struct {
		name    string
		src     objects.Store
		wantPut bool // whether the upload starts before the video is found missing
	}{
		{"S3 (checked before the upload)", s3src, false},
		{"store without Exists (found mid-build)", mem, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := newMemStore()
			items := []videoarchive.Item{
				{Source: tc.src, Key: "here.webm", Name: "here.webm"},
				{Source: tc.src, Key: "gone.webm", Name: "gone.webm"},
				{Source: tc.src, Key: "also-gone.webm", Name: "also-gone.webm"},
			}
			err := videoarchive.Build(ctx, dst, "archive.zip", items, nil)
			var missing *videoarchive.MissingVideosError
			if !errors.As(err, &missing) || !errors.Is(err, objects.ErrNotExist) {
				t.Fatalf("Build = %v, want a MissingVideosError wrapping ErrNotExist", err)
			}
			want := "[gone.webm also-gone.webm]"
			if tc.wantPut {
				want = "[gone.webm]" // the build stops at the first
			}
			if fmt.Sprint(missing.Names) != want {
				t.Errorf("missing = %v, want %s", missing.Names, want)
			}
			if !strings.Contains(err.Error(), "gone.webm") {
				t.Errorf("error %q does not name the video", err)
			}
			if dst.has("archive.zip") {
				t.Error("an archive was left at the key")
			}
			if started := dst.puts.Load() > 0; started != tc.wantPut {
				t.Errorf("upload started = %v, want %v", started, tc.wantPut)
			}
		})
	}
}

// TestReuse: a second Ensure for the same names touches no source.
func TestReuse(t *testing.T) {
	ctx := context.Background()
	mem := newMemStore()
	src := &countingStore{Store: mem}
	var items []videoarchive.Item
	for i := range 5 {
		key := fmt.Sprintf("v%d.webm", i)
		mem.put(key, []byte(key))
		items = append(items, videoarchive.Item{Source: src, Key: key, Name: key})
	}
	dst := newMemStore()
	key1, reused, err := videoarchive.Ensure(ctx, dst, "study_all-videos", items, nil)
	if err != nil || reused {
		t.Fatalf("first Ensure = reused %v, %v", reused, err)
	}
	if src.gets.Load() != 5 || src.exists.Load() != 5 {
		t.Fatalf("first build: %d Gets and %d Exists, want 5 of each", src.gets.Load(), src.exists.Load())
	}
	src.gets.Store(0)
	src.exists.Store(0)
	progressCalled := false
	key2, reused, err := videoarchive.Ensure(ctx, dst, "study_all-videos", items, func(int, int) { progressCalled = true })
	if err != nil || !reused || key2 != key1 {
		t.Fatalf("second Ensure = %s, reused %v, %v; want %s reused", key2, reused, err, key1)
	}
	if src.gets.Load() != 0 || src.exists.Load() != 0 || dst.puts.Load() != 1 || progressCalled {
		t.Errorf("reuse made %d Gets, %d Exists, %d Puts in all, progress %v; want none, none, 1, false",
			src.gets.Load(), src.exists.Load(), dst.puts.Load(), progressCalled)
	}

	// Other names (a video withdrawn) are another archive.
	key3, reused, err := videoarchive.Ensure(ctx, dst, "study_all-videos", items[:4], nil)
	if err != nil || reused || key3 == key1 {
		t.Errorf("Ensure for four of the five = %s, reused %v, %v; want a new archive", key3, reused, err)
	}
}

func TestArchiveKey(t *testing.T) {
	// sha256("ab.mp4c.mp4")
	sum := sha256.Sum256([]byte("ab.mp4c.mp4"))
	if got, want := videoarchive.ArchiveKey("x_all-videos", []string{"ab.mp4", "c.mp4"}), "x_all-videos_"+hex.EncodeToString(sum[:])+".zip"; got != want {
		t.Errorf("ArchiveKey = %s, want %s", got, want)
	}
	// Lookit's rule hashes the names in order: the caller must order them stably.
	if videoarchive.ArchiveKey("x", []string{"a", "b"}) == videoarchive.ArchiveKey("x", []string{"b", "a"}) {
		t.Error("ArchiveKey ignores order")
	}
	empty := sha256.Sum256(nil)
	if got := videoarchive.ArchiveKey("x", nil); got != "x_"+hex.EncodeToString(empty[:])+".zip" {
		t.Errorf("ArchiveKey(no names) = %s", got)
	}
}

var unsafeNames = []string{
	"", "../escape.webm", "a/../../b.webm", "..", ".", "./a.webm", "a/./b.webm", "/etc/passwd", "a//b.webm",
	"dir/", `a\b.webm`, `..\..\x.webm`, "C:/x.webm", "x.webm:stream", "a\x00b.webm", "tab\t.webm", "new\nline.webm",
	"del\x7f.webm", "c1\u0085.webm", "rtl\u202egpj.webm", "bad\xffutf8.webm", strings.Repeat("a", 65536),
}

func TestUnsafeNames(t *testing.T) {
	ctx := context.Background()
	src := newMemStore()
	src.put("k", []byte("video"))
	for _, name := range unsafeNames {
		if err := videoarchive.CheckName(name); !errors.Is(err, videoarchive.ErrUnsafeName) {
			t.Errorf("CheckName(%q) = %v, want ErrUnsafeName", name, err)
		}
		dst := newMemStore()
		items := []videoarchive.Item{{Source: src, Key: "k", Name: "fine.webm"}, {Source: src, Key: "k", Name: name}}
		if err := videoarchive.Build(ctx, dst, "a.zip", items, nil); !errors.Is(err, videoarchive.ErrUnsafeName) {
			t.Errorf("Build with %q = %v, want ErrUnsafeName", name, err)
		}
		if _, _, err := videoarchive.Ensure(ctx, dst, "a", items, nil); !errors.Is(err, videoarchive.ErrUnsafeName) {
			t.Errorf("Ensure with %q = %v, want ErrUnsafeName", name, err)
		}
		if dst.puts.Load() != 0 {
			t.Errorf("Build with %q started an upload", name)
		}
	}
	for _, name := range []string{"videoStream_a_0-video-consent_b_1700000000123_abc.mp4", "consent-x.webm",
		"study/response/clip one.webm", "vidéo-ü.webm", "a..b.webm", "...webm"} {
		if err := videoarchive.CheckName(name); err != nil {
			t.Errorf("CheckName(%q) = %v, want nil", name, err)
		}
	}
	// Duplicates would overwrite each other when extracted.
	dup := []videoarchive.Item{{Source: src, Key: "k", Name: "same.webm"}, {Source: src, Key: "k", Name: "same.webm"}}
	if err := videoarchive.Build(ctx, newMemStore(), "a.zip", dup, nil); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("Build with a duplicate name = %v, want an error", err)
	}
	if err := videoarchive.Build(ctx, newMemStore(), "a.zip", []videoarchive.Item{{Key: "k", Name: "a.webm"}}, nil); err == nil {
		t.Error("Build with no source store succeeded")
	}
}

// FuzzCheckName: every name CheckName accepts is a local path on every platform archive/zip's
// reader guards against, and keeps its meaning when cleaned.
func FuzzCheckName(f *testing.F) {
	for _, n := range unsafeNames {
		f.Add(n)
	}
	f.Add("study/response/clip one.webm")
	f.Fuzz(func(t *testing.T, name string) {
		if videoarchive.CheckName(name) != nil {
			return
		}
		if !filepath.IsLocal(name) || filepath.Clean(name) != name || strings.ContainsAny(name, `\:`) || !utf8.ValidString(name) {
			t.Fatalf("CheckName accepted %q", name)
		}
		for _, r := range name {
			if unicode.IsControl(r) {
				t.Fatalf("CheckName accepted %q with control character %U", name, r)
			}
		}
	})
}

// TestZip64ManyFiles: over 65,535 files need the ZIP64 end of central directory, which
// archive/zip writes when the count calls for it.
func TestZip64ManyFiles(t *testing.T) {
	const n = 70_000
	src := newMemStore()
	src.put("v", []byte("x"))
	items := make([]videoarchive.Item, n)
	for i := range items {
		items[i] = videoarchive.Item{Source: src, Key: "v", Name: fmt.Sprintf("v%05d.webm", i)}
	}
	dst := newMemStore()
	if err := videoarchive.Build(context.Background(), dst, "a.zip", items, nil); err != nil {
		t.Fatal(err)
	}
	archive := readAll(t, dst, "a.zip")
	// The end: ZIP64 end record locator (20 bytes) then the classic end record (22 bytes),
	// whose entry count says "see ZIP64".
	end := archive[len(archive)-22:]
	locator := archive[len(archive)-42 : len(archive)-22]
	if binary.LittleEndian.Uint32(end) != 0x06054b50 || binary.LittleEndian.Uint16(end[10:]) != 0xffff ||
		binary.LittleEndian.Uint32(locator) != 0x07064b50 {
		t.Fatalf("archive of %d files has no ZIP64 end records", n)
	}
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != n || zr.File[n-1].Name != fmt.Sprintf("v%05d.webm", n-1) {
		t.Fatalf("reader sees %d files, want %d", len(zr.File), n)
	}
}

// TestZip64LargeFile archives a video of over 4 GiB (made up on the fly, never stored) followed
// by a small one whose offset is past 4 GiB; the archive, kept as its head and tail only, must
// read back with the right sizes and the small file's bytes.
func TestZip64LargeFile(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("streams 4 GiB; skipped in -short and under the race detector")
	}
	const big = 4<<30 + 5<<20
	sink := &streamSink{keep: 1 << 20}
	items := []videoarchive.Item{
		{Source: generatedStore{size: big}, Key: "large", Name: "large.webm"},
		{Source: generatedStore{size: 100}, Key: "small", Name: "small.webm"},
	}
	if err := videoarchive.Build(context.Background(), sink, "a.zip", items, nil); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(sparseArchive{head: sink.head, tail: sink.tail, size: sink.size}, sink.size)
	if err != nil {
		t.Fatalf("archive does not open: %v", err)
	}
	if len(zr.File) != 2 || zr.File[0].UncompressedSize64 != big || zr.File[0].CompressedSize64 != big || zr.File[1].UncompressedSize64 != 100 {
		t.Fatalf("files %v, want large.webm of %d bytes and small.webm of 100", zr.File, big)
	}
	rc, err := zr.File[1].Open()
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, patternBytes("small", 100)) {
		t.Fatalf("small.webm after 4 GiB = %q, %v", got, err)
	}
}

// TestMemoryDoesNotGrowWithVideos: what a build allocates does not depend on how big the videos
// are, and grows with their number only by the archive's directory entry per file.
func TestMemoryDoesNotGrowWithVideos(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation")
	}
	allocated := func(n int, size int64) uint64 {
		items := make([]videoarchive.Item, n)
		for i := range items {
			items[i] = videoarchive.Item{Source: generatedStore{size: size}, Key: "k", Name: fmt.Sprintf("video-%06d.webm", i)}
		}
		sink := &discardSink{buf: make([]byte, 256<<10)}
		if err := videoarchive.Build(context.Background(), sink, "a.zip", items, nil); err != nil { // warm up
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if err := videoarchive.Build(context.Background(), sink, "a.zip", items, nil); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	small, large := allocated(1, 1<<10), allocated(1, 512<<20)
	t.Logf("one video: %d bytes allocated for 1 KiB, %d for 512 MiB", small, large)
	if large > small+64<<10 {
		t.Errorf("a 512 MiB video allocated %d bytes, a 1 KiB one %d: allocation grows with size", large, small)
	}
	many := allocated(2000, 1<<10)
	perFile := (many - small) / 1999
	t.Logf("2,000 videos: %d bytes allocated, %d per extra video", many, perFile)
	if perFile > 2<<10 {
		t.Errorf("each extra video allocated %d bytes, want at most 2 KiB (its directory entry)", perFile)
	}
}
