// Package videoarchive streams participant videos into one ZIP archive in object storage: the
// researcher's "download all videos" (Lookit's build_zipfile_of_videos, reference §6). Lookit's
// version ran out of memory (issues #1494, #1727); this one never holds a video, or the archive,
// in memory. Each video is read from its bucket and copied through one fixed buffer into an
// archive/zip writer (Store method, ZIP64 where needed) whose output is piped straight into the
// destination's Put.
package videoarchive

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"lookit.dev/platform/shared/objects"
)

// ContentType is the content type archives are stored with.
const ContentType = "application/zip"

// copyBufferSize is the size of the one buffer every video is copied through. Big enough that
// a video costs few pipe hand-offs, small beside the destination's own upload buffer (16 MiB
// for a GCS writer).
const copyBufferSize = 256 << 10

// existsConcurrency is how many existence checks run at once before a build.
const existsConcurrency = 8

// deleteTimeout bounds the clean-up of a failed build, which runs even when ctx is cancelled.
const deleteTimeout = 30 * time.Second

// Item is one video to put in an archive.
type Item struct {
	Source objects.Store // the bucket holding the video
	Key    string        // the video's key in Source
	Name   string        // the file name inside the archive; see CheckName
	// Modified is the time the archive records for the file (the recording's time, say). Zero
	// means the time the build started.
	Modified time.Time
}

// ErrUnsafeName is wrapped by the errors for file names CheckName rejects.
var ErrUnsafeName = errors.New("videoarchive: unsafe file name")

// MissingVideosError reports videos whose source objects do not exist. It wraps
// objects.ErrNotExist. The caller decides whether to retry (a video not yet in its bucket) or to
// drop the videos from the request.
type MissingVideosError struct {
	Names []string // the missing videos' file names in the archive, in item order
}

func (e *MissingVideosError) Error() string {
	const shown = 10
	names := e.Names
	more := ""
	if len(names) > shown {
		names, more = names[:shown], fmt.Sprintf(" and %d more", len(e.Names)-shown)
	}
	return fmt.Sprintf("%d source video(s) missing: %s%s", len(e.Names), strings.Join(names, ", "), more)
}

func (e *MissingVideosError) Unwrap() error { return objects.ErrNotExist }

// existenceChecker is what a store can do beyond objects.Store to answer "is it there" without
// opening the object (videos.Store does).
type existenceChecker interface {
	Exists(ctx context.Context, key string) (bool, error)
}

// ArchiveKey is Lookit's name for the archive of the named files: filename, an underscore, the
// hex SHA-256 of the names concatenated in order, and ".zip". The same names in the same order
// give the same key, which is what lets Ensure reuse an archive; callers must therefore list
// videos in a stable order (by name, say). filename may carry a folder prefix ("archives/…").
func ArchiveKey(filename string, names []string) string {
	h := sha256.New()
	for _, n := range names {
		h.Write([]byte(n))
	}
	return filename + "_" + hex.EncodeToString(h.Sum(nil)) + ".zip"
}

// CheckName returns an error wrapping ErrUnsafeName unless name is safe as a file name inside
// an archive: a relative slash-separated path of valid UTF-8 without empty, "." or ".."
// elements, backslashes, colons (drive letters and NTFS streams on Windows), or control or
// format characters, within the ZIP format's 65,535 bytes. Names are rejected rather than
// sanitised: video names are the platform's own, so an unsafe one is a bug or an attack, and a
// sanitised name could collide with another video's.
func CheckName(name string) error {
	unsafe := func(why string) error { return fmt.Errorf("%w %q: %s", ErrUnsafeName, name, why) }
	switch {
	case name == "":
		return unsafe("empty")
	case len(name) > 0xffff:
		return unsafe("longer than 65,535 bytes")
	case !utf8.ValidString(name):
		return unsafe("not valid UTF-8")
	case strings.HasPrefix(name, "/"):
		return unsafe("absolute path")
	case strings.ContainsRune(name, '\\'):
		return unsafe("contains a backslash")
	case strings.ContainsRune(name, ':'):
		return unsafe("contains a colon")
	}
	for _, r := range name {
		// Cc: C0, DEL and C1 controls; Cf: format characters such as the bidirectional
		// overrides that can disguise a file's extension.
		if unicode.In(r, unicode.Cc, unicode.Cf) {
			return unsafe(fmt.Sprintf("contains control or format character %U", r))
		}
	}
	for elem := range strings.SplitSeq(name, "/") {
		switch elem {
		case "":
			return unsafe("empty path element")
		case ".", "..":
			return unsafe("contains a " + elem + " element")
		}
	}
	return nil
}

// checkItems validates every item before anything is read or written.
func checkItems(items []Item) error {
	seen := make(map[string]bool, len(items))
	for i, it := range items {
		if err := CheckName(it.Name); err != nil {
			return err
		}
		if seen[it.Name] {
			// Two entries with one name would overwrite each other when extracted.
			return fmt.Errorf("videoarchive: file name %q appears twice", it.Name)
		}
		seen[it.Name] = true
		if it.Source == nil {
			return fmt.Errorf("videoarchive: item %d (%q) has no source store", i, it.Name)
		}
	}
	return nil
}

// Ensure makes sure the archive of items exists in dst at ArchiveKey(filename, names of items)
// and returns that key. If the object is already there it is reused (reused is true, and
// progress is not called) without touching any source; otherwise Build writes it. Reuse is safe
// only because a failed Build leaves nothing behind and dst's Put is expected to be atomic (a
// GCS object appears only when its upload completes), so an existing object is a whole archive.
func Ensure(ctx context.Context, dst objects.Store, filename string, items []Item, progress func(done, total int)) (key string, reused bool, err error) {
	if err := checkItems(items); err != nil {
		return "", false, err
	}
	names := make([]string, len(items))
	for i, it := range items {
		names[i] = it.Name
	}
	key = ArchiveKey(filename, names)
	ok, err := exists(ctx, dst, key)
	if err != nil {
		return key, false, fmt.Errorf("videoarchive: look for %s: %w", key, err)
	}
	if ok {
		return key, true, nil
	}
	return key, false, Build(ctx, dst, key, items, progress)
}

// exists reports whether key is in st, by Exists if st has it, else by opening the object.
func exists(ctx context.Context, st objects.Store, key string) (bool, error) {
	if ec, ok := st.(existenceChecker); ok {
		return ec.Exists(ctx, key)
	}
	body, err := st.Get(ctx, key)
	if errors.Is(err, objects.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	_ = body.Close() // only its existence was wanted
	return true, nil
}

// Build writes a ZIP archive of items, in order, to dst at key, replacing any object there.
// Files are stored uncompressed (video does not compress) with ZIP64 records wherever a size,
// offset or count needs them, so archives over 4 GiB or 65,535 files are valid. progress, if
// not nil, is called after each video is written into the archive with the number written so
// far and the total; the archive is complete only when Build returns nil.
//
// A missing video is an error (a *MissingVideosError naming it), never a short archive. On any
// error nothing is left at key: the upload is abandoned and, in case dst stored part of it, the
// key is deleted.
func Build(ctx context.Context, dst objects.Store, key string, items []Item, progress func(done, total int)) error {
	if err := checkItems(items); err != nil {
		return err
	}
	if err := checkSourcesExist(ctx, items); err != nil {
		return fmt.Errorf("videoarchive: build %s: %w", key, err)
	}
	started := time.Now()

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// Neither side of the pipe can stay blocked on the other: the writer closes its end however
	// it finishes, and the reader's end is closed as soon as Put returns. The caller's
	// cancellation reaches both through ctx (source reads, and Put's upload).
	pr, pw := io.Pipe()
	uploaded := make(chan error, 1)
	go func() {
		err := dst.Put(ctx, key, pr, ContentType)
		// If Put stopped reading, early or on error, fail the writer's next write rather than
		// leaving it blocked (a nil error makes writes fail with io.ErrClosedPipe).
		pr.CloseWithError(err)
		uploaded <- err
	}()

	writeErr := writeArchive(ctx, pw, items, started, progress)
	if writeErr != nil {
		// Cancel before closing, so that Put abandons the upload instead of committing what it
		// has read (a GCS writer commits on Close and abandons only on cancellation).
		cancel(writeErr)
		pw.CloseWithError(writeErr)
	} else {
		pw.Close()
	}
	putErr := <-uploaded
	if writeErr == nil && putErr == nil {
		return nil
	}

	var err error
	if putErr != nil && (writeErr == nil || errors.Is(writeErr, putErr)) {
		err = fmt.Errorf("videoarchive: upload %s: %w", key, putErr) // the write failed because Put stopped
	} else {
		err = fmt.Errorf("videoarchive: build %s: %w", key, writeErr)
	}
	if delErr := deletePartial(ctx, dst, key); delErr != nil {
		err = errors.Join(err, delErr)
	}
	return err
}

// deletePartial removes whatever a failed Put may have stored at key, so that no truncated
// archive is ever taken for a finished one. It runs even if ctx is cancelled.
func deletePartial(ctx context.Context, dst objects.Store, key string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deleteTimeout)
	defer cancel()
	if err := dst.Delete(ctx, key); err != nil {
		return fmt.Errorf("videoarchive: delete partial %s: %w", key, err)
	}
	return nil
}

// checkSourcesExist asks the sources that can answer cheaply whether every video is there, so
// that missing videos are all reported at once and before any upload starts. Only a definite
// "no" counts: a failed check is left to the build's own Get, which is authoritative (an S3
// HEAD without list permission answers 403 for a missing key, for instance).
func checkSourcesExist(ctx context.Context, items []Item) error {
	missing := make([]bool, len(items))
	slots := make(chan struct{}, existsConcurrency)
	var wg sync.WaitGroup
	for i, it := range items {
		ec, ok := it.Source.(existenceChecker)
		if !ok {
			continue
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return fmt.Errorf("check videos: %w", ctx.Err())
		}
		wg.Go(func() {
			defer func() { <-slots }()
			there, err := ec.Exists(ctx, it.Key)
			missing[i] = err == nil && !there
		})
	}
	wg.Wait()
	var names []string
	for i, m := range missing {
		if m {
			names = append(names, items[i].Name)
		}
	}
	if len(names) > 0 {
		return &MissingVideosError{Names: names}
	}
	return nil
}

// writeArchive writes the whole archive to w.
func writeArchive(ctx context.Context, w io.Writer, items []Item, started time.Time, progress func(done, total int)) error {
	zw := zip.NewWriter(w)
	buf := make([]byte, copyBufferSize)
	for i, it := range items {
		if err := context.Cause(ctx); err != nil {
			return err
		}
		if err := addVideo(ctx, zw, it, started, buf); err != nil {
			return err
		}
		if progress != nil {
			progress(i+1, len(items))
		}
	}
	// Close writes the central directory (and the ZIP64 end records when needed).
	if err := zw.Close(); err != nil {
		return fmt.Errorf("finish archive: %w", err)
	}
	return nil
}

// addVideo copies one video into the archive through buf.
func addVideo(ctx context.Context, zw *zip.Writer, it Item, started time.Time, buf []byte) error {
	body, err := it.Source.Get(ctx, it.Key)
	if errors.Is(err, objects.ErrNotExist) {
		return &MissingVideosError{Names: []string{it.Name}}
	}
	if err != nil {
		return fmt.Errorf("open video %q: %w", it.Name, err)
	}
	defer body.Close()

	modified := it.Modified
	if modified.IsZero() {
		modified = started
	}
	// In UTC: the MS-DOS time field has no zone and archive/zip fills it with Modified's wall
	// clock, so this keeps it in step with the (UTC) extended timestamp it also writes, whatever
	// the zone of the machine that builds the archive.
	entry, err := zw.CreateHeader(&zip.FileHeader{Name: it.Name, Method: zip.Store, Modified: modified.UTC()})
	if err != nil {
		return fmt.Errorf("add %q: %w", it.Name, err)
	}
	// The struct hides any WriterTo the body has, so that every copy goes through buf in
	// bounded writes rather than however the source likes to write itself out.
	if _, err := io.CopyBuffer(entry, struct{ io.Reader }{body}, buf); err != nil {
		return fmt.Errorf("copy video %q: %w", it.Name, err)
	}
	return nil
}
