package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/builds"
	"lookit.dev/platform/shared/events"
	"lookit.dev/platform/shared/jobs"
	pmail "lookit.dev/platform/shared/mail"
	"lookit.dev/platform/shared/postgres/db"
	"lookit.dev/platform/shared/studies"
)

// DefaultPlayerRepo and DefaultPlayerRef are what a frameplayer study without its own runner
// builds, as in Lookit (EMBER_EXP_PLAYER_REPO, EMBER_EXP_PLAYER_BRANCH).
const (
	DefaultPlayerRepo = "https://github.com/lookit/ember-lookit-frameplayer"
	DefaultPlayerRef  = "master"
)

var shaRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// RefResolver turns a branch (or tag) of a repository into its commit (shared/github).
type RefResolver interface {
	ResolveRef(ctx context.Context, repoURL, ref string) (string, error)
}

// StudyBuild is what asking for a study's runner build did.
type StudyBuild struct {
	State   string // "built": that commit was built before; "building": a build runs for it
	RepoURL string
	SHA     string
	// Request, when not nil, is a new build to publish on the study-builds topic once committed.
	Request *builds.Request
}

// RequestStudyBuild builds a frameplayer study's runner: the commit it pins (a branch is resolved
// once and the commit stored). A commit built before is used at once; one being built is waited
// for; otherwise a new build is stored for the Builds function. One build at a time per study.
// bucket is the experiments bucket the build uploads to.
func (s *Studies) RequestStudyBuild(ctx context.Context, studyID, userID int64, bucket string, resolver RefResolver) (StudyBuild, error) {
	// The branch is resolved before the transaction, which checks the pin is unchanged: it asks
	// GitHub. (Outside a transaction the query's lock ends with the statement.)
	st, err := db.New(s.Pool).LockStudyForBuild(ctx, studyID)
	if errors.Is(err, pgx.ErrNoRows) {
		return StudyBuild{}, errNoStudy
	}
	if err != nil {
		return StudyBuild{}, fmt.Errorf("postgres: study build: %w", err)
	}
	if studies.TypeOf(st.StudyTypeID) != studies.Frameplayer {
		return StudyBuild{}, apperr.New(apperr.Conflict, "only frameplayer studies are built")
	}
	repo, ref := st.RepoUrl, st.PlayerRef
	if repo == "" {
		repo = DefaultPlayerRepo
	}
	if ref == "" {
		ref = DefaultPlayerRef
	}
	sha := ref
	if !shaRE.MatchString(ref) {
		if resolver == nil {
			return StudyBuild{}, apperr.New(apperr.Unavailable, "cannot resolve %q to a commit here", ref)
		}
		if sha, err = resolver.ResolveRef(ctx, repo, ref); err != nil {
			return StudyBuild{}, err
		}
	}
	var out StudyBuild
	err = InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		locked, err := q.LockStudyForBuild(ctx, studyID)
		if err != nil {
			return err
		}
		if locked.RepoUrl != st.RepoUrl || locked.PlayerRef != st.PlayerRef {
			// Edited while the branch was being resolved: building the old pin would undo the edit.
			return apperr.New(apperr.Conflict, "the study's runner changed meanwhile; ask for the build again")
		}
		if locked.IsBuilding {
			return apperr.New(apperr.Conflict, "this study's runner is being built already")
		}
		out = StudyBuild{RepoURL: repo, SHA: sha, State: "building"}
		state, err := q.LockPlayerBuild(ctx, db.LockPlayerBuildParams{RepoUrl: repo, Sha: sha})
		switch {
		case err == nil && state == "built":
			out.State = "built"
		case err == nil && state == "building":
			// Another study's build of the same commit: its end marks this study too.
		case err == nil || errors.Is(err, pgx.ErrNoRows): // failed before, or never built
			r := builds.Request{RequestID: uuid.NewString(), Subject: "frameplayer:" + sha,
				Env: map[string]string{"REPO_URL": repo, "SHA": sha, "BUCKET": bucket}}
			body, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if err := q.StoreBuild(ctx, db.StoreBuildParams{RequestID: r.RequestID, Subject: r.Subject, Request: body}); err != nil {
				return err
			}
			if err := q.StartPlayerBuild(ctx, db.StartPlayerBuildParams{RepoUrl: repo, Sha: sha, RequestID: pgUUID(r.RequestID)}); err != nil {
				return err
			}
			out.Request = &r
		default:
			return err
		}
		if err := q.SetStudyBuild(ctx, db.SetStudyBuildParams{ID: studyID, Built: out.State == "built",
			IsBuilding: out.State == "building", RepoUrl: repo, Sha: sha}); err != nil {
			return err
		}
		action, extra := "build requested", map[string]string{"repo_url": repo, "sha": sha}
		if out.State == "built" {
			action = "deployed"
		}
		b, _ := json.Marshal(extra)
		var who *int64 // nil: the platform itself (a job)
		if userID != 0 {
			who = &userID
		}
		return q.LogStudy(ctx, db.LogStudyParams{StudyID: studyID, UserID: who, Action: action, Extra: b})
	})
	if err != nil {
		var ae *apperr.Error
		if errors.As(err, &ae) {
			return StudyBuild{}, err
		}
		return StudyBuild{}, fmt.Errorf("postgres: study build: %w", err)
	}
	return out, nil
}

// finishPlayerBuild applies a runner build's end to the studies waiting on it: built (Lookit's
// "deployed") or failed, with the log's address; their admins are told either way.
func (b *Builds) finishPlayerBuild(ctx context.Context, q *db.Queries, requestID, status, logURL string) ([]pmail.Request, error) {
	state := "failed"
	if status == builds.StatusSuccess {
		state = "built"
	}
	done, err := q.FinishPlayerBuild(ctx, db.FinishPlayerBuildParams{State: state, LogUrl: logURL, RequestID: requestID})
	if err != nil {
		return nil, err
	}
	var mails []pmail.Request
	for _, st := range done {
		action := "deployed"
		if state == "failed" {
			action = "failed to build"
		}
		extra, _ := json.Marshal(map[string]string{"sha": st.Sha, "status": status, "log_url": logURL})
		if err := q.LogStudy(ctx, db.LogStudyParams{StudyID: st.ID, Action: action, Extra: extra}); err != nil {
			return nil, err
		}
		admins, err := q.StudyAdminEmails(ctx, st.ID)
		if err != nil {
			return nil, err
		}
		if len(admins) == 0 {
			continue
		}
		c := pmail.RunnerBuilt(st.Name, st.Sha)
		if state == "failed" {
			c = pmail.RunnerBuildFailed(st.Name, st.Sha, status, logURL)
		}
		m, err := queueEmail(ctx, q, b.From, c, "", admins...)
		if err != nil {
			return nil, err
		}
		mails = append(mails, m)
	}
	return mails, nil
}

// WithBuilds adds the stale-builds job: build requests whose publication was lost are sent
// again, and builds that never reported an end are expired, freeing the studies waiting on them
// (their admins are emailed once the run commits).
func (j *Jobs) WithBuilds(pub PublisherFunc, from string) *Jobs {
	j.Funcs[jobs.StaleBuilds] = func(ctx context.Context, tx pgx.Tx) (map[string]any, error) {
		q := db.New(tx)
		requests, err := q.StaleBuildRequests(ctx)
		if err != nil {
			return nil, err
		}
		if len(requests) > 0 {
			if pub == nil {
				return nil, errors.New("no publisher")
			}
			p, err := pub(ctx)
			if err != nil {
				return nil, err
			}
			for _, r := range requests {
				// Builds.Start takes each request id once, so sending one again is harmless.
				if _, err := p.Publish(ctx, events.TopicBuilds, r, nil); err != nil {
					return nil, err
				}
			}
		}
		stuck, err := q.ExpireStuckBuilds(ctx)
		if err != nil {
			return nil, err
		}
		b := &Builds{From: from}
		for _, s := range stuck {
			if strings.HasPrefix(s.Subject, "frameplayer:") {
				mails, err := b.finishPlayerBuild(ctx, q, s.RequestID, builds.StatusExpired, s.LogUrl)
				if err != nil {
					return nil, err
				}
				publishAfterCommit(ctx, mails)
			}
		}
		return map[string]any{"republished": len(requests), "expired": len(stuck)}, nil
	}
	return j
}
