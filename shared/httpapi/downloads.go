package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/google/uuid"

	"lookit.dev/platform/shared/appapi"
	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/downloads"
	"lookit.dev/platform/shared/events"
	"lookit.dev/platform/shared/exports"
	"lookit.dev/platform/shared/objects"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/videos"
)

// exports returns the export service.
func (s *appServer) exports(ctx context.Context) (*postgres.Exports, error) {
	pool, err := s.in.DB(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "database unavailable")
	}
	return &postgres.Exports{Pool: pool, Private: s.in.Private, From: s.in.Config.EmailFrom,
		BaseURL: s.in.Config.BaseURL.String(), Log: s.in.Log,
		Videos: func(ctx context.Context, bucket string) (objects.Store, error) {
			b, err := s.in.Videos(ctx)
			if err != nil {
				return nil, err
			}
			return videoStore(b, bucket)
		}}, nil
}

// videoStore is the store of a video row's bucket.
func videoStore(b videos.Buckets, bucket string) (objects.Store, error) {
	st := b.Named(bucket)
	if st == nil {
		return nil, fmt.Errorf("videos: no bucket %q", bucket)
	}
	return st, nil
}

// exportRequestObject loads the study an export request names: an archive of consent videos is
// consent footage (CC, or CP for previews), every other export consented data (RR or RP).
func exportRequestObject(ctx context.Context, s *appServer, request any) (authz.Object, error) {
	r, ok := request.(appapi.CreateExportRequestObject)
	if !ok {
		return authz.Object{}, fmt.Errorf("httpapi: exportRequestObject: unexpected request %T", request)
	}
	if r.Body == nil {
		return authz.Object{}, apperr.Field("", "a JSON body is required")
	}
	st, err := s.studies(ctx)
	if err != nil {
		return authz.Object{}, err
	}
	studyID, labID, err := st.ID(ctx, r.StudyId)
	if err != nil {
		return authz.Object{}, err
	}
	consentVideos := r.Body.Kind == appapi.ExportInputKindVideoArchive && r.Body.ConsentOnly != nil && *r.Body.ConsentOnly
	return authz.Object{StudyID: studyID, LabID: labID, Preview: r.Body.Preview != nil && *r.Body.Preview,
		ConsentFootage: consentVideos, Consented: !consentVideos}, nil
}

// exportObject loads an export with the rule of the request that made it.
func exportObject(ctx context.Context, s *appServer, request any) (authz.Object, error) {
	r, ok := request.(appapi.GetExportRequestObject)
	if !ok {
		return authz.Object{}, fmt.Errorf("httpapi: exportObject: unexpected request %T", request)
	}
	x, err := s.exports(ctx)
	if err != nil {
		return authz.Object{}, err
	}
	e, err := x.Get(ctx, r.ExportId)
	if err != nil {
		return authz.Object{}, err
	}
	// Only the requester follows an export; to anyone else it does not exist.
	if e.RequestedBy != PrincipalFrom(ctx).Subject.UserID {
		return authz.Object{}, apperr.New(apperr.NotFound, "no such export")
	}
	consentVideos := e.Kind == postgres.ExportVideoArchive && e.Params.ConsentOnly
	return authz.Object{StudyID: e.StudyID, LabID: e.LabID, Preview: e.Params.Preview,
		ConsentFootage: consentVideos, Consented: !consentVideos}, nil
}

func (s *appServer) DownloadStudyFile(ctx context.Context, r appapi.DownloadStudyFileRequestObject) (appapi.DownloadStudyFileResponseObject, error) {
	p := postgres.ExportParams{File: string(r.File), Preview: r.Params.Preview != nil && *r.Params.Preview}
	if r.Params.Columns != nil {
		p.Columns = *r.Params.Columns
	}
	if r.Params.Response != nil {
		p.Response = *r.Params.Response
	}
	studyID := objectFrom(ctx).StudyID
	d, err := postgres.CheckDownload(studyID, p)
	if err != nil {
		return nil, err
	}
	pool, err := s.in.DB(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "database unavailable")
	}
	dl := &postgres.Downloads{Pool: pool}
	n, err := dl.Count(ctx, d.Scope)
	if err != nil {
		return nil, err
	}
	if p.Response != "" && n == 0 {
		return nil, apperr.New(apperr.NotFound, "no such response in this download")
	}
	if limit := s.in.Config.DownloadStreamMax; n > limit {
		return nil, apperr.New(apperr.Conflict, "this download holds %d responses, more than the %d streamed directly: ask for an export (POST /api/studies/%s/exports), which emails a link", n, limit, r.StudyId)
	}
	info, _, err := dl.StudyInfo(ctx, studyID)
	if err != nil {
		return nil, err
	}
	return streamedDownload{ctx: ctx, s: s, dl: dl, d: d, info: info}, nil
}

// streamedDownload writes a download straight into the response. The status and headers go out
// with the first bytes, so an error before then is still an ordinary JSON error; one after then
// aborts the connection, so the client sees a failed download rather than a short file that
// looks complete.
type streamedDownload struct {
	ctx  context.Context
	s    *appServer
	dl   *postgres.Downloads
	d    postgres.Download
	info downloads.StudyInfo
}

func (sd streamedDownload) VisitDownloadStudyFileResponse(w http.ResponseWriter) error {
	name := sd.d.FileName(sd.info)
	lw := &lazyHeaderWriter{w: w, header: func() {
		h := w.Header()
		h.Set("Content-Type", downloads.ContentType(sd.d.File))
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
	}}
	err := sd.dl.Read(sd.ctx, sd.d.Scope, nil, func(ctx context.Context, src downloads.Source) error {
		res, err := downloads.Write(ctx, lw, sd.d.File, sd.info, sd.d.Options, src)
		if err == nil && res.SkippedCount > 0 {
			sd.s.in.Log.WarnContext(ctx, "download skipped malformed responses",
				slog.String("file", name), slog.Int("skipped", res.SkippedCount))
		}
		return err
	})
	if err == nil && !lw.started {
		lw.header() // an empty file (a dictionary of nothing) still answers 200
		lw.started = true
	}
	if err != nil && lw.started {
		sd.s.in.Log.ErrorContext(sd.ctx, "download failed mid-way", slog.String("file", name), slog.Any("error", err))
		panic(http.ErrAbortHandler)
	}
	return err
}

// lazyHeaderWriter sends the header just before the first bytes.
type lazyHeaderWriter struct {
	w       http.ResponseWriter
	header  func()
	started bool
}

func (l *lazyHeaderWriter) Write(p []byte) (int, error) {
	if !l.started {
		l.header()
		l.started = true
	}
	return l.w.Write(p)
}

func (s *appServer) CreateExport(ctx context.Context, r appapi.CreateExportRequestObject) (appapi.CreateExportResponseObject, error) {
	b := r.Body
	p := postgres.ExportParams{Preview: b.Preview != nil && *b.Preview}
	switch b.Kind {
	case appapi.ExportInputKindDownload:
		if b.File == nil {
			return nil, apperr.Field("/file", "a download names its file")
		}
		p.File = string(*b.File)
		if b.Columns != nil {
			p.Columns = *b.Columns
		}
	case appapi.ExportInputKindVideoArchive:
		p.ConsentOnly = b.ConsentOnly != nil && *b.ConsentOnly
		if b.Match != nil {
			p.Match = *b.Match
		}
	default:
		return nil, apperr.Field("/kind", "kind must be download or video_archive")
	}
	x, err := s.exports(ctx)
	if err != nil {
		return nil, err
	}
	id, created, err := x.Create(ctx, postgres.ExportRequest{StudyID: objectFrom(ctx).StudyID,
		RequestedBy: PrincipalFrom(ctx).Subject.UserID, Kind: string(b.Kind), Params: p})
	if err != nil {
		return nil, err
	}
	if created {
		// A lost publication leaves the export queued; the stale-exports job publishes it again.
		if pub, err := s.in.Publisher(ctx); err != nil {
			s.in.Log.WarnContext(ctx, "export not published", slog.String("export", id), slog.Any("error", err))
		} else if _, err := events.PublishJSON(ctx, pub, events.TopicExports, exports.Request{ExportID: id, Kind: string(b.Kind)}, nil); err != nil {
			s.in.Log.WarnContext(ctx, "export not published", slog.String("export", id), slog.Any("error", err))
		}
	}
	e, err := x.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return appapi.CreateExport202JSONResponse(exportOut(e)), nil
}

func (s *appServer) ListStudyExports(ctx context.Context, _ appapi.ListStudyExportsRequestObject) (appapi.ListStudyExportsResponseObject, error) {
	x, err := s.exports(ctx)
	if err != nil {
		return nil, err
	}
	list, err := x.List(ctx, objectFrom(ctx).StudyID, PrincipalFrom(ctx).Subject.UserID)
	if err != nil {
		return nil, err
	}
	out := make(appapi.ListStudyExports200JSONResponse, len(list))
	for i, e := range list {
		out[i] = exportOut(e)
	}
	return out, nil
}

func (s *appServer) GetExport(ctx context.Context, r appapi.GetExportRequestObject) (appapi.GetExportResponseObject, error) {
	x, err := s.exports(ctx)
	if err != nil {
		return nil, err
	}
	e, err := x.Get(ctx, r.ExportId)
	if err != nil {
		return nil, err
	}
	return appapi.GetExport200JSONResponse(exportOut(e)), nil
}

func exportOut(e postgres.Export) appapi.Export {
	out := appapi.Export{Id: uuid.MustParse(e.ID), Kind: appapi.ExportKind(e.Kind), FileName: e.FileName,
		State: appapi.ExportState(e.State), DoneItems: e.DoneItems, TotalItems: e.TotalItems, CreatedAt: e.CreatedAt,
		FinishedAt: e.FinishedAt, Bytes: e.Bytes, Preview: e.Params.Preview}
	if e.Params.File != "" {
		f := appapi.DownloadFile(e.Params.File)
		out.File = &f
	}
	if e.Error != "" {
		out.Error = &e.Error
	}
	if e.SkippedCount > 0 {
		out.Skipped, out.SkippedCount = &e.Skipped, &e.SkippedCount
	}
	if e.URL != "" {
		exp := e.URLExpires.UTC().Truncate(time.Second)
		out.DownloadUrl, out.DownloadUrlExpiresAt = &e.URL, &exp
	}
	return out
}
