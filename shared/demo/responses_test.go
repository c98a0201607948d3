package demo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/accounts"
	"lookit.dev/platform/shared/demo"
	"lookit.dev/platform/shared/pipe"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/pgtest"
	"lookit.dev/platform/shared/protocol"
	"lookit.dev/platform/shared/videos"
)

// tableCounts is what a second SeedResponses must not change.
type tableCounts struct {
	Users, Children, Demographics, Responses, Rulings, Videos, Feedback, Tallied int
}

func countTables(t *testing.T, pool *pgxpool.Pool) tableCounts {
	t.Helper()
	var c tableCounts
	err := pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM children),
		(SELECT count(*) FROM demographic_data), (SELECT count(*) FROM responses), (SELECT count(*) FROM consent_rulings),
		(SELECT count(*) FROM videos), (SELECT count(*) FROM feedback), (SELECT sum(tallied_responses) FROM studies)`).
		Scan(&c.Users, &c.Children, &c.Demographics, &c.Responses, &c.Rulings, &c.Videos, &c.Feedback, &c.Tallied)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// seededResponse is a generated response with what the checks need.
type seededResponse struct {
	ID                                  int64
	UUID, Study, StudyUUID, FamilyEmail string
	StudyType                           int16
	Preview, Completed, ConsentFrame    bool
	ExpData, Conditions, Global         json.RawMessage
	Sequence, Eligibility, Recomputed   []string
	RecordingMethod                     *string
	CreatedAt, UpdatedAt                time.Time
	Birthday                            time.Time
	SnapshotOfFamily                    *bool
	Ruling                              string
	PaymentStatus, SessionStatus        string
	Star, Tallied, Consented            bool
}

func seededResponses(t *testing.T, pool *pgxpool.Pool) []seededResponse {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT r.id, r.uuid::text, s.name, s.uuid::text, u.email::text,
		r.study_type_id, r.is_preview, r.completed, r.completed_consent_frame, r.exp_data, r.conditions,
		r.global_event_timings, r.sequence, r.eligibility, study_eligibility(r.study_id, r.child_id, r.created_at::date),
		r.recording_method, r.created_at, r.updated_at, c.birthday::timestamptz, d.user_id = c.user_id,
		coalesce(cc.action, 'pending'), r.researcher_payment_status, r.researcher_session_status, r.researcher_star,
		r.tallied, response_consented(r.id)
		FROM responses r JOIN studies s ON s.id = r.study_id JOIN children c ON c.id = r.child_id
		JOIN users u ON u.id = c.user_id LEFT JOIN demographic_data d ON d.id = r.demographic_snapshot_id
		LEFT JOIN current_consent cc ON cc.response_id = r.id
		WHERE u.email LIKE '%@' || $1 OR c.uuid = $2 ORDER BY r.id`, demo.FamilyDomain, demo.PreviewChildUUID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []seededResponse
	for rows.Next() {
		var r seededResponse
		if err := rows.Scan(&r.ID, &r.UUID, &r.Study, &r.StudyUUID, &r.FamilyEmail, &r.StudyType, &r.Preview,
			&r.Completed, &r.ConsentFrame, &r.ExpData, &r.Conditions, &r.Global, &r.Sequence, &r.Eligibility,
			&r.Recomputed, &r.RecordingMethod, &r.CreatedAt, &r.UpdatedAt, &r.Birthday, &r.SnapshotOfFamily,
			&r.Ruling, &r.PaymentStatus, &r.SessionStatus, &r.Star, &r.Tallied, &r.Consented); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// inRange fails the test unless lo <= got <= hi.
func inRange(t *testing.T, what string, got, lo, hi int) {
	t.Helper()
	if got < lo || got > hi {
		t.Errorf("%s: %d, want %d to %d", what, got, lo, hi)
	}
}

func TestSeedResponses(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	if err := demo.Seed(ctx, pool, "pw-for-demo", ""); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	objects, err := demo.SeedResponses(ctx, pool, demo.Responses)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("SeedResponses(%d) took %s; %d video objects", demo.Responses, time.Since(start).Round(time.Millisecond), len(objects))
	first := countTables(t, pool)
	t.Logf("tables after seeding: %+v", first)
	start = time.Now()
	again, err := demo.SeedResponses(ctx, pool, demo.Responses)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("again: %s", time.Since(start).Round(time.Millisecond))
	if second := countTables(t, pool); second != first {
		t.Errorf("a second SeedResponses changed the tables: %+v, then %+v", first, second)
	}
	if !slices.Equal(objects, again) {
		t.Errorf("a second SeedResponses returned %d other objects (first %d)", len(again), len(objects))
	}
	rs := seededResponses(t, pool)
	if len(rs) != demo.Responses {
		t.Fatalf("%d generated responses, want %d", len(rs), demo.Responses)
	}
	now := time.Now()

	t.Run("families", func(t *testing.T) { checkFamilies(t, pool, now) })
	t.Run("responses", func(t *testing.T) { checkResponses(t, rs, now) })
	t.Run("exp_data", func(t *testing.T) {
		bad := 0
		for _, r := range rs {
			if r.StudyType != 1 {
				continue
			}
			if err := checkExpData(r); err != nil {
				if bad++; bad <= 3 {
					t.Errorf("response %s: %v\n%.600s…", r.UUID, err, r.ExpData)
				}
			}
		}
		if bad > 3 {
			t.Errorf("and %d more", bad-3)
		}
	})
	t.Run("consent rulings", func(t *testing.T) { checkRulings(t, pool, rs, now) })
	t.Run("videos", func(t *testing.T) { checkVideos(t, pool, rs, objects) })
	t.Run("feedback", func(t *testing.T) { checkFeedback(t, pool) })
	t.Run("tally", func(t *testing.T) { checkTally(t, pool, rs) })
}

func checkFamilies(t *testing.T, pool *pgxpool.Pool, now time.Time) {
	ctx := context.Background()
	var families, researchers, nameless, withoutOneDemographics int
	err := pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE is_researcher OR is_site_admin),
		count(*) FILTER (WHERE nickname = '' OR given_name = ''),
		count(*) FILTER (WHERE (SELECT count(*) FROM demographic_data d WHERE d.user_id = u.id) <> 1)
		FROM users u WHERE email LIKE '%@' || $1`, demo.FamilyDomain).Scan(&families, &researchers, &nameless, &withoutOneDemographics)
	if err != nil {
		t.Fatal(err)
	}
	if families != demo.Responses/5 || researchers != 0 || nameless != 0 || withoutOneDemographics != 0 {
		t.Errorf("%d families (want %d), %d researchers, %d without names, %d without exactly one demographics version",
			families, demo.Responses/5, researchers, nameless, withoutOneDemographics)
	}

	// Children: 1 to 3 a family, three months to six years old, with valid bit fields.
	rows, err := pool.Query(ctx, `SELECT u.email::text, c.birthday::timestamptz, c.gender, c.gestational_age_at_birth,
		c.languages_spoken, c.existing_conditions, c.created_at, u.created_at
		FROM children c JOIN users u ON u.id = c.user_id WHERE u.email LIKE '%@' || $1`, demo.FamilyDomain)
	if err != nil {
		t.Fatal(err)
	}
	perFamily := map[string]int{}
	var bilingual, multipleBirth int
	for rows.Next() {
		var email, gender string
		var birthday, created, familyCreated time.Time
		var ga *int16
		var langs, conds int64
		if err := rows.Scan(&email, &birthday, &gender, &ga, &langs, &conds, &created, &familyCreated); err != nil {
			t.Fatal(err)
		}
		perFamily[email]++
		if birthday.Before(now.AddDate(-6, 0, -1)) || birthday.After(now.AddDate(0, -3, 1)) {
			t.Errorf("%s: a child born %s", email, birthday.Format(time.DateOnly))
		}
		if l := accounts.Languages(langs); !l.Valid() || l.Count() == 0 {
			t.Errorf("%s: languages %b", email, langs)
		} else if l.Count() > 1 {
			bilingual++
		}
		if c := accounts.Conditions(conds); !c.Valid() {
			t.Errorf("%s: conditions %b", email, conds)
		} else if c.Has("multiple_birth") {
			multipleBirth++
		}
		if !accounts.ValidGestationalAge(ga) || !slices.ContainsFunc(accounts.GenderChoices(), func(c accounts.Choice) bool { return c.Value == gender }) {
			t.Errorf("%s: gestational age %v, gender %q", email, ga, gender)
		}
		if created.Before(familyCreated) || created.After(now) {
			t.Errorf("%s: a child added at %s, the family signed up at %s", email, created, familyCreated)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	total := 0
	for email, n := range perFamily {
		inRange(t, email+" children", n, 1, 3)
		total += n
	}
	inRange(t, "families with children", len(perFamily), families, families)
	inRange(t, "children", total, families*5/4, families*2)
	inRange(t, "children speaking more than one language", bilingual, 1, total/2)
	inRange(t, "twins and more", multipleBirth, 0, total/4)

	// Demographics: the survey's own validation accepts every version.
	rows, err = pool.Query(ctx, `SELECT u.email::text, d.number_of_children, d.child_birthdays, d.number_of_guardians,
		d.number_of_guardians_explanation, d.us_race_ethnicity_identification, d.age, d.gender, d.education_level,
		d.annual_income, d.country, d.state, d.density, d.lookit_referrer, d.additional_comments, d.created_at, u.created_at
		FROM demographic_data d JOIN users u ON u.id = d.user_id WHERE u.email LIKE '%@' || $1`, demo.FamilyDomain)
	if err != nil {
		t.Fatal(err)
	}
	today := accounts.DateOf(now)
	var us int
	for rows.Next() {
		var email string
		var in accounts.DemographicsInput
		var birthdays []time.Time
		var created, familyCreated time.Time
		if err := rows.Scan(&email, &in.NumberOfChildren, &birthdays, &in.NumberOfGuardians, &in.NumberOfGuardiansExplanation,
			&in.USRaceEthnicityIdentification, &in.Age, &in.Gender, &in.EducationLevel, &in.AnnualIncome, &in.Country,
			&in.State, &in.Density, &in.LookitReferrer, &in.AdditionalComments, &created, &familyCreated); err != nil {
			t.Fatal(err)
		}
		for _, b := range birthdays {
			in.ChildBirthdays = append(in.ChildBirthdays, b.Format(time.DateOnly))
		}
		if err := in.Validate(today); err != nil {
			t.Errorf("%s: demographics %+v: %v", email, in, err)
		}
		if len(in.ChildBirthdays) != perFamily[email] || in.Age == "" || in.EducationLevel == "" ||
			len(in.USRaceEthnicityIdentification) == 0 || in.Country == "" {
			t.Errorf("%s: demographics not filled in: %+v (%d children)", email, in, perFamily[email])
		}
		if in.Country == accounts.CountryUS {
			us++
		}
		if created.Before(familyCreated) {
			t.Errorf("%s: demographics answered at %s, before signing up at %s", email, created, familyCreated)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	inRange(t, "families in the US", us, families/2, families-1)
}

func checkResponses(t *testing.T, rs []seededResponse, now time.Time) {
	count := map[string]int{}
	for _, r := range rs {
		switch r.Study {
		case demo.FrameplayerStudy:
			count["internal"]++
		case demo.ExternalStudy:
			count["external"]++
		default:
			t.Errorf("response %s in %q", r.UUID, r.Study)
		}
		if r.Preview {
			count["preview"]++
			if r.FamilyEmail != demo.ResearcherEmail {
				t.Errorf("preview %s of %s", r.UUID, r.FamilyEmail)
			}
		} else if !strings.HasSuffix(r.FamilyEmail, "@"+demo.FamilyDomain) {
			t.Errorf("real response %s of %s", r.UUID, r.FamilyEmail)
		}
		if r.CreatedAt.Before(now.Add(-120*24*time.Hour-time.Minute)) || r.CreatedAt.After(now) ||
			r.UpdatedAt.Before(r.CreatedAt) || r.UpdatedAt.After(now) {
			t.Errorf("response %s created %s, updated %s", r.UUID, r.CreatedAt, r.UpdatedAt)
		}
		if r.CreatedAt.Before(r.Birthday.AddDate(0, 1, 0)) {
			t.Errorf("response %s on %s of a child born %s", r.UUID, r.CreatedAt, r.Birthday)
		}
		if r.SnapshotOfFamily == nil || !*r.SnapshotOfFamily {
			t.Errorf("response %s: demographic snapshot of the family: %v", r.UUID, r.SnapshotOfFamily)
		}
		if !slices.Equal(r.Eligibility, r.Recomputed) {
			t.Errorf("response %s: eligibility %v, the platform's %v", r.UUID, r.Eligibility, r.Recomputed)
		}
		if slices.Equal(r.Eligibility, []string{"Eligible"}) {
			count["eligible"]++
		} else if slices.Contains(r.Eligibility, "Ineligible_TooOld") {
			count["too old"]++
		}
		if r.PaymentStatus != "" {
			count["payment status"]++
		}
		if r.SessionStatus != "" {
			count["session status"]++
		}
		if r.Star {
			count["starred"]++
		}
		if r.Consented || r.StudyType == 2 {
			count["visible"]++
		}
		if r.StudyType == 2 {
			if string(r.ExpData) != "{}" || len(r.Sequence) != 0 || r.Completed || r.ConsentFrame || r.RecordingMethod != nil {
				t.Errorf("external response %s: exp_data %s, sequence %v, completed %v, consent frame %v, method %v",
					r.UUID, r.ExpData, r.Sequence, r.Completed, r.ConsentFrame, r.RecordingMethod)
			}
			continue
		}
		if r.Preview {
			continue
		}
		count["real internal"]++
		if r.Completed {
			count["completed"]++
		}
		if r.ConsentFrame {
			count["consent frame"]++
		}
	}
	t.Logf("responses: %v", count)
	n := demo.Responses
	inRange(t, "frameplayer responses", count["internal"], n*6/10, n*8/10)
	inRange(t, "external responses", count["external"], n*2/10, n*4/10)
	inRange(t, "previews", count["preview"], 5, n/10)
	real := count["real internal"]
	inRange(t, "completed frameplayer responses", count["completed"], real*65/100, real*92/100)
	inRange(t, "frameplayer responses past the consent frame", count["consent frame"], real*85/100, real-1)
	inRange(t, "eligible responses", count["eligible"], n*6/10, n-1)
	inRange(t, "responses of children too old", count["too old"], 1, n/3)
	inRange(t, "responses with a payment status", count["payment status"], 1, n/4)
	inRange(t, "responses with a session status", count["session status"], 1, n/4)
	inRange(t, "starred responses", count["starred"], 1, n/10)
	inRange(t, "responses researchers see", count["visible"], n/2, n)
}

func deref(s *string) string {
	if s == nil {
		return "none"
	}
	return *s
}

// frame is what every frame the runner saves has.
type frame struct {
	FrameType    string `json:"frameType"`
	EventTimings []struct {
		EventType string  `json:"eventType"`
		Timestamp string  `json:"timestamp"`
		VideoID   *string `json:"videoId"`
	} `json:"eventTimings"`
	VideoID *string `json:"videoId"`
}

// checkExpData checks a frameplayer response's data as the runner would have saved it.
func checkExpData(r seededResponse) error {
	var frames map[string]json.RawMessage
	if err := json.Unmarshal(r.ExpData, &frames); err != nil {
		return fmt.Errorf("exp_data is not an object of frames: %w", err)
	}
	if len(r.Sequence) > len(demo.Frames) || !slices.Equal(r.Sequence, demo.Frames[:len(r.Sequence)]) {
		return fmt.Errorf("sequence %v is not a beginning of %v", r.Sequence, demo.Frames)
	}
	if len(frames) != len(r.Sequence) {
		return fmt.Errorf("%d frames for a sequence of %d", len(frames), len(r.Sequence))
	}
	last := r.CreatedAt
	for _, id := range r.Sequence {
		var f frame
		if err := json.Unmarshal(frames[id], &f); err != nil {
			return fmt.Errorf("frame %s: %w", id, err)
		}
		want := map[string]string{"1-video-consent": "CONSENT", "4-exit-survey": "EXIT"}[id]
		if want == "" {
			want = "DEFAULT"
		}
		if f.FrameType != want || len(f.EventTimings) == 0 {
			return fmt.Errorf("frame %s: frameType %q, %d events", id, f.FrameType, len(f.EventTimings))
		}
		for _, e := range f.EventTimings {
			at, err := time.Parse(time.RFC3339Nano, e.Timestamp)
			if err != nil || at.Before(last.Truncate(time.Millisecond)) || at.After(r.UpdatedAt) || !strings.Contains(e.EventType, ":") {
				return fmt.Errorf("frame %s: event %s at %s (%v) out of order: after %s, session to %s", id, e.EventType, e.Timestamp, err, last, r.UpdatedAt)
			}
			last = at
			if (e.VideoID == nil) != (f.VideoID == nil) || e.VideoID != nil && *e.VideoID != *f.VideoID {
				return fmt.Errorf("frame %s: event %s of video %s, the frame's %s", id, e.EventType, deref(e.VideoID), deref(f.VideoID))
			}
		}
		if recorded := id == "1-video-consent" || strings.HasSuffix(id, "-test-trial"); recorded != (f.VideoID != nil) {
			return fmt.Errorf("frame %s: videoId %s", id, deref(f.VideoID))
		}
	}
	ended := len(r.Sequence) == len(demo.Frames)
	if r.Completed != ended || r.ConsentFrame != slices.Contains(r.Sequence, "1-video-consent") {
		return fmt.Errorf("completed %v and consent frame %v for sequence %v", r.Completed, r.ConsentFrame, r.Sequence)
	}
	if ended {
		var exit struct {
			BirthDate      string `json:"birthDate"`
			UseOfMedia     string `json:"useOfMedia"`
			DatabraryShare string `json:"databraryShare"`
			Withdrawal     *bool  `json:"withdrawal"`
			Feedback       *string
		}
		if err := json.Unmarshal(frames["4-exit-survey"], &exit); err != nil {
			return fmt.Errorf("exit survey: %w", err)
		}
		born, err := time.Parse(time.RFC3339Nano, exit.BirthDate)
		if err != nil || born.Sub(r.Birthday).Abs() > 370*24*time.Hour ||
			!slices.Contains([]string{"private", "scientific", "public"}, exit.UseOfMedia) ||
			!slices.Contains([]string{"yes", "no"}, exit.DatabraryShare) || exit.Withdrawal == nil || exit.Feedback == nil {
			return fmt.Errorf("exit survey %+v (born %s): %v", exit, r.Birthday, err)
		}
	}
	var global []map[string]any
	if err := json.Unmarshal(r.Global, &global); err != nil {
		return fmt.Errorf("global_event_timings: %w", err)
	}
	if r.Completed != (len(global) == 0) || len(global) > 0 && global[0]["eventType"] != "exitEarly" {
		return fmt.Errorf("completed %v with global events %s", r.Completed, r.Global)
	}
	var conditions map[string]struct {
		ConditionNum *int              `json:"conditionNum"`
		ParameterSet map[string]string `json:"parameterSet"`
	}
	if err := json.Unmarshal(r.Conditions, &conditions); err != nil {
		return fmt.Errorf("conditions: %w", err)
	}
	if c, ok := conditions["2-test-trial"]; !ok || c.ConditionNum == nil || len(c.ParameterSet) == 0 {
		return fmt.Errorf("conditions %s", r.Conditions)
	}
	return nil
}

func checkRulings(t *testing.T, pool *pgxpool.Pool, rs []seededResponse, now time.Time) {
	ctx := context.Background()
	var misplaced, early, unsigned, uncommented int
	err := pool.QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE NOT r.completed_consent_frame OR r.study_type_id <> 1),
		count(*) FILTER (WHERE cr.created_at < r.updated_at OR cr.created_at > now()),
		count(*) FILTER (WHERE u.email IS DISTINCT FROM $1),
		count(*) FILTER (WHERE cr.action = 'rejected' AND cr.comments = '')
		FROM consent_rulings cr JOIN responses r ON r.id = cr.response_id LEFT JOIN users u ON u.id = cr.arbiter_id`,
		demo.ResearcherEmail).Scan(&misplaced, &early, &unsigned, &uncommented)
	if err != nil {
		t.Fatal(err)
	}
	if misplaced+early+unsigned+uncommented != 0 {
		t.Errorf("rulings: %d on responses without a completed consent frame, %d before the session or in the future, "+
			"%d not by the demo researcher, %d rejections without a comment", misplaced, early, unsigned, uncommented)
	}
	var history, oldAccepted, newAccepted int
	err = pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM (SELECT response_id FROM consent_rulings GROUP BY response_id HAVING count(*) > 1) h),
		count(*) FILTER (WHERE action = 'accepted' AND created_at < now() - interval '21 days'),
		count(*) FILTER (WHERE action = 'accepted' AND created_at >= now() - interval '21 days')
		FROM current_consent`).Scan(&history, &oldAccepted, &newAccepted)
	if err != nil {
		t.Fatal(err)
	}
	ruling := map[string]int{}
	consentFrame := 0
	for _, r := range rs {
		if r.StudyType == 1 && r.ConsentFrame {
			consentFrame++
			ruling[r.Ruling]++
		}
	}
	t.Logf("standing rulings of %d responses past the consent frame: %v; ruled on twice %d; accepted over three weeks ago %d, since %d",
		consentFrame, ruling, history, oldAccepted, newAccepted)
	inRange(t, "accepted", ruling["accepted"], consentFrame*7/10, consentFrame*95/100)
	inRange(t, "rejected", ruling["rejected"], 1, consentFrame/6)
	inRange(t, "pending", ruling["pending"], 1, consentFrame/5)
	inRange(t, "responses ruled on more than once", history, 1, consentFrame/6)
	inRange(t, "accepted over three weeks ago", oldAccepted, consentFrame/3, consentFrame)
	inRange(t, "accepted in the last three weeks", newAccepted, 1, consentFrame/2)
}

func checkVideos(t *testing.T, pool *pgxpool.Pool, rs []seededResponse, objects []demo.VideoObject) {
	byID := map[int64]seededResponse{}
	for _, r := range rs {
		byID[r.ID] = r
	}
	rows, err := pool.Query(context.Background(), `SELECT v.response_id, v.study_id = r.study_id, v.frame_id, v.full_name,
		v.bucket, v.is_consent_footage, v.pipe_name, v.s3_timestamp, v.created_at
		FROM videos v JOIN responses r ON r.id = v.response_id ORDER BY v.id`)
	if err != nil {
		t.Fatal(err)
	}
	consentVideos, sessionVideos := map[int64]int{}, map[int64]int{}
	var listed []demo.VideoObject
	for rows.Next() {
		var id int64
		var sameStudy, consent bool
		var frameID, fullName, bucket string
		var pipeName *string
		var stamp, created time.Time
		if err := rows.Scan(&id, &sameStudy, &frameID, &fullName, &bucket, &consent, &pipeName, &stamp, &created); err != nil {
			t.Fatal(err)
		}
		listed = append(listed, demo.VideoObject{Bucket: bucket, Key: fullName})
		r, ok := byID[id]
		if !ok || r.StudyType != 1 || !sameStudy {
			t.Errorf("video %s of response %d, not a generated frameplayer session of its study", fullName, id)
			continue
		}
		if consent {
			consentVideos[id]++
		} else {
			sessionVideos[id]++
		}
		// The name is the runner's: its study, frame and response, its start time in ms.
		method := *r.RecordingMethod
		ext := path.Ext(fullName)
		name, err := pipe.ParseName(strings.TrimSuffix(fullName, ext))
		wantBucket, wantExt := videos.BucketRecorder, ".webm"
		if method == "pipe" {
			wantBucket, wantExt = videos.BucketPipe, ".mp4"
		}
		if err != nil || name.StudyID != r.StudyUUID || name.ResponseID != r.UUID || name.FrameID != frameID ||
			name.TimestampMS != stamp.UnixMilli() || bucket != wantBucket || ext != wantExt ||
			(pipeName != nil) != (method == "pipe") || created.Before(stamp) {
			t.Errorf("response %s (%s): video %s in %s (pipe name %v), %v", r.UUID, method, fullName, bucket, pipeName, err)
		}
		// The consent- prefix stays in the runner's uploads and goes in Pipe's renaming.
		if consent != (frameID == "1-video-consent") || name.Consent != (consent && method == "recordrtc") {
			t.Errorf("video %s of frame %s: consent footage %v", fullName, frameID, consent)
		}
		var frames map[string]frame
		if err := json.Unmarshal(r.ExpData, &frames); err != nil {
			t.Fatal(err)
		}
		videoID := name.Base
		if consent {
			videoID = "consent-" + videoID
		}
		if f, ok := frames[frameID]; !ok || f.VideoID == nil || *f.VideoID != videoID {
			t.Errorf("video %s: its frame's videoId %s, want %s", fullName, deref(f.VideoID), videoID)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	buckets := map[string]int{}
	for _, r := range rs {
		if r.StudyType != 1 {
			continue
		}
		want := 0
		if r.ConsentFrame {
			want = 1
		}
		if consentVideos[r.ID] != want {
			t.Errorf("response %s (consent frame %v): %d consent videos", r.UUID, r.ConsentFrame, consentVideos[r.ID])
		}
		trials := 0
		for _, id := range r.Sequence {
			if strings.HasSuffix(id, "-test-trial") {
				trials++
			}
		}
		if protocol.Withdrawn(false, r.ExpData, r.Sequence) {
			trials = 0 // withdrawn: session video deleted
			buckets["withdrawn"]++
		}
		if sessionVideos[r.ID] != trials {
			t.Errorf("response %s (sequence %v): %d session videos", r.UUID, r.Sequence, sessionVideos[r.ID])
		}
	}
	for _, o := range objects {
		buckets[o.Bucket]++
		if want := map[string]string{".webm": "video/webm", ".mp4": "video/mp4"}[path.Ext(o.Key)]; o.ContentType() != want || want == "" {
			t.Errorf("%s: content type %s", o.Key, o.ContentType())
		}
	}
	if !slices.Equal(objects, listed) {
		t.Errorf("SeedResponses returned %d objects, the videos table has %d", len(objects), len(listed))
	}
	t.Logf("videos: %d (%v)", len(objects), buckets)
	inRange(t, "videos", len(objects), len(rs), len(rs)*3)
	inRange(t, "videos in the runner's bucket", buckets[videos.BucketRecorder], len(objects)*2/3, len(objects)-1)
	inRange(t, "videos in Pipe's bucket", buckets[videos.BucketPipe], 1, len(objects)/3)
	inRange(t, "withdrawn sessions", buckets["withdrawn"], 1, len(rs)/10)
}

func checkFeedback(t *testing.T, pool *pgxpool.Pool) {
	var total, misplaced int
	err := pool.QueryRow(context.Background(), `SELECT count(*),
		count(*) FILTER (WHERE r.is_preview OR u.email IS DISTINCT FROM $1 OR NOT (r.study_type_id = 2 OR response_consented(r.id))
		                 OR f.created_at < r.updated_at OR f.created_at > now())
		FROM feedback f JOIN responses r ON r.id = f.response_id LEFT JOIN users u ON u.id = f.researcher_id`,
		demo.ResearcherEmail).Scan(&total, &misplaced)
	if err != nil {
		t.Fatal(err)
	}
	inRange(t, "feedback", total, 3, 15)
	if misplaced != 0 {
		t.Errorf("%d feedback on previews, unconsented sessions, by someone else or out of time", misplaced)
	}
}

// checkTally: the platform's own tally finds every generated response counted as it should be.
func checkTally(t *testing.T, pool *pgxpool.Pool, rs []seededResponse) {
	ctx := context.Background()
	tallied := 0
	for _, r := range rs {
		if r.Tallied {
			tallied++
		}
	}
	inRange(t, "tallied", tallied, len(rs)/2, len(rs)-1)
	var off int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM studies s
		WHERE s.tallied_responses <> (SELECT count(*) FROM responses r WHERE r.study_id = s.id AND r.tallied)`).Scan(&off); err != nil {
		t.Fatal(err)
	}
	if off != 0 {
		t.Errorf("%d studies whose tallied_responses is not their tallied responses", off)
	}
	state := func() (ids []int64, total int) {
		t.Helper()
		err := pool.QueryRow(ctx, `SELECT coalesce((SELECT array_agg(id ORDER BY id) FROM responses WHERE tallied), '{}'),
			(SELECT sum(tallied_responses) FROM studies)`).Scan(&ids, &total)
		if err != nil {
			t.Fatal(err)
		}
		return ids, total
	}
	ids, total := state()
	st := &postgres.Studies{Pool: pool}
	for _, r := range rs {
		if _, err := st.Tally(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	if after, afterTotal := state(); !slices.Equal(ids, after) || afterTotal != total {
		t.Errorf("the platform's tally changed the generated ones: %d tallied (total %d), then %d (total %d)",
			len(ids), total, len(after), afterTotal)
	}
}
