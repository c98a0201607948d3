package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // the formats study images may have
	_ "image/png"
	"io"
	"net/http"
	"path"
	"strings"

	"lookit.dev/platform/shared/appapi"
	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/objects"
	"lookit.dev/platform/shared/studies"
)

// maxImageSide bounds the pixels a study image may claim, so that a small file cannot ask a
// browser (or anything decoding it later) for gigabytes.
const maxImageSide = 4096

// checkImage reads a study image and returns its format: PNG or JPEG, square (Lookit's rule), at
// most maxImageSide pixels a side.
func checkImage(data []byte) (string, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || (format != "png" && format != "jpeg") {
		return "", apperr.Field("/image", "the image must be a PNG or JPEG file")
	}
	if cfg.Width != cfg.Height || cfg.Width < 2 {
		return "", apperr.Field("/image", "the image must be square (it is %d×%d pixels)", cfg.Width, cfg.Height)
	}
	if cfg.Width > maxImageSide {
		return "", apperr.Field("/image", "the image must be at most %d pixels a side", maxImageSide)
	}
	return format, nil
}

func (s *appServer) SetStudyImage(ctx context.Context, req appapi.SetStudyImageRequestObject) (appapi.SetStudyImageResponseObject, error) {
	data, err := io.ReadAll(req.Body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, apperr.New(apperr.TooLarge, "the image must be at most %d KiB", imageLimit>>10)
	}
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Invalid, "could not read the image")
	}
	format, err := checkImage(data)
	if err != nil {
		return nil, err
	}
	st, err := s.studies(ctx)
	if err != nil {
		return nil, err
	}
	studyID := objectFrom(ctx).StudyID
	study, err := st.Find(ctx, studyID)
	if err != nil {
		return nil, err
	}
	// Content-addressed under the canonical UUID, so a replaced image never serves stale.
	key := fmt.Sprintf("study-images/%s/%x.%s", study.Uuid, sha256.Sum256(data), format)
	store, err := s.in.Experiments(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "image storage unavailable")
	}
	if err := store.Put(ctx, key, bytes.NewReader(data), "image/"+format); err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "image storage unavailable")
	}
	mails, err := st.SetImage(ctx, PrincipalFrom(ctx).Subject.UserID, studyID, key)
	if err != nil {
		return nil, err
	}
	s.publish(ctx, mails)
	return appapi.SetStudyImage204Response{}, nil
}

// studyImage opens a study's image, or answers 404 when it has none. The generated response
// closes the reader once it is copied.
func (s *appServer) studyImage(ctx context.Context, object string) (io.ReadCloser, string, error) {
	if object == "" {
		return nil, "", apperr.New(apperr.NotFound, "this study has no image")
	}
	store, err := s.in.Experiments(ctx)
	if err != nil {
		return nil, "", apperr.Wrap(err, apperr.Unavailable, "image storage unavailable")
	}
	rc, err := store.Get(ctx, object)
	if errors.Is(err, objects.ErrNotExist) {
		return nil, "", apperr.New(apperr.NotFound, "this study has no image")
	}
	if err != nil {
		return nil, "", apperr.Wrap(err, apperr.Unavailable, "image storage unavailable")
	}
	return rc, "image/" + strings.TrimPrefix(path.Ext(object), "."), nil
}

func (s *appServer) GetStudyImage(ctx context.Context, _ appapi.GetStudyImageRequestObject) (appapi.GetStudyImageResponseObject, error) {
	st, err := s.studies(ctx)
	if err != nil {
		return nil, err
	}
	r, err := st.Find(ctx, objectFrom(ctx).StudyID)
	if err != nil {
		return nil, err
	}
	rc, ct, err := s.studyImage(ctx, r.ImageObject)
	if err != nil {
		return nil, err
	}
	return appapi.GetStudyImage200ImageResponse{Body: rc, ContentType: ct}, nil
}

func (s *appServer) GetPublicStudyImage(ctx context.Context, req appapi.GetPublicStudyImageRequestObject) (appapi.GetPublicStudyImageResponseObject, error) {
	st, err := s.studies(ctx)
	if err != nil {
		return nil, err
	}
	id, _, err := st.ID(ctx, req.StudyId)
	if err != nil {
		return nil, err
	}
	r, err := st.Find(ctx, id)
	if err != nil {
		return nil, err
	}
	if studies.State(r.State) != studies.Active {
		return nil, apperr.New(apperr.NotFound, "no such study")
	}
	rc, ct, err := s.studyImage(ctx, r.ImageObject)
	if err != nil {
		return nil, err
	}
	return appapi.GetPublicStudyImage200ImageResponse{Body: rc, ContentType: ct}, nil
}
