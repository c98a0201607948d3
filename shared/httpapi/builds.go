package httpapi

import (
	"context"
	"log/slog"

	"lookit.dev/platform/shared/appapi"
	"lookit.dev/platform/shared/events"
	"lookit.dev/platform/shared/logging"
)

// BuildStudy builds the study's runner (postgres.RequestStudyBuild). A new build is stored
// before it is published on the study-builds topic; a publication lost here is sent again by the
// stale-builds job, so the answer does not depend on it.
func (s *appServer) BuildStudy(ctx context.Context, _ appapi.BuildStudyRequestObject) (appapi.BuildStudyResponseObject, error) {
	st, err := s.studies(ctx)
	if err != nil {
		return nil, err
	}
	b, err := st.RequestStudyBuild(ctx, objectFrom(ctx).StudyID, PrincipalFrom(ctx).Subject.UserID,
		s.in.Config.ExperimentsBucket, s.in.RefResolver())
	if err != nil {
		return nil, err
	}
	if b.Request != nil {
		pub, err := s.in.Publisher(ctx)
		if err == nil {
			_, err = events.PublishJSON(ctx, pub, events.TopicBuilds, b.Request, nil)
		}
		if err != nil {
			logging.Error(ctx, s.in.Log, "build request not published; the stale-builds job will send it", err)
		} else {
			s.in.Log.InfoContext(ctx, "build requested", slog.String("request_id", b.Request.RequestID), slog.String("sha", b.SHA))
		}
	}
	return appapi.BuildStudy200JSONResponse{State: appapi.StudyBuildState(b.State), RepoUrl: b.RepoURL, Sha: b.SHA}, nil
}
