package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"lookit.dev/platform/shared/appapi"
	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/postgres"
)

// VideoLinkTTL is how long a signed video link works: long enough to start watching, short
// enough that a link copied out of the browser soon stops working.
const VideoLinkTTL = 10 * time.Minute

func (s *appServer) videos(ctx context.Context) (*postgres.Videos, error) {
	pool, err := s.in.DB(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "database unavailable")
	}
	return &postgres.Videos{Pool: pool}, nil
}

// videoObject loads what authz.WatchVideo decides on: the video's study, whether its response is
// preview data and consented, and whether it is consent footage.
func videoObject(ctx context.Context, s *appServer, request any) (authz.Object, error) {
	r, ok := request.(appapi.GetVideoUrlRequestObject)
	if !ok {
		return authz.Object{}, fmt.Errorf("httpapi: videoObject: unexpected request %T", request)
	}
	v, err := s.videos(ctx)
	if err != nil {
		return authz.Object{}, err
	}
	a, err := v.ForAccess(ctx, r.VideoId)
	if err != nil {
		return authz.Object{}, err
	}
	return authz.Object{StudyID: a.StudyID, LabID: a.LabID, Preview: a.Preview, Consented: a.Consented,
		ConsentFootage: a.ConsentFootage}, nil
}

// GetVideoUrl signs a link to the video in the bucket its row names (reference §1.2), to play
// or, with download, to save under its own name.
func (s *appServer) GetVideoUrl(ctx context.Context, r appapi.GetVideoUrlRequestObject) (appapi.GetVideoUrlResponseObject, error) {
	link, err := s.videoLink(ctx, r.VideoId, r.Params.Download != nil && *r.Params.Download)
	if err != nil {
		return nil, err
	}
	return appapi.GetVideoUrl200JSONResponse(link), nil
}

// ownVideoObject loads the family of the child in a video, for the family's own playback.
func ownVideoObject(ctx context.Context, s *appServer, request any) (authz.Object, error) {
	r, ok := request.(appapi.GetOwnVideoUrlRequestObject)
	if !ok {
		return authz.Object{}, fmt.Errorf("httpapi: ownVideoObject: unexpected request %T", request)
	}
	v, err := s.videos(ctx)
	if err != nil {
		return authz.Object{}, err
	}
	a, err := v.ForAccess(ctx, r.VideoId)
	if err != nil {
		return authz.Object{}, err
	}
	return authz.Object{OwnerID: a.FamilyID}, nil // another family is refused, as for its children
}

// GetOwnVideoUrl signs a link to a video of the family's own session (Lookit's past studies).
func (s *appServer) GetOwnVideoUrl(ctx context.Context, r appapi.GetOwnVideoUrlRequestObject) (appapi.GetOwnVideoUrlResponseObject, error) {
	link, err := s.videoLink(ctx, r.VideoId, false)
	if err != nil {
		return nil, err
	}
	return appapi.GetOwnVideoUrl200JSONResponse(link), nil
}

// videoLink signs a link to a video, valid for VideoLinkTTL; the route has authorized it.
func (s *appServer) videoLink(ctx context.Context, videoID string, download bool) (appapi.VideoLink, error) {
	v, err := s.videos(ctx)
	if err != nil {
		return appapi.VideoLink{}, err
	}
	a, err := v.ForAccess(ctx, videoID)
	if err != nil {
		return appapi.VideoLink{}, err
	}
	buckets, err := s.in.Videos(ctx)
	if err != nil {
		return appapi.VideoLink{}, apperr.Wrap(err, apperr.Unavailable, "video storage unavailable")
	}
	b := buckets.Named(a.Bucket)
	if b == nil {
		return appapi.VideoLink{}, fmt.Errorf("httpapi: video in unknown bucket %q", a.Bucket)
	}
	var url string
	if download {
		url, err = b.DownloadURL(ctx, a.FullName, a.FullName, VideoLinkTTL)
	} else {
		url, err = b.SignedURL(ctx, a.FullName, http.MethodGet, VideoLinkTTL)
	}
	if err != nil {
		return appapi.VideoLink{}, apperr.Wrap(err, apperr.Unavailable, "video storage unavailable")
	}
	w, _ := httpFrom(ctx)
	w.Header().Set("Cache-Control", "no-store") // the link is a credential for ten minutes
	return appapi.VideoLink{Url: url, Filename: a.FullName, ExpiresAt: time.Now().Add(VideoLinkTTL).UTC()}, nil
}

// DeletePreviewData deletes the study's preview responses (Lookit's "delete all preview data").
func (s *appServer) DeletePreviewData(ctx context.Context, _ appapi.DeletePreviewDataRequestObject) (appapi.DeletePreviewDataResponseObject, error) {
	v, err := s.videos(ctx)
	if err != nil {
		return nil, err
	}
	responses, videos, err := v.DeletePreviewData(ctx, objectFrom(ctx).StudyID, PrincipalFrom(ctx).Subject.UserID)
	if err != nil {
		return nil, err
	}
	return appapi.DeletePreviewData200JSONResponse{Responses: responses, Videos: videos}, nil
}
