package videoarchive_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"lookit.dev/platform/shared/gcs"
	"lookit.dev/platform/shared/localstack"
	"lookit.dev/platform/shared/objects"
)

const gcsProject = "lookit-test"

// fakesChildEnv, set in the environment, turns the test binary into the fakes process the
// benchmark starts (see TestMain).
const fakesChildEnv = "VIDEOARCHIVE_FAKES_PROCESS"

func TestMain(m *testing.M) {
	if os.Getenv(fakesChildEnv) != "" {
		os.Exit(serveFakes())
	}
	os.Exit(m.Run())
}

// startFakeGCS starts fake-gcs-server in process (on loopback, as the local stack does) and
// returns a client reaching it through STORAGE_EMULATOR_HOST.
func startFakeGCS(tb testing.TB) *storage.Client {
	tb.Helper()
	addr, stop, err := listenFakeGCS()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(stop)
	return gcsClient(tb, addr)
}

func listenFakeGCS() (addr string, stop func(), err error) {
	port, err := localstack.FreePort()
	if err != nil {
		return "", nil, err
	}
	addr = "127.0.0.1:" + strconv.Itoa(port)
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		Scheme: "http", Host: "127.0.0.1", Port: uint16(port), PublicHost: addr, Writer: io.Discard,
	})
	if err != nil {
		return "", nil, fmt.Errorf("fake-gcs-server: %w", err)
	}
	return addr, srv.Stop, nil
}

// gcsClient returns a storage client on the emulator at addr.
func gcsClient(tb testing.TB, addr string) *storage.Client {
	tb.Helper()
	tb.Setenv("STORAGE_EMULATOR_HOST", addr)
	c, err := storage.NewClient(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

func gcsBucket(tb testing.TB, c *storage.Client, name string) *gcs.Bucket {
	tb.Helper()
	if err := gcs.EnsureBucket(context.Background(), c, gcsProject, name); err != nil {
		tb.Fatal(err)
	}
	return &gcs.Bucket{Client: c, Name: name}
}

// serveFakes is the body of the fakes process: gofakes3 and fake-gcs-server, both keeping
// objects in memory as make run does, on loopback. It prints their addresses on one line and
// serves until its standard input closes (the benchmark ends, or dies).
func serveFakes() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakes process:", err)
		return 1
	}
	s3srv := &http.Server{Handler: gofakes3.New(s3mem.New()).Server(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s3srv.Serve(ln) }()
	gcsAddr, stop, err := listenFakeGCS()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakes process:", err)
		return 1
	}
	defer stop()
	fmt.Printf("s3=http://%s gcs=%s\n", ln.Addr(), gcsAddr)
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// fakesProcess is the fakes running in a child process, so that the objects they keep in memory
// are not counted in the benchmark's own memory.
type fakesProcess struct {
	S3URL, GCSAddr string
	pid            int
}

func startFakesProcess(tb testing.TB) *fakesProcess {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fakesChildEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stdin.Close() // the child's signal to exit
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		tb.Fatalf("fakes process: %v", err)
	}
	var p fakesProcess
	if _, err := fmt.Sscanf(line, "s3=%s gcs=%s", &p.S3URL, &p.GCSAddr); err != nil {
		tb.Fatalf("fakes process said %q: %v", line, err)
	}
	p.pid = cmd.Process.Pid
	return &p
}

// memStore is an objects.Store in memory whose Put is atomic: it stores nothing unless it read
// the whole body without error. It counts Gets and Puts.
type memStore struct {
	mu      sync.Mutex
	objects map[string][]byte
	gets    atomic.Int64
	puts    atomic.Int64
	// partialPuts makes Put store whatever it read even when the read failed, and report
	// success: a store that may leave a truncated object behind.
	partialPuts bool
}

func newMemStore() *memStore { return &memStore{objects: map[string][]byte{}} }

func (m *memStore) Put(ctx context.Context, key string, r io.Reader, _ string) error {
	m.puts.Add(1)
	data, err := io.ReadAll(r)
	if err != nil && !m.partialPuts {
		return fmt.Errorf("mem: put %s: %w", key, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[key] = data
	return nil
}

func (m *memStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	m.gets.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	data, ok := m.objects[key]
	if !ok {
		return nil, objects.ErrNotExist
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

func (m *memStore) Delete(ctx context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, key)
	return nil
}

func (m *memStore) SignedURL(context.Context, string, string, time.Duration) (string, error) {
	return "", errors.New("mem: no signed URLs")
}

func (m *memStore) has(key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.objects[key]
	return ok
}

func (m *memStore) put(key string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[key] = data
}

// countingStore counts the calls reaching a store, Exists included (which it offers whether or
// not the store has it).
type countingStore struct {
	objects.Store
	gets, exists atomic.Int64
}

func (c *countingStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	c.gets.Add(1)
	return c.Store.Get(ctx, key)
}

func (c *countingStore) Exists(ctx context.Context, key string) (bool, error) {
	c.exists.Add(1)
	body, err := c.Store.Get(ctx, key)
	if errors.Is(err, objects.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, body.Close()
}

// failingStore is a store whose objects' bodies fail with err after failAfter bytes. It records
// whether every body it opened was closed.
type failingStore struct {
	objects.Store
	failAfter int64
	err       error
	open      atomic.Int64
}

func (f *failingStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	body, err := f.Store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	f.open.Add(1)
	return &failingBody{r: io.MultiReader(io.LimitReader(body, f.failAfter), errReader{f.err}), body: body, open: &f.open}, nil
}

type failingBody struct {
	r    io.Reader
	body io.Closer
	open *atomic.Int64
	once sync.Once
}

func (b *failingBody) Read(p []byte) (int, error) { return b.r.Read(p) }

func (b *failingBody) Close() error {
	b.once.Do(func() { b.open.Add(-1) })
	return b.body.Close()
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// generatedStore serves objects of a given size made up on the fly (each key's bytes are a
// repeating pattern), so that tests can archive gigabytes without storing them.
type generatedStore struct {
	objects.Store // nil: only Get is used
	size          int64
}

func (g generatedStore) Get(_ context.Context, key string) (io.ReadCloser, error) {
	return io.NopCloser(io.LimitReader(&patternReader{pattern: []byte(key)}, g.size)), nil
}

// patternReader repeats pattern forever.
type patternReader struct {
	pattern []byte
	off     int
}

func (p *patternReader) Read(b []byte) (int, error) {
	// One period the slow way, then double what is written: fast without a buffer of its own.
	n := 0
	for n < len(b) && n < len(p.pattern) {
		n += copy(b[n:], p.pattern[(p.off+n)%len(p.pattern):])
	}
	n = min(n, len(p.pattern), len(b))
	for n < len(b) {
		n += copy(b[n:], b[:n])
	}
	p.off = (p.off + len(b)) % len(p.pattern)
	return len(b), nil
}

// patternBytes is the first n bytes patternReader makes of key.
func patternBytes(key string, n int) []byte {
	return bytes.Repeat([]byte(key), n/len(key)+1)[:n]
}

// streamSink is a store whose Put only counts what it reads, keeping the first and last few
// bytes.
type streamSink struct {
	objects.Store // nil: Put and Delete only
	keep          int
	head, tail    []byte
	size          int64
}

func (s *streamSink) Put(_ context.Context, _ string, r io.Reader, _ string) error {
	buf := make([]byte, 1<<20)
	s.head, s.tail, s.size = nil, nil, 0
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if len(s.head) < s.keep {
				s.head = append(s.head, buf[:min(n, s.keep-len(s.head))]...)
			}
			s.tail = append(s.tail, buf[:n]...)
			if len(s.tail) > s.keep {
				s.tail = append(s.tail[:0], s.tail[len(s.tail)-s.keep:]...)
			}
			s.size += int64(n)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (s *streamSink) Delete(context.Context, string) error { return nil }

// discardSink is a store whose Put reads everything through one buffer and keeps nothing.
type discardSink struct {
	objects.Store // nil: Put only
	buf           []byte
	size          int64
}

func (s *discardSink) Put(_ context.Context, _ string, r io.Reader, _ string) error {
	n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{r}, s.buf)
	s.size = n
	return err
}

// sparseArchive is an io.ReaderAt over an archive of which only the head and tail were kept; the
// bytes between read as zeros.
type sparseArchive struct {
	head, tail []byte
	size       int64
}

func (a sparseArchive) ReadAt(p []byte, off int64) (int, error) {
	if off >= a.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && off+int64(n) < a.size {
		at := off + int64(n)
		switch tailStart := a.size - int64(len(a.tail)); {
		case at < int64(len(a.head)):
			n += copy(p[n:], a.head[at:])
		case at >= tailStart:
			n += copy(p[n:], a.tail[at-tailStart:])
		default:
			end := min(int64(len(p)-n), tailStart-at)
			clear(p[n : n+int(end)])
			n += int(end)
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// readAll reads key from st (tests only: archives here are small).
func readAll(tb testing.TB, st objects.Store, key string) []byte {
	tb.Helper()
	body, err := st.Get(context.Background(), key)
	if err != nil {
		tb.Fatalf("Get %s: %v", key, err)
	}
	defer body.Close()
	data, err := io.ReadAll(body)
	if err != nil {
		tb.Fatalf("read %s: %v", key, err)
	}
	return data
}
