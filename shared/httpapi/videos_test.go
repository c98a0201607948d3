package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/httpapi"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/postgres/pgtest"
)

func TestVideoURL(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	in := newInstance(t, instance.Value(pool))
	buckets := fakeVideoBuckets(t)
	in.Videos = instance.Value(buckets)
	h := httpapi.New(in)
	var labID, studyID int64
	if err := pool.QueryRow(ctx, `INSERT INTO labs (name) VALUES ('Video Lab') RETURNING id`).Scan(&labID); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id, max_age_years) VALUES ('Video study', $1, 1, 9) RETURNING id`, labID).Scan(&studyID); err != nil {
		t.Fatal(err)
	}
	analyst := role{name: "video-analyst", researcher: true, twoFactor: true, study: authz.GroupAnalysis}
	coder := role{name: "video-coder", researcher: true, twoFactor: true, study: authz.GroupSubmissionProcessor}
	ids := map[string]int64{}
	for _, r := range []role{analyst, coder, {name: "video-family"}} {
		ids[r.name] = newUser(t, pool, 0, r)
		if r.study != "" {
			if _, err := pool.Exec(ctx, `INSERT INTO study_researchers (study_id, user_id, grp) VALUES ($1, $2, $3)`, studyID, ids[r.name], r.study); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Two responses, consented and not, each with a session video and a consent video.
	videos := map[string]string{} // "consented/session" → uuid
	for _, consented := range []bool{true, false} {
		var responseID int64
		if err := pool.QueryRow(ctx, `WITH c AS (INSERT INTO children (user_id, given_name, birthday, gender) VALUES ($1, 'K', current_date - 300, 'f') RETURNING id)
			INSERT INTO responses (study_id, child_id, study_type_id, completed_consent_frame) SELECT $2, c.id, 1, true FROM c RETURNING id`,
			ids["video-family"], studyID).Scan(&responseID); err != nil {
			t.Fatal(err)
		}
		state := "pending"
		if consented {
			state = "consented"
			if _, err := pool.Exec(ctx, `INSERT INTO consent_rulings (response_id, action) VALUES ($1, 'accepted')`, responseID); err != nil {
				t.Fatal(err)
			}
		}
		for _, kind := range []string{"session", "consent"} {
			name := "videoStream_" + state + "_" + kind + "_" + time.Now().Format("150405.000000") + ".webm"
			if err := buckets.Recorder.Put(ctx, name, strings.NewReader("video of "+name), "video/webm"); err != nil {
				t.Fatal(err)
			}
			var id string
			if err := pool.QueryRow(ctx, `INSERT INTO videos (s3_timestamp, frame_id, full_name, bucket, study_id, response_id, is_consent_footage)
				VALUES (now(), '0-a', $1, 'recorder', $2, $3, $4) RETURNING uuid::text`, name, studyID, responseID, kind == "consent").Scan(&id); err != nil {
				t.Fatal(err)
			}
			videos[state+"/"+kind] = id
		}
	}
	get := func(r role, path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		credential(t, pool, ids[r.name], r)(req)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, c := range []struct {
		who   role
		video string
		code  int
	}{
		{analyst, "consented/session", 200},
		{analyst, "consented/consent", 200},
		{analyst, "pending/session", 403},
		{analyst, "pending/consent", 403},
		{coder, "pending/consent", 200},
		{coder, "consented/consent", 200},
		{coder, "pending/session", 403},
		{coder, "consented/session", 403},
	} {
		if rec := get(c.who, "/api/videos/"+videos[c.video]+"/url"); rec.Code != c.code {
			t.Errorf("%s, %s video: %d %s; want %d", c.who.name, c.video, rec.Code, rec.Body, c.code)
		}
	}
	for _, id := range []string{"not-a-uuid", "11111111-2222-4333-8444-555555555555"} {
		if rec := get(analyst, "/api/videos/"+id+"/url"); rec.Code != 404 {
			t.Errorf("video %s: %d, want 404", id, rec.Code)
		}
	}

	// The link plays the video; with download it is saved under its name. Links expire in 10
	// minutes and are not cached.
	for _, download := range []bool{false, true} {
		path := "/api/videos/" + videos["consented/session"] + "/url"
		if download {
			path += "?download=true"
		}
		rec := get(analyst, path)
		var link struct {
			URL       string    `json:"url"`
			ExpiresAt time.Time `json:"expires_at"`
			Filename  string    `json:"filename"`
		}
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &link) != nil {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q, want no-store", cc)
		}
		if d := time.Until(link.ExpiresAt); d < 9*time.Minute || d > 11*time.Minute {
			t.Errorf("link expires in %v, want 10 minutes", d)
		}
		resp, err := http.Get(link.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "video of "+link.Filename {
			t.Errorf("fetching the link: %d %q", resp.StatusCode, body)
		}
		disposition := resp.Header.Get("Content-Disposition")
		if download != strings.HasPrefix(disposition, `attachment; filename="`+link.Filename) {
			t.Errorf("download=%v: Content-Disposition %q", download, disposition)
		}
	}
}

func TestDeletePreviewData(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	h := httpapi.New(newInstance(t, instance.Value(pool)))
	var labID, studyID, otherStudyID int64
	var studyUUID string
	if err := pool.QueryRow(ctx, `INSERT INTO labs (name) VALUES ('Preview Data Lab') RETURNING id`).Scan(&labID); err != nil {
		t.Fatal(err)
	}
	for _, id := range []*int64{&studyID, &otherStudyID} {
		if err := pool.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id, max_age_years) VALUES ('P', $1, 1, 9) RETURNING id`, labID).Scan(id); err != nil {
			t.Fatal(err)
		}
	}
	_ = pool.QueryRow(ctx, `SELECT uuid::text FROM studies WHERE id = $1`, studyID).Scan(&studyUUID)
	designer := role{name: "preview-designer", researcher: true, twoFactor: true, study: authz.GroupDesign}
	designerID := newUser(t, pool, 0, designer)
	if _, err := pool.Exec(ctx, `INSERT INTO study_researchers (study_id, user_id, grp) VALUES ($1, $2, 'design')`, studyID, designerID); err != nil {
		t.Fatal(err)
	}
	family := newUser(t, pool, 0, role{name: "preview-family"})
	// A preview and a real response in the study, a preview in another study; each with a video.
	add := func(study int64, preview bool, name string) {
		if _, err := pool.Exec(ctx, `WITH c AS (INSERT INTO children (user_id, given_name, birthday, gender) VALUES ($1, 'K', current_date - 300, 'f') RETURNING id),
			r AS (INSERT INTO responses (study_id, child_id, study_type_id, is_preview) SELECT $2, c.id, 1, $3 FROM c RETURNING id)
			INSERT INTO videos (s3_timestamp, frame_id, full_name, bucket, study_id, response_id) SELECT now(), '0-a', $4, 'recorder', $2, r.id FROM r`,
			family, study, preview, name); err != nil {
			t.Fatal(err)
		}
	}
	add(studyID, true, "preview-video.webm")
	add(studyID, false, "real-video.webm")
	add(otherStudyID, true, "other-preview-video.webm")

	req := httptest.NewRequest("DELETE", "/api/studies/"+studyUUID+"/preview-data", nil)
	credential(t, pool, designerID, designer)(req)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"responses":1,"videos":1}` {
		t.Fatalf("delete preview data: %d %s", rec.Code, rec.Body)
	}
	count := func(q string, args ...any) int {
		var n int
		if err := pool.QueryRow(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(`SELECT count(*) FROM responses WHERE study_id = $1 AND is_preview`, studyID); n != 0 {
		t.Errorf("%d preview responses left", n)
	}
	if n := count(`SELECT count(*) FROM videos WHERE full_name IN ('real-video.webm', 'other-preview-video.webm')`); n != 2 {
		t.Errorf("%d of the other videos left, want 2", n)
	}
	if n := count(`SELECT count(*) FROM videos WHERE full_name = 'preview-video.webm'`); n != 0 {
		t.Errorf("the preview video's row is left")
	}
	if n := count(`SELECT count(*) FROM video_deletions WHERE object_key = 'preview-video.webm' AND reason = 'preview'
		AND delete_after BETWEEN now() + interval '6 days' AND now() + interval '8 days'`); n != 1 {
		t.Errorf("the preview video's file is not scheduled for deletion in 7 days")
	}
	if n := count(`SELECT count(*) FROM video_deletions WHERE object_key IN ('real-video.webm', 'other-preview-video.webm')`); n != 0 {
		t.Errorf("other videos scheduled for deletion")
	}
	if n := count(`SELECT count(*) FROM study_logs WHERE study_id = $1 AND action = 'delete_preview_data' AND user_id = $2`, studyID, designerID); n != 1 {
		t.Errorf("the study's log does not record the deletion")
	}
}
