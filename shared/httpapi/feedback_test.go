package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"lookit.dev/platform/shared/appapi"
	"lookit.dev/platform/shared/authz"
)

// A researcher's feedback reaches the family twice: with its past sessions, and in one email when
// its preferences allow researchers' questions. A correction changes what the family reads and
// sends nothing more; feedback is refused on a response the researcher may not read.
func TestFeedbackToFamilies(t *testing.T) {
	d := newDataStudy(t, authz.GroupResearcher, authz.GroupAnalysis)
	ctx := context.Background()
	familyRole := role{name: "feedback-family"}
	d.callers["family"] = credential(t, d.pool, d.family, familyRole)
	var familyEmail string
	if err := d.pool.QueryRow(ctx, `SELECT email::text FROM users WHERE id = $1`, d.family).Scan(&familyEmail); err != nil {
		t.Fatal(err)
	}
	consented, _ := d.response(true, "accepted", 0, false, true)
	pending, _ := d.response(true, "", 0, false, true)
	var video string
	if err := d.pool.QueryRow(ctx, `INSERT INTO videos (s3_timestamp, frame_id, full_name, bucket, study_id, response_id)
		SELECT now(), '2-test', 'videoStream_' || r.uuid || '.webm', 'recorder', r.study_id, r.id FROM responses r WHERE r.uuid = $1
		RETURNING uuid::text`, consented).Scan(&video); err != nil {
		t.Fatal(err)
	}
	emails := func() int {
		var n int
		if err := d.pool.QueryRow(ctx, `SELECT count(*) FROM email_messages WHERE kind = 'response_feedback' AND $1 = ANY(to_addresses)`,
			familyEmail).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Only researchers with the feedback permission (EF), on a response they may read.
	if c := d.call("analysis", "POST", "/api/responses/"+consented+"/feedback", map[string]any{"comment": "Thanks!"}, nil); c != 403 {
		t.Errorf("feedback without EF: %d, want 403", c)
	}
	if c := d.call("researcher", "POST", "/api/responses/"+pending+"/feedback", map[string]any{"comment": "Thanks!"}, nil); c != 404 {
		t.Errorf("feedback on a response whose consent is pending: %d, want 404", c)
	}
	if rec := d.raw("researcher", "POST", "/api/responses/"+consented+"/feedback", map[string]any{"comment": "  "}); rec.Code != 400 ||
		!strings.Contains(rec.Body.String(), `"pointer":"/comment"`) {
		t.Errorf("blank feedback: %d %s, want 400 naming /comment", rec.Code, rec.Body.String())
	}
	if n := emails(); n != 0 {
		t.Fatalf("%d emails after refused feedback", n)
	}

	var f appapi.ResponseFeedback
	if c := d.call("researcher", "POST", "/api/responses/"+consented+"/feedback", map[string]any{"comment": "Your child was a star.\nThank you!"}, &f); c != 201 {
		t.Fatalf("feedback: %d", c)
	}
	if n := emails(); n != 1 {
		t.Errorf("%d feedback emails, want 1", n)
	}
	var body string
	if err := d.pool.QueryRow(ctx, `SELECT body_text FROM email_messages WHERE kind = 'response_feedback' AND $1 = ANY(to_addresses)`, familyEmail).Scan(&body); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "Your child was a star.") || !strings.Contains(body, "/studies/history/") {
		t.Errorf("the email does not carry the feedback and the link to past sessions:\n%s", body)
	}

	// A correction: the family reads the new text; no second email.
	if c := d.call("researcher", "PATCH", "/api/feedback/"+f.Id.String(), map[string]any{"comment": "Your child was a real star."}, nil); c != 200 {
		t.Errorf("edit feedback: %d", c)
	}
	if c := d.call("analysis", "PATCH", "/api/feedback/"+f.Id.String(), map[string]any{"comment": "Hijacked"}, nil); c != 403 {
		t.Errorf("edit without EF: %d, want 403", c)
	}
	if n := emails(); n != 1 {
		t.Errorf("%d feedback emails after a correction, want still 1", n)
	}
	var page appapi.PastSessionPage
	if c := d.call("family", "GET", "/api/me/past-sessions", nil, &page); c != 200 {
		t.Fatalf("past sessions: %d", c)
	}
	var seen bool
	for _, s := range page.Data {
		if s.Id.String() == consented {
			seen = true
			if s.Consent != "accepted" || len(s.Feedback) != 1 || s.Feedback[0].Comment != "Your child was a real star." ||
				len(s.Videos) != 1 || s.Videos[0].Id.String() != video {
				t.Errorf("the session as the family sees it: %+v", s)
			}
		}
	}
	// The family plays its session's video back; nobody else does through this route.
	var link appapi.VideoLink
	if c := d.call("family", "GET", "/api/me/videos/"+video+"/url", nil, &link); c != 200 || link.Url == "" {
		t.Errorf("the family's own video: %d %+v", c, link)
	}
	other := newUser(t, d.pool, 0, role{name: "other-family"})
	d.callers["other"] = credential(t, d.pool, other, role{name: "other-family"})
	if c := d.call("other", "GET", "/api/me/videos/"+video+"/url", nil, nil); c != 403 {
		t.Errorf("another family's video: %d, want 403", c)
	}
	if !seen || len(page.Data) != 2 {
		t.Errorf("past sessions: %d sessions, consented one seen %v; want both sessions past the consent frame", len(page.Data), seen)
	}

	// A family that turned off researchers' questions sees the feedback but gets no email.
	if _, err := d.pool.Exec(ctx, `UPDATE users SET email_response_questions = false WHERE id = $1`, d.family); err != nil {
		t.Fatal(err)
	}
	if c := d.call("researcher", "POST", "/api/responses/"+consented+"/feedback", map[string]any{"comment": "One more thing."}, nil); c != 201 {
		t.Fatalf("second feedback: %d", c)
	}
	if n := emails(); n != 1 {
		t.Errorf("%d feedback emails to a family that refuses them, want still 1", n)
	}
}
