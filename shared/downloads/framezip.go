package downloads

import (
	"archive/zip"
	"fmt"
	"io"
	"time"
)

// zipFiles adds entries to a zip, compressed, with the download's time.
type zipFiles struct {
	zw       *zip.Writer
	modified time.Time
}

func newZipFiles(w io.Writer) zipFiles {
	return zipFiles{zw: zip.NewWriter(w), modified: time.Now()}
}

// storeBelow is the size under which a whole file is stored, not deflated: deflating would
// save a few bytes and cost a compressor reset (clearing some 600 KB of tables) per file.
const storeBelow = 512

// create starts an entry; it ends when the next starts or at close.
func (z zipFiles) create(name string) (io.Writer, error) { return z.createWith(name, zip.Deflate) }

func (z zipFiles) createWith(name string, method uint16) (io.Writer, error) {
	h := &zip.FileHeader{Name: name, Method: method, Modified: z.modified}
	h.SetMode(0o644) // else unzip leaves files readable by their owner only
	w, err := z.zw.CreateHeader(h)
	if err != nil {
		return nil, fmt.Errorf("downloads: writing zip entry %s: %w", name, err)
	}
	return w, nil
}

// file writes a whole entry.
func (z zipFiles) file(name string, content []byte) error {
	method := zip.Deflate
	if len(content) < storeBelow {
		method = zip.Store
	}
	w, err := z.createWith(name, method)
	if err != nil {
		return err
	}
	if _, err := w.Write(content); err != nil {
		return fmt.Errorf("downloads: writing zip entry %s: %w", name, err)
	}
	return nil
}

// close writes the zip's directory. It does not close the underlying writer.
func (z zipFiles) close() error {
	if err := z.zw.Close(); err != nil {
		return fmt.Errorf("downloads: writing zip directory: %w", err)
	}
	return nil
}

// lazyEntry is a zip entry created on its first write. A writer's rows reach it only when its
// buffer fills or it is closed, and a response is rejected before its first row is buffered, so
// a rejected response leaves no entry behind (a zip entry, once started, cannot be taken back).
type lazyEntry struct {
	z      zipFiles
	name   string
	w      io.Writer
	failed error
}

func (e *lazyEntry) Write(p []byte) (int, error) {
	if e.w == nil {
		if e.failed != nil {
			return 0, e.failed
		}
		if e.w, e.failed = e.z.create(e.name); e.failed != nil {
			return 0, e.failed
		}
	}
	return e.w.Write(p)
}

// frameFiles writes each response's frame data to an entry of its own, reusing one writer's
// buffers from entry to entry.
type frameFiles struct {
	z     zipFiles
	entry lazyEntry
	csv   *FrameDataCSV
}

// write writes r's frame data to the entry name. A *ResponseError means no entry was made.
func (f *frameFiles) write(name string, r *Response) error {
	f.entry = lazyEntry{z: f.z, name: name}
	if f.csv == nil {
		f.csv = NewFrameDataCSV(&f.entry)
	} else {
		f.csv.reset(&f.entry)
	}
	if err := f.csv.Write(r); err != nil {
		return err // a rejected response's header is still in the buffer, which reset drops
	}
	return f.csv.Close()
}

// reset makes f a new file written to w, dropping whatever is still buffered.
func (f *FrameDataCSV) reset(w io.Writer) {
	f.csv.w.Reset(w)
	f.csv.rowStart, f.csv.closed = true, false
	f.wroteHeader = false
}

// writeFrameDataZip writes Lookit's frame-data zip: one long-format CSV per response, named
// "<stem>_<response uuid>_frames.csv".
func writeFrameDataZip(p *passes, w io.Writer, study StudyInfo) error {
	files := frameFiles{z: newZipFiles(w)}
	err := p.each(Pass{Order: ByResponse}, func(r *Response) error {
		return files.write(FrameDataFileName(study.Name, r.UUID), r)
	})
	if err != nil {
		return err
	}
	return files.z.close()
}
