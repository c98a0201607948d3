package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/downloads"
	"lookit.dev/platform/shared/events"
	"lookit.dev/platform/shared/exports"
	"lookit.dev/platform/shared/jobs"
	pmail "lookit.dev/platform/shared/mail"
	"lookit.dev/platform/shared/objects"
	"lookit.dev/platform/shared/postgres/db"
	"lookit.dev/platform/shared/videoarchive"
)

// Export kinds (exports.kind and the exports topic's Request.Kind).
const (
	ExportDownload     = "download"
	ExportVideoArchive = "video_archive"
)

// How long the emailed links work: a download's for a day, as the issue asks; a video archive's
// for 30 minutes, as Lookit's did (it is the most sensitive file the platform hands out).
const (
	DownloadLinkValidity     = 24 * time.Hour
	VideoArchiveLinkValidity = 30 * time.Minute
)

// ExportParams is what an export makes; stored as exports.params.
type ExportParams struct {
	File        string   `json:"file,omitempty"`    // a DownloadFiles name, for downloads
	Columns     []string `json:"columns,omitempty"` // a download's optional columns
	Preview     bool     `json:"preview"`
	Response    string   `json:"response,omitempty"`     // one response's UUID, for a single-response download
	ConsentOnly bool     `json:"consent_only,omitempty"` // a video archive of consent videos only
	Match       string   `json:"match,omitempty"`        // a video archive of names containing this
}

// DownloadFiles maps the API's file names to the download files.
var DownloadFiles = map[string]downloads.File{
	"summary_csv":           downloads.SummaryFile,
	"summary_dict_csv":      downloads.SummaryDictionaryFile,
	"responses_json":        downloads.ResponsesJSONFile,
	"children_csv":          downloads.ChildrenFile,
	"children_dict_csv":     downloads.ChildrenDictionaryFile,
	"demographics_csv":      downloads.DemographicsFile,
	"demographics_json":     downloads.DemographicsJSONFile,
	"demographics_dict_csv": downloads.DemographicsDictionaryFile,
	"frame_data_zip":        downloads.FrameDataZipFile,
	"frame_dict_csv":        downloads.FrameDictionaryFile,
	"psychds_zip":           downloads.PsychDSFile,
}

// Download is a checked download request.
type Download struct {
	File    downloads.File
	Options downloads.Options
	Scope   DownloadScope
}

// CheckDownload checks a download's parameters; errors name the field at fault.
func CheckDownload(studyID int64, p ExportParams) (Download, error) {
	f, ok := DownloadFiles[p.File]
	if !ok {
		return Download{}, apperr.Field("/file", "file must be one of the download files")
	}
	opts := deidentifiedDefaults()
	if p.Columns != nil {
		var err error
		if opts, err = downloads.NewOptions(p.Columns...); err != nil {
			return Download{}, apperr.Field("/columns", "%v", err)
		}
	}
	return Download{File: f, Options: opts, Scope: DownloadScope{StudyID: studyID, Preview: p.Preview, Response: p.Response}}, nil
}

// deidentifiedDefaults are Lookit's default optional columns without the identifiable ones
// (Lookit checks child__additional_information by default): identifiable columns come only when
// the researcher names them.
func deidentifiedDefaults() downloads.Options {
	var ids []string
	for _, c := range downloads.SummaryColumns() {
		if c.Optional && c.DefaultOn && !c.Identifiable {
			ids = append(ids, c.ID)
		}
	}
	o, err := downloads.NewOptions(ids...)
	if err != nil { // cannot happen: the ids are the package's own; fall back to no optional column
		o, _ = downloads.NewOptions()
	}
	return o
}

// FileName is the download's file name: Lookit's single-response names for one response's
// overview row or JSON, else the study-wide name.
func (d Download) FileName(study downloads.StudyInfo) string {
	if id, err := uuid.Parse(d.Scope.Response); err == nil {
		switch d.File {
		case downloads.SummaryFile:
			return downloads.ResponseFileName(study.Name, id, false, d.Options)
		case downloads.ResponsesJSONFile:
			return downloads.ResponseFileName(study.Name, id, true, d.Options)
		}
	}
	return downloads.FileName(study, d.File, d.Options)
}

// Export is an export as its requester sees it.
type Export struct {
	ID, Kind, FileName, State, Error string
	Params                           ExportParams
	DoneItems                        int
	TotalItems                       *int
	Bytes                            *int64
	Skipped                          []string
	SkippedCount                     int
	CreatedAt                        time.Time
	FinishedAt                       *time.Time
	// Set by Get once done: a fresh link to the file and when it stops working.
	URL        string
	URLExpires time.Time
	// Where the study and its lab are, to authorize reading the export.
	StudyID, LabID, RequestedBy int64
}

// Exports makes the files researchers download in the background: it records requests, runs
// them on the exports topic, and emails the requester a signed link.
type Exports struct {
	Pool *pgxpool.Pool
	// Private returns the private bucket the files go to (built on first use: listing exports
	// needs no storage client).
	Private func(context.Context) (objects.Store, error)
	// Videos returns the store of a video row's bucket ("pipe", "recorder", "jspsych").
	Videos  func(ctx context.Context, bucket string) (objects.Store, error)
	From    string // the platform's sender address
	BaseURL string // the site, for links back to the study
	Log     *slog.Logger
	// Lease is how long a run holds the export without a heartbeat before another delivery may
	// take it over; Heartbeat is how often a run renews it. MaxAttempts runs fail the export.
	Lease, Heartbeat time.Duration
	MaxAttempts      int
}

func (x *Exports) lease() time.Duration {
	if x.Lease > 0 {
		return x.Lease
	}
	return 2 * time.Minute
}

func (x *Exports) heartbeat() time.Duration {
	if x.Heartbeat > 0 {
		return x.Heartbeat
	}
	return x.lease() / 4
}

func (x *Exports) maxAttempts() int {
	if x.MaxAttempts > 0 {
		return x.MaxAttempts
	}
	return 5
}

// ExportRequest is a researcher's request for an export of a study.
type ExportRequest struct {
	StudyID, RequestedBy int64
	Kind                 string
	Params               ExportParams
}

// Create records an export and returns its id and whether it is new: the same request by the
// same researcher while one is still queued or running returns that one, so a double click
// makes one file and one email. The caller publishes a new export's id on the exports topic.
func (x *Exports) Create(ctx context.Context, r ExportRequest) (id string, created bool, err error) {
	params, err := json.Marshal(r.Params)
	if err != nil {
		return "", false, fmt.Errorf("postgres: export params: %w", err)
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%d\x00%d\x00%s\x00%s", r.StudyID, r.RequestedBy, r.Kind, params))
	key := hex.EncodeToString(sum[:])
	err = InTx(ctx, x.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		info, err := q.DownloadStudy(ctx, r.StudyID)
		if err != nil {
			return err
		}
		var name string
		switch r.Kind {
		case ExportDownload:
			d, err := CheckDownload(r.StudyID, r.Params)
			if err != nil {
				return err
			}
			si, _, err := studyInfoOf(info)
			if err != nil {
				return err
			}
			name = d.FileName(si)
		case ExportVideoArchive:
			n, err := q.ArchiveVideos(ctx, archiveQuery(r.StudyID, r.Params))
			if err != nil {
				return err
			}
			if len(n) == 0 {
				return apperr.Field("/match", "no videos of this study match")
			}
			name = archiveFileName(info.Name, r.Params) + ".zip"
		default:
			return apperr.Field("/kind", "kind must be download or video_archive")
		}
		// One request at a time per key: a concurrent double click waits here, then finds the first.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key); err != nil {
			return err
		}
		existing, err := q.UnfinishedExport(ctx, key)
		if err == nil {
			id, created = existing, false
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		id, err = q.InsertExport(ctx, db.InsertExportParams{StudyID: r.StudyID, RequestedBy: &r.RequestedBy, Kind: r.Kind,
			Params: params, RequestKey: key, FileName: name})
		created = err == nil
		return err
	})
	if err != nil {
		return "", false, fmt.Errorf("postgres: create export: %w", err)
	}
	return id, created, nil
}

func archiveQuery(studyID int64, p ExportParams) db.ArchiveVideosParams {
	return db.ArchiveVideosParams{StudyID: studyID, Preview: p.Preview, ConsentOnly: p.ConsentOnly, Match: p.Match}
}

// archiveFileName is Lookit's archive file name before its hash: the study's file stem and
// which videos.
func archiveFileName(study string, p ExportParams) string {
	name := downloads.StudyFileStem(study) + "_videos"
	if p.ConsentOnly {
		name = downloads.StudyFileStem(study) + "_consent_videos"
	}
	if p.Preview {
		name += "_preview"
	}
	return name
}

var errNoExport = apperr.New(apperr.NotFound, "no such export")

// Get returns an export; once done, with a fresh signed link to its file.
func (x *Exports) Get(ctx context.Context, id string) (Export, error) {
	r, err := x.get(ctx, db.New(x.Pool), id)
	if err != nil {
		return Export{}, err
	}
	e := Export{ID: r.ID, Kind: r.Kind, FileName: r.FileName, State: r.State, Error: r.Error, DoneItems: int(r.DoneItems),
		Skipped: r.Skipped, SkippedCount: int(r.SkippedCount), CreatedAt: r.CreatedAt.Time, Bytes: r.Bytes,
		StudyID: r.StudyID, LabID: r.LabID}
	if r.RequestedBy != nil {
		e.RequestedBy = *r.RequestedBy
	}
	if r.TotalItems != nil {
		n := int(*r.TotalItems)
		e.TotalItems = &n
	}
	if r.FinishedAt.Valid {
		e.FinishedAt = &r.FinishedAt.Time
	}
	if err := json.Unmarshal(r.Params, &e.Params); err != nil {
		return Export{}, fmt.Errorf("postgres: export params: %w", err)
	}
	if r.State == "done" && r.ObjectKey != nil {
		valid := linkValidity(r.Kind)
		private, err := x.Private(ctx)
		if err != nil {
			return Export{}, apperr.Wrap(err, apperr.Unavailable, "storage unavailable")
		}
		if e.URL, err = private.SignedURL(ctx, *r.ObjectKey, "GET", valid); err != nil {
			return Export{}, fmt.Errorf("postgres: export link: %w", err)
		}
		e.URLExpires = time.Now().Add(valid)
	}
	return e, nil
}

func linkValidity(kind string) time.Duration {
	if kind == ExportVideoArchive {
		return VideoArchiveLinkValidity
	}
	return DownloadLinkValidity
}

func (x *Exports) get(ctx context.Context, q *db.Queries, id string) (db.GetExportRow, error) {
	if !isUUID(id) {
		return db.GetExportRow{}, errNoExport
	}
	r, err := q.GetExport(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, errNoExport
	}
	if err != nil {
		return r, fmt.Errorf("postgres: export: %w", err)
	}
	return r, nil
}

// List returns a researcher's exports of a study, newest first.
func (x *Exports) List(ctx context.Context, studyID, userID int64) ([]Export, error) {
	rows, err := db.New(x.Pool).ListExports(ctx, db.ListExportsParams{StudyID: studyID, RequestedBy: &userID})
	if err != nil {
		return nil, fmt.Errorf("postgres: list exports: %w", err)
	}
	out := make([]Export, 0, len(rows))
	for _, r := range rows {
		e := Export{ID: r.ID, Kind: r.Kind, FileName: r.FileName, State: r.State, Error: r.Error, DoneItems: int(r.DoneItems),
			Skipped: r.Skipped, SkippedCount: int(r.SkippedCount), CreatedAt: r.CreatedAt.Time, Bytes: r.Bytes,
			StudyID: studyID, RequestedBy: userID}
		if r.TotalItems != nil {
			n := int(*r.TotalItems)
			e.TotalItems = &n
		}
		if r.FinishedAt.Valid {
			e.FinishedAt = &r.FinishedAt.Time
		}
		_ = json.Unmarshal(r.Params, &e.Params)
		out = append(out, e)
	}
	return out, nil
}

// ErrExportBusy is returned while another run holds a live lease on the export: the delivery
// should be retried later, when that run has finished (and the retry does nothing) or died (and
// the retry takes over).
var ErrExportBusy = errors.New("postgres: export is being made by another run")

// errLostLease stops a run whose lease another run took over.
var errLostLease = errors.New("postgres: export lease lost")

// Run makes the export id, once: a delivery for an export that is done or failed does nothing,
// one for an export under a live lease returns ErrExportBusy, and otherwise the run leases it,
// writes the file to the private bucket and, in one transaction, marks it done and queues the
// email with the link. It returns the email to publish. A run killed mid-way leaves the lease to
// run out; the next delivery starts the file again from the beginning (an object is replaced
// whole, so nothing half-written is ever linked).
func (x *Exports) Run(ctx context.Context, id string) ([]pmail.Request, error) {
	q := db.New(x.Pool)
	e, err := x.get(ctx, q, id)
	if errors.Is(err, errNoExport) {
		return nil, nil // its study was deleted: nothing to make
	}
	if err != nil {
		return nil, err
	}
	if e.State == "done" || e.State == "failed" {
		return nil, nil
	}
	attempt, err := q.LeaseExport(ctx, db.LeaseExportParams{ID: id, LeaseSeconds: x.lease().Seconds()})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrExportBusy
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: lease export: %w", err)
	}
	if int(attempt) > x.maxAttempts() {
		return x.fail(ctx, e, attempt, fmt.Sprintf("it failed %d times", attempt-1))
	}
	var params ExportParams
	if err := json.Unmarshal(e.Params, &params); err != nil {
		return x.fail(ctx, e, attempt, "its parameters are not readable")
	}

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var progress struct {
		sync.Mutex
		done  int
		total *int32
	}
	setProgress := func(done, total int) {
		progress.Lock()
		progress.done = done
		t := int32(total)
		progress.total = &t
		progress.Unlock()
	}
	beats := make(chan struct{})
	go func() {
		defer close(beats)
		t := time.NewTicker(x.heartbeat())
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
			}
			progress.Lock()
			done, total := progress.done, progress.total
			progress.Unlock()
			n, err := q.ExportHeartbeat(runCtx, db.ExportHeartbeatParams{ID: id, Attempt: attempt, DoneItems: int32(done), TotalItems: total})
			if err == nil && n == 0 {
				cancel(errLostLease)
				return
			}
		}
	}()

	var out madeExport
	switch e.Kind {
	case ExportDownload:
		out, err = x.makeDownload(runCtx, e, params, setProgress)
	case ExportVideoArchive:
		out, err = x.makeArchive(runCtx, e, params, setProgress)
	default:
		err = permanent{fmt.Errorf("unknown export kind %q", e.Kind)}
	}
	cancel(nil)
	<-beats
	if errors.Is(context.Cause(runCtx), errLostLease) {
		return nil, nil // another run has it now and will finish it
	}
	var perm permanent
	if errors.As(err, &perm) {
		return x.fail(ctx, e, attempt, perm.Error())
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: export %s: %w", id, err)
	}
	return x.finish(ctx, e, attempt, out)
}

// permanent marks an export error that no retry can mend.
type permanent struct{ error }

// madeExport is what a run wrote.
type madeExport struct {
	key      string
	bytes    int64
	items    int
	skipped  []string
	nSkipped int
}

func (x *Exports) finish(ctx context.Context, e db.GetExportRow, attempt int32, out madeExport) ([]pmail.Request, error) {
	valid := linkValidity(e.Kind)
	private, err := x.Private(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: private bucket: %w", err)
	}
	link, err := private.SignedURL(ctx, out.key, "GET", valid)
	if err != nil {
		return nil, fmt.Errorf("postgres: export link: %w", err)
	}
	var queued []pmail.Request
	err = InTx(ctx, x.Pool, func(tx pgx.Tx) error {
		queued = nil
		q := db.New(tx)
		var emailID *string
		if e.RequesterEmail != "" && e.RequesterActive {
			m, err := queueEmail(ctx, q, x.From, pmail.ExportReady(e.StudyName, e.FileName, link, validityText(valid),
				out.nSkipped, x.studyPage(e)), "", e.RequesterEmail)
			if err != nil {
				return err
			}
			queued, emailID = []pmail.Request{m}, &m.ID
		}
		skipped := out.skipped
		if skipped == nil {
			skipped = []string{}
		}
		var size *int64 // unknown for a video archive: the stream's length is never counted
		if e.Kind == ExportDownload {
			size = &out.bytes
		}
		n, err := q.FinishExport(ctx, db.FinishExportParams{ID: e.ID, Attempt: attempt, ObjectKey: &out.key, Bytes: size,
			DoneItems: int32(out.items), Skipped: skipped, SkippedCount: int32(out.nSkipped), EmailID: emailID})
		if err != nil {
			return err
		}
		if n == 0 {
			return errLostLease // another run took over: it sends the one email
		}
		return nil
	})
	if errors.Is(err, errLostLease) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: finish export: %w", err)
	}
	return queued, nil
}

func (x *Exports) fail(ctx context.Context, e db.GetExportRow, attempt int32, reason string) ([]pmail.Request, error) {
	var queued []pmail.Request
	err := InTx(ctx, x.Pool, func(tx pgx.Tx) error {
		queued = nil
		q := db.New(tx)
		var emailID *string
		if e.RequesterEmail != "" && e.RequesterActive {
			m, err := queueEmail(ctx, q, x.From, pmail.ExportFailed(e.StudyName, e.FileName, reason, x.studyPage(e)), "", e.RequesterEmail)
			if err != nil {
				return err
			}
			queued, emailID = []pmail.Request{m}, &m.ID
		}
		n, err := q.FailExport(ctx, db.FailExportParams{ID: e.ID, Attempt: attempt, Error: reason, EmailID: emailID})
		if err != nil {
			return err
		}
		if n == 0 {
			return errLostLease
		}
		return nil
	})
	if errors.Is(err, errLostLease) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: fail export: %w", err)
	}
	if x.Log != nil {
		x.Log.WarnContext(ctx, "export failed", slog.String("export", e.ID), slog.String("reason", reason))
	}
	return queued, nil
}

func (x *Exports) studyPage(e db.GetExportRow) string {
	if x.BaseURL == "" {
		return ""
	}
	return strings.TrimRight(x.BaseURL, "/") + "/exp/studies/" + e.StudyUuid + "/"
}

func validityText(d time.Duration) string {
	if d >= time.Hour {
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return fmt.Sprintf("%d minutes", int(d.Minutes()))
}

// exportKey is where an export's file goes in the private bucket: under its study and export, so
// a retry replaces its own object and nothing else.
func exportKey(e db.GetExportRow) string {
	return "exports/" + e.StudyUuid + "/" + e.ID + "/" + e.FileName
}

// countingWriter counts what passes through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func (x *Exports) makeDownload(ctx context.Context, e db.GetExportRow, p ExportParams, progress func(done, total int)) (madeExport, error) {
	d, err := CheckDownload(e.StudyID, p)
	if err != nil {
		return madeExport{}, permanent{err}
	}
	dl := &Downloads{Pool: x.Pool}
	count, err := dl.Count(ctx, d.Scope)
	if err != nil {
		return madeExport{}, err
	}
	passes := downloads.Passes(d.File)
	total := count * passes
	progress(0, total)
	key := exportKey(e)
	pr, pw := io.Pipe()
	cw := &countingWriter{w: pw}
	var res downloads.Result
	written := make(chan error, 1)
	go func() {
		err := dl.Read(ctx, d.Scope, func(pass, done int) { progress(min((pass-1)*count+done, total), total) },
			func(ctx context.Context, src downloads.Source) error {
				info, _, err := dl.StudyInfo(ctx, e.StudyID)
				if err != nil {
					return err
				}
				res, err = downloads.Write(ctx, cw, d.File, info, d.Options, src)
				return err
			})
		pw.CloseWithError(err)
		written <- err
	}()
	private, err := x.Private(ctx)
	if err != nil {
		return madeExport{}, err
	}
	putErr := private.Put(ctx, key, pr, downloads.ContentType(d.File))
	pr.CloseWithError(errors.Join(putErr, io.ErrClosedPipe))
	writeErr := <-written
	if writeErr != nil {
		return madeExport{}, writeErr
	}
	if putErr != nil {
		return madeExport{}, putErr
	}
	out := madeExport{key: key, bytes: cw.n, items: res.Responses, nSkipped: res.SkippedCount}
	for _, s := range res.Skipped {
		out.skipped = append(out.skipped, s.UUID.String()+": "+s.Reason)
	}
	return out, nil
}

func (x *Exports) makeArchive(ctx context.Context, e db.GetExportRow, p ExportParams, progress func(done, total int)) (madeExport, error) {
	rows, err := db.New(x.Pool).ArchiveVideos(ctx, archiveQuery(e.StudyID, p))
	if err != nil {
		return madeExport{}, err
	}
	if len(rows) == 0 {
		return madeExport{}, permanent{errors.New("no videos of the study match")}
	}
	items := make([]videoarchive.Item, 0, len(rows))
	stores := map[string]objects.Store{}
	for _, r := range rows {
		st, ok := stores[r.Bucket]
		if !ok {
			if st, err = x.Videos(ctx, r.Bucket); err != nil {
				return madeExport{}, err
			}
			stores[r.Bucket] = st
		}
		items = append(items, videoarchive.Item{Source: st, Key: r.FullName, Name: r.FullName, Modified: r.S3Timestamp.Time})
	}
	progress(0, len(items))
	private, err := x.Private(ctx)
	if err != nil {
		return madeExport{}, err
	}
	key, _, err := videoarchive.Ensure(ctx, private, "exports/"+e.StudyUuid+"/"+archiveFileName(e.StudyName, p), items, progress)
	var missing *videoarchive.MissingVideosError
	if errors.As(err, &missing) {
		// A video row whose object is gone (deleted, or never uploaded) cannot be archived by
		// any retry; say which, so the researcher can narrow the request.
		return madeExport{}, permanent{err}
	}
	if errors.Is(err, videoarchive.ErrUnsafeName) {
		return madeExport{}, permanent{err}
	}
	if err != nil {
		return madeExport{}, err
	}
	return madeExport{key: key, items: len(items)}, nil
}

// isUUID reports whether s is a UUID in any of the forms PostgreSQL accepts.
func isUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil
}

// staleExportAge is how long an export may wait in the queue before the stale-exports job
// publishes it again: longer than Pub/Sub takes to deliver a message that was published.
const staleExportAge = 10 * time.Minute

// WithExports adds the stale-exports job: exports still queued long after they were asked for
// (their publication was lost) and runs whose lease ran out (they died, and Pub/Sub may have
// given up on the message) are published again. Run makes each export once, so a redundant
// publication is harmless.
func (j *Jobs) WithExports(pub PublisherFunc, lease time.Duration) *Jobs {
	if lease <= 0 {
		lease = (&Exports{}).lease()
	}
	j.Funcs[jobs.StaleExports] = func(ctx context.Context, tx pgx.Tx) (map[string]any, error) {
		stale, err := db.New(tx).StaleExports(ctx, db.StaleExportsParams{QueuedSeconds: staleExportAge.Seconds(), LeaseSeconds: lease.Seconds()})
		if err != nil {
			return nil, err
		}
		if len(stale) > 0 {
			if pub == nil {
				return nil, errors.New("no publisher")
			}
			p, err := pub(ctx)
			if err != nil {
				return nil, err
			}
			for _, e := range stale {
				data, err := json.Marshal(exports.Request{ExportID: e.ID, Kind: e.Kind})
				if err != nil {
					return nil, err
				}
				if _, err := p.Publish(ctx, events.TopicExports, data, nil); err != nil {
					return nil, err
				}
			}
		}
		return map[string]any{"republished": len(stale)}, nil
	}
	return j
}
