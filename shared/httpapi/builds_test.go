package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/google/uuid"

	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/builds"
	"lookit.dev/platform/shared/events"
	"lookit.dev/platform/shared/httpapi"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/postgres/pgtest"
)

type topicRecorder struct {
	mu   sync.Mutex
	msgs map[string][][]byte
}

func (r *topicRecorder) Publish(_ context.Context, topic string, data []byte, _ map[string]string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.msgs == nil {
		r.msgs = map[string][][]byte{}
	}
	r.msgs[topic] = append(r.msgs[topic], data)
	return "m", nil
}

func TestBuildStudy(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	in := newInstance(t, instance.Value(pool))
	pub := &topicRecorder{}
	in.Publisher = instance.Value[events.Publisher](pub)
	h := httpapi.New(in)
	var studyID int64
	var studyUUID string
	if err := pool.QueryRow(ctx, `WITH l AS (INSERT INTO labs (name) VALUES ('Build API Lab') RETURNING id)
		INSERT INTO studies (name, lab_id, study_type_id, max_age_years, metadata)
		SELECT 'Build API study', l.id, 1, 9, jsonb_build_object('player_repo_url', 'https://github.com/' || $1 || '/ember-lookit-frameplayer',
		       'last_known_player_sha', 'develop') FROM l
		RETURNING id, uuid::text`, "build-api-"+uuid.NewString()[:8]).Scan(&studyID, &studyUUID); err != nil {
		t.Fatal(err)
	}
	// A fork of its own: builds belong to a repository's commit, and other tests build the
	// fake GitHub's one commit of lookit's repository (a shared build publishes nothing new).
	designer := role{name: "build-designer", researcher: true, twoFactor: true, study: authz.GroupDesign}
	id := newUser(t, pool, 0, designer)
	if _, err := pool.Exec(ctx, `INSERT INTO study_researchers (study_id, user_id, grp) VALUES ($1, $2, 'design')`, studyID, id); err != nil {
		t.Fatal(err)
	}
	post := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/api/studies/"+studyUUID+"/build", nil)
		credential(t, pool, id, designer)(req)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	rec := post()
	var out struct{ State, Sha, RepoURL string }
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &out) != nil || out.State != "building" || out.Sha != "0123456789abcdef0123456789abcdef01234567" {
		t.Fatalf("build: %d %s", rec.Code, rec.Body)
	}
	// The request went to the Builds function's topic, for the resolved commit.
	var r builds.Request
	if msgs := pub.msgs[events.TopicBuilds]; len(msgs) != 1 || json.Unmarshal(msgs[0], &r) != nil || r.Env["SHA"] != out.Sha {
		t.Fatalf("published %v", pub.msgs)
	}
	if rec := post(); rec.Code != 409 {
		t.Errorf("a second build while one runs: %d %s, want 409", rec.Code, rec.Body)
	}
}
