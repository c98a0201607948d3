package postgres_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"lookit.dev/platform/shared/accounts"
	"lookit.dev/platform/shared/downloads"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/pgtest"
)

// The summary CSV of a hand-made response, read from the database and written as a download is
// byte for byte the file derived by hand from Lookit's definitions (shared/downloads/testdata,
// whose hashed ids come from the compatibility test vectors of shared/hashedid).
func TestSummaryCSVMatchesLookitDefinitions(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	var labID, studyID int64
	if err := pool.QueryRow(ctx, `INSERT INTO labs (name) VALUES ('Hand-made Lab') RETURNING id`).Scan(&labID); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id) VALUES ('x', $1, 1) RETURNING id`, labID).Scan(&studyID); err != nil {
		t.Fatal(err)
	}
	langs, err := accounts.ParseLanguages([]string{"es", "en"})
	if err != nil {
		t.Fatal(err)
	}
	conds, err := accounts.ParseConditions([]string{"multiple_birth"})
	if err != nil {
		t.Fatal(err)
	}
	const (
		studyUUID  = "11111111-1111-4111-8111-111111111111"
		studySalt  = "33333333-3333-4333-8333-333333333333"
		childUUID  = "22222222-2222-4222-8222-222222222222"
		parentUUID = "22222222-2222-0222-0222-222222222222"
	)
	expData := `{"0-video-config": {"frameType": "DEFAULT", "generatedProperties": null,
	   "eventTimings": [{"eventType": "nextFrame", "timestamp": "2024-05-01T17:10:05.100Z"}]},
	 "1-video-consent": {"frameType": "CONSENT", "videoId": "videoStream_x_1-video-consent_y", "eventTimings": []},
	 "2-test-trial": {"frameType": "DEFAULT", "selectedImage": "left", "eventTimings": []},
	 "3-exit-survey": {"frameType": "EXIT", "birthDate": "2023-04-20T04:00:00.000Z", "databraryShare": "yes",
	   "useOfMedia": "scientific", "withdrawal": false, "feedback": "Fun! Zo\u00eb said \"again\",\nthanks", "eventTimings": []}}`
	steps := []struct {
		sql  string
		args []any
	}{
		{`UPDATE studies SET uuid = $2, salt = $3, name = $4 WHERE id = $1`, []any{studyID, studyUUID, studySalt, "Baby's First Study: Look! (v2)"}},
		{`INSERT INTO users (uuid, email, nickname) VALUES ($1, 'handmade-parent@example.org', 'Ana "Mom" O''Neil')`, []any{parentUUID}},
		{`INSERT INTO users (email, given_name, family_name, is_researcher) VALUES ('handmade-arbiter@example.org', 'Dr.', 'Rivera', true)`, nil},
		{`INSERT INTO children (uuid, user_id, given_name, birthday, gender, gestational_age_at_birth, additional_information, existing_conditions, languages_spoken)
		  SELECT $1, id, 'Zoë', '2023-04-22', 'f', 2, 'Twin, born early', $2, $3 FROM users WHERE uuid = $4`, []any{childUUID, int64(conds), int64(langs), parentUUID}},
		{`INSERT INTO responses (id, uuid, study_id, child_id, study_type_id, completed, completed_consent_frame, eligibility, sequence,
		    conditions, exp_data, global_event_timings, researcher_payment_status, researcher_star, created_at)
		  OVERRIDING SYSTEM VALUE
		  SELECT 4821, '5e1f2c3a-0b9d-4e7f-a1c2-d3e4f5a6b7c8', $1, c.id, 1, true, true, '{Eligible}',
		    '{0-video-config,1-video-consent,2-test-trial,3-exit-survey}',
		    '{"2-test-trial": {"conditionNum": 1, "parameterSet": {"SIDE": "left", "WAIT": 2.5}}}', $2, '[]', 'to_pay', true,
		    '2024-05-01 17:09:58.123456+00'
		  FROM children c WHERE c.uuid = $3`, []any{studyID, expData, childUUID}},
		{`INSERT INTO consent_rulings (response_id, action, arbiter_id, comments, created_at)
		  SELECT 4821, 'accepted', u.id, 'Confirmed by email', '2024-05-02 09:30:45+00' FROM users u WHERE u.email = 'handmade-arbiter@example.org'`, nil},
	}
	for _, s := range steps {
		if _, err := pool.Exec(ctx, s.sql, s.args...); err != nil {
			t.Fatalf("%s: %v", s.sql, err)
		}
	}
	var optional []string
	for _, c := range downloads.SummaryColumns() {
		if c.Optional {
			optional = append(optional, c.ID)
		}
	}
	dl, err := postgres.CheckDownload(studyID, postgres.ExportParams{File: "summary_csv", Columns: optional})
	if err != nil {
		t.Fatal(err)
	}
	d := &postgres.Downloads{Pool: pool}
	info, _, err := d.StudyInfo(ctx, studyID)
	if err != nil {
		t.Fatal(err)
	}
	if name := dl.FileName(info); name != "Baby-s-First-Study--Look---v2-_all-responses-identifiable.csv" {
		t.Errorf("file name %q: the identifiable columns must show in it", name)
	}
	var buf bytes.Buffer
	if err := d.Read(ctx, dl.Scope, nil, func(ctx context.Context, src downloads.Source) error {
		_, err := downloads.Write(ctx, &buf, dl.File, info, dl.Options, src)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../downloads/testdata/summary_all_columns.csv")
	if err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != string(want) {
		gl, wl := strings.Split(got, "\r\n"), strings.Split(string(want), "\r\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("line %d differs:\n got: %s\nwant: %s", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("got %d lines, want %d", len(gl), len(wl))
	}
}
